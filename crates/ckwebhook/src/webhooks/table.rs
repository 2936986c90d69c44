//! Aligned columns, as `ckwebhook inbox list` prints them: a heading line,
//! then one line per row, cells padded to the widest in their column.

/// Rows under headings, printed with aligned columns.
pub(super) struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headings.
    pub(super) fn new(headings: &[&str]) -> Table {
        Table {
            rows: vec![headings.iter().map(|h| (*h).to_owned()).collect()],
        }
    }

    /// Adds a row (one cell per heading).
    pub(super) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The heading line and the rows, columns aligned, trailing spaces cut.
    pub(super) fn lines(&self) -> Vec<String> {
        aligned(&self.rows)
    }

    /// Prints [`Table::lines`].
    pub(super) fn print(&self) {
        for line in self.lines() {
            outln!("{line}");
        }
    }
}

/// `name  value` lines, the values aligned: one record's fields.
pub(super) fn fields(pairs: &[(&str, String)]) -> Vec<String> {
    let rows: Vec<Vec<String>> = pairs
        .iter()
        .map(|(name, value)| vec![(*name).to_owned(), value.clone()])
        .collect();
    aligned(&rows)
}

/// Prints [`fields`].
pub(super) fn print_fields(pairs: &[(&str, String)]) {
    for line in fields(pairs) {
        outln!("{line}");
    }
}

fn aligned(rows: &[Vec<String>]) -> Vec<String> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; columns];
    for cells in rows {
        for (width, cell) in widths.iter_mut().zip(cells) {
            *width = (*width).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|cells| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            padded.join("  ").trim_end().to_owned()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let mut table = Table::new(&["ID", "NAME"]);
        table.row(vec!["1".into(), "short".into()]);
        table.row(vec!["12345".into(), "é".into()]);
        assert_eq!(table.lines(), ["ID     NAME", "1      short", "12345  é"]);
        assert_eq!(
            fields(&[("id", "x".into()), ("a longer", String::new())]),
            ["id        x", "a longer"]
        );
    }
}

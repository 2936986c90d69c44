//! Text as a Postgres `text` column can hold it: Postgres refuses a NUL
//! character, which an event id, a type or an error may hold. Such a value
//! is stored escaped and marked by a leading U+FFFF (a noncharacter, never
//! meant to be exchanged); every other value is stored as it is, so ids
//! stay readable in `psql`. A value that begins with U+FFFF is escaped
//! too, so every stored value reads back exactly as it was written.

use std::borrow::Cow;

/// Marks an escaped value.
const MARK: char = '\u{FFFF}';

/// `text` as stored: itself, unless it holds a NUL or begins with the
/// mark; then the mark, and `text` with `\` doubled and NUL as `\0`.
pub(crate) fn encode(text: &str) -> Cow<'_, str> {
    if !text.contains('\0') && !text.starts_with(MARK) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    out.push(MARK);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A stored value as it was written.
pub(crate) fn decode(stored: String) -> String {
    let Some(escaped) = stored.strip_prefix(MARK) else {
        return stored;
    };
    let mut out = String::with_capacity(escaped.len());
    let mut chars = escaped.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('0') => out.push('\0'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// An optional stored value as it was written.
pub(crate) fn decode_opt(stored: Option<String>) -> Option<String> {
    stored.map(decode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_stored_as_it_is() {
        for text in ["evt_1", "", "a\\0b", "é\u{202E}", "x\u{FFFF}"] {
            assert!(matches!(encode(text), Cow::Borrowed(t) if t == text));
            assert_eq!(decode(text.to_owned()), text);
        }
    }

    #[test]
    fn nul_and_the_mark_are_escaped_and_read_back() {
        for text in [
            "a\0b",
            "\0",
            "\u{FFFF}",
            "\u{FFFF}evt\\0",
            "back\\slash\0and\\\\",
        ] {
            let stored = encode(text);
            assert!(!stored.contains('\0'), "{stored:?}");
            assert!(stored.starts_with(MARK), "{stored:?}");
            assert_eq!(decode(stored.into_owned()), text);
        }
        assert_eq!(encode("a\0b"), "\u{FFFF}a\\0b");
    }

    #[test]
    fn escaping_keeps_prefixes() {
        // A prefix that holds a NUL finds the ids that start with it.
        let id = encode("evt\0\\x\0tail");
        assert!(id.starts_with(&*encode("evt\0\\x")));
    }
}

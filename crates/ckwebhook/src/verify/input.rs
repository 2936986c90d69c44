//! Reading a captured request: a raw HTTP/1.1 request, or headers + body files.

use std::path::Path;

use crate::error::CliError;
use crate::util::read_file;

/// Headers (in order) and the raw body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Captured {
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

/// A raw request file: request line, headers, a blank line, the body.
pub(crate) fn read_request(path: &Path) -> Result<Captured, CliError> {
    let raw = read_file(path)?;
    parse_request(&raw).map_err(|err| CliError::bad_input(format!("{}: {err}", path.display())))
}

/// A `Name: value` headers file and a raw body file.
pub(crate) fn read_split(headers: &Path, body: &Path) -> Result<Captured, CliError> {
    let text = read_file(headers)?;
    let text = std::str::from_utf8(&text).map_err(|err| {
        CliError::bad_input(format!(
            "{}: not UTF-8 text (invalid byte at offset {}); a headers file holds `Name: value` lines",
            headers.display(),
            err.valid_up_to()
        ))
    })?;
    let headers_list = parse_header_lines(text.lines().enumerate())
        .map_err(|err| CliError::bad_input(format!("{}: {err}", headers.display())))?;
    Ok(Captured {
        headers: headers_list,
        body: read_file(body)?,
    })
}

fn parse_request(raw: &[u8]) -> Result<Captured, String> {
    let (head, body) = split_head(raw).ok_or(
        "no blank line between the headers and the body (a raw HTTP request is: request line, \
         headers, an empty line, the body)",
    )?;
    let head = std::str::from_utf8(head).map_err(|err| {
        format!(
            "the request head is not UTF-8 text (invalid byte at offset {})",
            err.valid_up_to()
        )
    })?;
    let mut lines = head.lines().enumerate();
    let request_line = lines.next().map(|(_, line)| line).unwrap_or_default();
    let parts: Vec<&str> = request_line.split_whitespace().collect();
    if parts.len() != 3 || !parts[2].starts_with("HTTP/") {
        return Err(format!(
            "line 1: expected a request line like `POST /webhooks/costkatana HTTP/1.1`, found {:?}",
            truncate(request_line)
        ));
    }
    Ok(Captured {
        headers: parse_header_lines(lines)?,
        body: body.to_vec(),
    })
}

/// Splits at the first `\r\n\r\n` or `\n\n`, whichever comes first.
fn split_head(raw: &[u8]) -> Option<(&[u8], &[u8])> {
    let crlf = find(raw, b"\r\n\r\n").map(|at| (at, 4));
    let lf = find(raw, b"\n\n").map(|at| (at, 2));
    let (at, len) = match (crlf, lf) {
        (Some(a), Some(b)) => {
            if a.0 <= b.0 {
                a
            } else {
                b
            }
        }
        (a, b) => a.or(b)?,
    };
    Some((&raw[..at], &raw[at + len..]))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `Name: value` lines (numbered from 0); blank lines are skipped.
fn parse_header_lines<'a>(
    lines: impl Iterator<Item = (usize, &'a str)>,
) -> Result<Vec<(String, String)>, String> {
    let mut headers = Vec::new();
    for (index, line) in lines {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let number = index + 1;
        if line.starts_with([' ', '\t']) {
            return Err(format!(
                "line {number}: folded (indented) header lines are not supported"
            ));
        }
        let (name, value) = line.split_once(':').ok_or_else(|| {
            format!(
                "line {number}: expected `Name: value`, found {:?}",
                truncate(line)
            )
        })?;
        let valid_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !valid_name {
            return Err(format!(
                "line {number}: {:?} is not a valid header name",
                truncate(name)
            ));
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    Ok(headers)
}

fn truncate(text: &str) -> String {
    text.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_crlf_and_lf_requests() {
        for raw in [
            &b"POST /h HTTP/1.1\r\nX-A: 1\r\nX-B:2\r\n\r\n{\"a\":1}\n"[..],
            &b"POST /h HTTP/1.1\nX-A: 1\nX-B:2\n\n{\"a\":1}\n"[..],
        ] {
            let captured = parse_request(raw).unwrap();
            assert_eq!(
                captured.headers,
                [("X-A".into(), "1".into()), ("X-B".into(), "2".into())]
            );
            assert_eq!(captured.body, b"{\"a\":1}\n");
        }
    }

    #[test]
    fn rejects_bad_syntax() {
        assert!(parse_request(b"POST /h HTTP/1.1\nX-A 1\n\n{}")
            .unwrap_err()
            .contains("line 2"));
        assert!(parse_request(b"X-A: 1\n\n{}")
            .unwrap_err()
            .contains("request line"));
        assert!(parse_request(b"POST /h HTTP/1.1\nX-A: 1")
            .unwrap_err()
            .contains("blank line"));
        assert!(parse_request(b"POST /h HTTP/1.1\nBad Name: 1\n\n")
            .unwrap_err()
            .contains("header name"));
        assert!(parse_request(b"POST /h HTTP/1.1\nX: \xff\n\n")
            .unwrap_err()
            .contains("UTF-8"));
    }
}

//! The API's values as safe terminal text: control characters escaped,
//! missing values as `-`, ms in words, bodies pretty-printed.

use costkatana_webhooks::diagnose::{minify, prettify};
use serde_json::Value;

/// `text` with control characters escaped (`\u{1b}`), so a value from the
/// API cannot move the cursor or recolour the terminal; `multiline` keeps
/// newlines and tabs.
pub(super) fn printable(text: &str, multiline: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && !(multiline && matches!(c, '\n' | '\t')) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// An optional value, escaped, or `-`.
pub(super) fn or_dash(value: Option<&str>) -> String {
    match value {
        Some(value) if !value.is_empty() => printable(value, false),
        _ => "-".to_owned(),
    }
}

/// A JSON value on one line: a string as its text, anything else as JSON.
pub(super) fn inline(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(text) => printable(text, false),
        other => printable(&other.to_string(), false),
    }
}

/// Milliseconds as the CLI's durations read: `30000 ms (30s)`.
pub(super) fn ms(value: u64) -> String {
    if value != 0 && value % 1000 == 0 {
        format!("{value} ms ({}s)", value / 1000)
    } else {
        format!("{value} ms")
    }
}

/// A response time in ms, rounded, or `-`.
pub(super) fn response_ms(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |ms| format!("{} ms", ms.round()))
}

/// A stored body: JSON text pretty-printed with its keys in the order
/// sent, other text as is (escaped), a JSON value pretty-printed.
pub(super) fn body(value: &Value) -> String {
    match value {
        Value::Null => "(none)".to_owned(),
        Value::String(text) if text.is_empty() => "(empty)".to_owned(),
        Value::String(text) => {
            if serde_json::from_str::<Value>(text).is_ok() {
                // Valid JSON holds no raw control characters: nothing to escape.
                String::from_utf8_lossy(&prettify(&minify(text.as_bytes()), 2)).into_owned()
            } else {
                printable(text, true)
            }
        }
        other => serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_as_text() {
        assert_eq!(printable("a\u{1b}[31mb\nc", false), "a\\u{1b}[31mb\\nc");
        assert_eq!(or_dash(None), "-");
        assert_eq!(or_dash(Some("")), "-");
        assert_eq!(inline(&json!("x")), "x");
        assert_eq!(inline(&json!({"a": 1})), "{\"a\":1}");
        assert_eq!(ms(30_000), "30000 ms (30s)");
        assert_eq!(ms(1_500), "1500 ms");
        assert_eq!(response_ms(Some(12.4)), "12 ms");
    }

    #[test]
    fn bodies_keep_their_key_order() {
        assert_eq!(
            body(&json!(r#"{"b":1.50,"a":[1]}"#)),
            "{\n  \"b\": 1.50,\n  \"a\": [\n    1\n  ]\n}"
        );
        assert_eq!(body(&json!("plain\u{1b}")), "plain\\u{1b}");
        assert_eq!(body(&Value::Null), "(none)");
    }
}

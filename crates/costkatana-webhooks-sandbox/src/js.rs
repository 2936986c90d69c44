//! How the live service, written in JavaScript, reads and writes a few
//! things: numbers in JSON, `parseInt`, string lengths, dates.

use serde_json::Value;

/// `x` as JSON writes a JavaScript number: whole numbers without a
/// fraction (`30000`, not `30000.0`).
pub(crate) fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 {
        // Exact: a whole number within 2^53.
        #[allow(clippy::cast_possible_truncation)]
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

/// `x` as JavaScript prints it in a template string (`${x}`).
pub(crate) fn number_text(x: f64) -> String {
    number(x).to_string()
}

/// JavaScript's `parseInt(text)` (radix 10, or 16 after `0x`): leading
/// white space and a sign, then as many digits as there are; `None` for
/// NaN. Saturates instead of losing precision.
pub(crate) fn parse_int(text: &str) -> Option<i64> {
    let text = text.trim_start();
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = match rest.get(..2) {
        Some("0x" | "0X") => (16, &rest[2..]),
        _ => (10, rest),
    };
    let mut value: Option<i64> = None;
    for c in digits.chars() {
        let Some(digit) = c.to_digit(radix) else {
            break;
        };
        let so_far = value.unwrap_or(0);
        value = Some(
            so_far
                .saturating_mul(i64::from(radix))
                .saturating_add(i64::from(digit)),
        );
    }
    value.map(|v| if negative { -v } else { v })
}

/// A string's length as JavaScript counts it (UTF-16 code units), which
/// is what the live service's length limits count.
pub(crate) fn length(text: &str) -> usize {
    text.encode_utf16().count()
}

/// A time in ms since the epoch as JSON writes a JavaScript `Date`.
pub(crate) fn date(ms: i64) -> Value {
    Value::String(costkatana_webhooks::samples::iso8601(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_javascript_does() {
        assert_eq!(number(30000.0).to_string(), "30000");
        assert_eq!(number(2.5).to_string(), "2.5");
        assert_eq!(number_text(-3.0), "-3");
    }

    #[test]
    fn parse_int_reads_as_javascript_does() {
        assert_eq!(parse_int("20"), Some(20));
        assert_eq!(parse_int("  7abc"), Some(7));
        assert_eq!(parse_int("-5"), Some(-5));
        assert_eq!(parse_int("0x10"), Some(16));
        assert_eq!(parse_int("1e3"), Some(1));
        assert_eq!(parse_int("abc"), None);
        assert_eq!(parse_int(""), None);
        assert_eq!(parse_int("-"), None);
    }

    #[test]
    fn lengths_count_utf16_units() {
        assert_eq!(length("abc"), 3);
        assert_eq!(length("é"), 1);
        assert_eq!(length("😀"), 2);
    }
}

//! Turning stored values into safe terminal text: control and
//! bidirectional-formatting characters escaped, ages and durations in
//! words, bodies pretty-printed.

use std::time::Duration;

use costkatana_webhooks::diagnose::{minify, prettify};

/// `text` with control characters escaped (`\u{1b}`), so a stored value
/// cannot move the cursor or recolour the terminal, and bidirectional
/// formatting characters too (`\u{202e}`), so it cannot make the text
/// around it read in another order than it is; `multiline` keeps
/// newlines and tabs.
pub(super) fn printable(text: &str, multiline: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let kept_layout = multiline && matches!(c, '\n' | '\t');
        if (c.is_control() && !kept_layout) || is_bidi_control(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The characters that reorder text on screen: the embeddings and
/// overrides (U+202A–U+202E), the isolates (U+2066–U+2069) and the marks
/// (U+200E, U+200F, and Arabic's U+061C).
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// An optional value, escaped, or `-`.
pub(super) fn or_dash(value: Option<&str>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| printable(v, false))
}

/// An age in the largest unit that keeps two digits: `12 s`, `5 min`, `3 h`, `9 d`.
pub(super) fn age(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    match secs {
        0..=119 => format!("{secs} s"),
        120..=7_199 => format!("{} min", secs / 60),
        7_200..=172_799 => format!("{} h", secs / 3600),
        _ => format!("{} d", secs / 86_400),
    }
}

/// A duration as given on the command line, in its largest exact unit.
pub(super) fn duration(value: Duration) -> String {
    let ms = value.as_millis();
    let units = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1000, "s"),
    ];
    units
        .iter()
        .find(|(size, _)| ms != 0 && ms % size == 0)
        .map_or_else(
            || format!("{ms}ms"),
            |(size, unit)| format!("{}{unit}", ms / size),
        )
}

/// The body as text: JSON pretty-printed with its keys and numbers as
/// sent, other UTF-8 as is, anything else with its invalid bytes replaced.
pub(super) fn body(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "(empty)".to_owned();
    }
    if serde_json::from_slice::<serde_json::Value>(bytes).is_ok() {
        // Valid JSON holds no raw control characters, but may hold
        // bidirectional ones.
        let pretty = String::from_utf8_lossy(&prettify(&minify(bytes), 2)).into_owned();
        return printable(&pretty, true);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => printable(text, true),
        Err(_) => format!(
            "(not UTF-8; invalid bytes shown as \u{fffd})\n{}",
            printable(&String::from_utf8_lossy(bytes), true)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_control_characters() {
        assert_eq!(printable("a\u{1b}[31mb\nc", false), "a\\u{1b}[31mb\\nc");
        assert_eq!(printable("a\nb\tc\r", true), "a\nb\tc\\r");
        assert_eq!(or_dash(None), "-");
    }

    #[test]
    fn escapes_bidirectional_formatting_characters() {
        // "evt_1" that would show as "evt_1 refused" read backwards.
        assert_eq!(
            printable("evt_\u{202E}desufer 1\u{202C}", false),
            "evt_\\u{202e}desufer 1\\u{202c}"
        );
        for c in ('\u{202A}'..='\u{202E}')
            .chain('\u{2066}'..='\u{2069}')
            .chain(['\u{200E}', '\u{200F}', '\u{061C}'])
        {
            let shown = printable(&format!("a{c}b"), true);
            assert!(!shown.contains(c), "{c:?} shown raw: {shown}");
            assert!(shown.starts_with("a\\u{"), "{shown}");
        }
        assert_eq!(printable("é ü ✓", false), "é ü ✓");
        assert_eq!(
            body("{\"title\":\"\u{2067}x\u{2069}\"}".as_bytes()),
            "{\n  \"title\": \"\\u{2067}x\\u{2069}\"\n}"
        );
    }

    #[test]
    fn ages_and_durations_in_words() {
        assert_eq!(age(-5), "0 s");
        assert_eq!(age(12_345), "12 s");
        assert_eq!(age(300_000), "5 min");
        assert_eq!(age(3 * 3_600_000), "3 h");
        assert_eq!(age(9 * 86_400_000), "9 d");
        assert_eq!(duration(Duration::from_secs(7 * 86_400)), "7d");
        assert_eq!(duration(Duration::from_secs(90)), "90s");
        assert_eq!(duration(Duration::from_millis(1)), "1ms");
        assert_eq!(duration(Duration::ZERO), "0ms");
    }

    #[test]
    fn bodies_as_text() {
        assert_eq!(
            body(br#"{"b":1.50,"a":[1]}"#),
            "{\n  \"b\": 1.50,\n  \"a\": [\n    1\n  ]\n}"
        );
        assert_eq!(body(b"plain\x1b text"), "plain\\u{1b} text");
        assert!(body(b"\xff{").starts_with("(not UTF-8"));
        assert_eq!(body(b""), "(empty)");
    }
}

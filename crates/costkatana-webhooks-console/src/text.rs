//! Stored values as safe page text: control and bidirectional-formatting
//! characters shown escaped, times in UTC, ages in words, bodies
//! pretty-printed within a size limit. HTML escaping itself is the
//! templates' job (maud escapes every value it is given).

use costkatana_webhooks::diagnose::{minify, prettify};
use costkatana_webhooks::samples::iso8601;

/// `text` with control characters escaped (`\u{1b}`), so a stored value
/// cannot hide text or break a line, and bidirectional formatting
/// characters too (`\u{202e}`), so it cannot make the text around it read
/// in another order than it is; `multiline` keeps newlines and tabs.
pub(crate) fn visible(text: &str, multiline: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let kept_layout = multiline && matches!(c, '\n' | '\t');
        if (c.is_control() && !kept_layout) || is_bidi_control(c) || is_invisible(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// An optional value, made visible, or `-`.
pub(crate) fn or_dash(value: Option<&str>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| visible(v, false))
}

/// `text` cut to at most `max` characters (an ellipsis marks the cut),
/// made visible.
pub(crate) fn clipped(text: &str, max: usize) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(max).collect();
    let shown = visible(&head, false);
    if chars.next().is_some() {
        format!("{shown}…")
    } else {
        shown
    }
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

/// Characters that take no room, so two ids that look the same could
/// differ: zero-width space, joiners, word joiner, the BOM.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// A time as `2026-12-06 03:02:26 UTC`: the core's ISO 8601 form
/// (`2026-12-06T03:02:26.000Z`) as a person reads it.
pub(crate) fn utc(ms: i64) -> String {
    let iso = iso8601(ms);
    format!("{} {} UTC", &iso[..10], &iso[11..19])
}

/// A time as an HTML `datetime` value: `2026-12-06T03:02:26Z`.
pub(crate) fn iso(ms: i64) -> String {
    format!("{}Z", &iso8601(ms)[..19])
}

/// The days from 1970-01-01 to a date (the inverse of the core's
/// `iso8601` date).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// An age in the largest unit that keeps it short: `12 s`, `5 min`,
/// `3 h`, `9 d`.
pub(crate) fn age(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    match secs {
        0..=119 => format!("{secs} s"),
        120..=7_199 => format!("{} min", secs / 60),
        7_200..=172_799 => format!("{} h", secs / 3600),
        _ => format!("{} d", secs / 86_400),
    }
}

/// A byte count as `512 B`, `14.2 KiB`, `3.0 MiB`.
pub(crate) fn bytes(n: usize) -> String {
    match n {
        0..=1023 => format!("{n} B"),
        1024..=1_048_575 => format!("{:.1} KiB", n as f64 / 1024.0),
        _ => format!("{:.1} MiB", n as f64 / 1_048_576.0),
    }
}

/// A body as the delivery page shows it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ShownBody {
    /// The text: JSON pretty-printed with its keys and numbers as sent,
    /// other UTF-8 as is, anything else with invalid bytes replaced; made
    /// visible.
    pub(crate) text: String,
    /// Whether it is JSON.
    pub(crate) json: bool,
    /// Whether the body was longer than the limit, so only its start is
    /// shown (as sent, not pretty-printed).
    pub(crate) truncated: bool,
    /// Whether the body was not UTF-8.
    pub(crate) lossy: bool,
}

/// `body` as text, at most `limit` bytes of it.
pub(crate) fn body(body: &[u8], limit: usize) -> ShownBody {
    if body.len() > limit {
        // Cut on a character boundary where the bytes are UTF-8.
        let mut end = limit;
        while end > 0 && std::str::from_utf8(&body[..end]).is_err() && limit - end < 4 {
            end -= 1;
        }
        let head = &body[..end];
        return ShownBody {
            text: visible(&String::from_utf8_lossy(head), true),
            json: false,
            truncated: true,
            lossy: std::str::from_utf8(head).is_err(),
        };
    }
    if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() {
        let pretty = String::from_utf8_lossy(&prettify(&minify(body), 2)).into_owned();
        return ShownBody {
            text: visible(&pretty, true),
            json: true,
            truncated: false,
            lossy: false,
        };
    }
    let lossy = std::str::from_utf8(body).is_err();
    ShownBody {
        text: visible(&String::from_utf8_lossy(body), true),
        json: false,
        truncated: false,
        lossy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_bidi_and_invisible_characters_are_shown_escaped() {
        assert_eq!(visible("a\u{1b}[31mb\nc", false), "a\\u{1b}[31mb\\u{a}c");
        assert_eq!(visible("a\nb\tc\r", true), "a\nb\tc\\u{d}");
        assert_eq!(
            visible("evt_\u{202E}desufer 1\u{202C}", false),
            "evt_\\u{202e}desufer 1\\u{202c}"
        );
        assert_eq!(visible("a\u{200B}b", false), "a\\u{200b}b");
        for c in ('\u{202A}'..='\u{202E}')
            .chain('\u{2066}'..='\u{2069}')
            .chain(['\u{200E}', '\u{200F}', '\u{061C}'])
        {
            assert!(!visible(&format!("a{c}b"), true).contains(c));
        }
        assert_eq!(visible("é ü ✓ <b>", false), "é ü ✓ <b>");
        assert_eq!(or_dash(None), "-");
        assert_eq!(clipped("abcdef", 3), "abc…");
        assert_eq!(clipped("abc", 3), "abc");
    }

    #[test]
    fn times_in_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_777_377_600_000), "2026-04-28 12:00:00 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        for days in [-1000, 0, 59, 60, 11_016, 20_000, 30_000] {
            let date = utc(days * 86_400_000);
            let (y, m, d) = (&date[..4], &date[5..7], &date[8..10]);
            let (y, m, d) = (y.parse().unwrap(), m.parse().unwrap(), d.parse().unwrap());
            assert_eq!(days_from_civil(y, m, d), days, "{date}");
        }
        assert_eq!(age(5_000), "5 s");
        assert_eq!(age(600_000), "10 min");
        assert_eq!(age(3 * 86_400_000), "3 d");
        assert_eq!(bytes(2048), "2.0 KiB");
    }

    #[test]
    fn bodies_pretty_printed_within_the_limit() {
        let shown = body(br#"{"b":1.50,"a":"\u202e"}"#, 1000);
        assert!(shown.json);
        assert_eq!(shown.text, "{\n  \"b\": 1.50,\n  \"a\": \"\\u202e\"\n}");
        let raw_bidi = body("{\"a\":\"\u{202E}x\"}".as_bytes(), 1000);
        assert!(raw_bidi.text.contains("\\u{202e}x"), "{}", raw_bidi.text);
        let long = body(&[b'x'; 100], 10);
        assert!(long.truncated && long.text == "xxxxxxxxxx");
        let binary = body(&[0xff, b'a'], 10);
        assert!(binary.lossy && !binary.json);
    }
}

//! Reading the API's ISO-8601 times as ms since the epoch.

/// `2026-12-06T01:02:03.456Z` (or with an offset such as `+02:00`, or
/// without fraction) as ms since the epoch; `None` when it is not one.
pub(crate) fn iso8601_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, rest) = text.split_once(['T', ' '])?;
    let mut date = date.splitn(3, '-');
    let year: i64 = date.next()?.parse().ok()?;
    let month: u32 = date.next()?.parse().ok()?;
    let day: u32 = date.next()?.parse().ok()?;
    let zone_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (time, zone) = rest.split_at(zone_at);
    let mut time = time.splitn(3, ':');
    let hour: i64 = time.next()?.parse().ok()?;
    let minute: i64 = time.next()?.parse().ok()?;
    let seconds = time.next().unwrap_or("0");
    let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
    let second: i64 = whole.parse().ok()?;
    let mut millis = 0i64;
    for (i, digit) in fraction.bytes().take(3).enumerate() {
        let digit = i64::from(digit.checked_sub(b'0').filter(|d| *d <= 9)?);
        millis += digit * [100, 10, 1][i];
    }
    let offset_minutes = match zone.as_bytes().first() {
        None | Some(b'Z' | b'z') => 0,
        Some(sign) => {
            let (h, m) = zone[1..].split_once(':').unwrap_or((&zone[1..], "0"));
            let minutes = h.parse::<i64>().ok()? * 60 + m.parse::<i64>().ok()?;
            if *sign == b'-' {
                -minutes
            } else {
                minutes
            }
        }
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(secs * 1000 + millis)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_core_writes() {
        for ms in [0, 1_777_377_600_000, 1_777_377_600_123, 951_782_400_000] {
            let text = costkatana_webhooks::samples::iso8601(ms);
            assert_eq!(iso8601_ms(&text), Some(ms), "{text}");
        }
    }

    #[test]
    fn offsets_fractions_and_nonsense() {
        assert_eq!(iso8601_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(iso8601_ms("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(iso8601_ms("1970-01-01T00:00:00.5Z"), Some(500));
        assert_eq!(iso8601_ms("1969-12-31T23:59:59-00:00"), Some(-1000));
        assert_eq!(iso8601_ms("yesterday"), None);
        assert_eq!(iso8601_ms("2026-13-01T00:00:00Z"), None);
    }
}

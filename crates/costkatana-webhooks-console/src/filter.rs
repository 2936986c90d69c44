//! A listing's filter as the query string spells it (`?state=dead&type=…
//! &since=24h&q=…&text=…&before=…`), and as the inbox is asked it.

use costkatana_webhooks::inbox::{EntryQuery, EntryState};

use crate::text::days_from_civil;

/// The longest filter value accepted (an event id or type is far shorter).
const MAX_VALUE: usize = 200;

/// Which deliveries a page, a bulk action or an API call is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Filter {
    pub(crate) state: Option<EntryState>,
    pub(crate) event_type: Option<String>,
    /// `since` as given (`24h`, `2026-12-01`, …).
    pub(crate) since: Option<String>,
    /// `since` resolved, in ms since the epoch.
    pub(crate) since_ms: Option<i64>,
    /// The start of the event id (an index answers it).
    pub(crate) q: Option<String>,
    /// Text anywhere in the event id, type, last error or body (a scan).
    pub(crate) text: Option<String>,
    /// The keyset cursor: ids below this one.
    pub(crate) before: Option<i64>,
}

impl Filter {
    /// The filter in `query` (a URL's query string or a form body); `now_ms`
    /// resolves a relative `since`. Unknown names are ignored; a value that
    /// cannot be read is an error that says which and why.
    pub(crate) fn parse(query: &str, now_ms: i64) -> Result<Filter, String> {
        let mut filter = Filter::default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            if value.chars().count() > MAX_VALUE {
                return Err(format!("{name} is longer than {MAX_VALUE} characters"));
            }
            match name.as_ref() {
                "state" => {
                    filter.state = Some(EntryState::parse(value).ok_or_else(|| {
                        "state must be one of pending, running, done, dead".to_owned()
                    })?);
                }
                "type" => filter.event_type = Some(value.to_owned()),
                "since" => {
                    filter.since_ms = Some(parse_since(value, now_ms)?);
                    filter.since = Some(value.to_owned());
                }
                "q" => filter.q = Some(value.to_owned()),
                "text" => filter.text = Some(value.to_owned()),
                "before" => {
                    filter.before = Some(
                        value
                            .parse()
                            .map_err(|_| "before must be a delivery id".to_owned())?,
                    );
                }
                _ => {}
            }
        }
        Ok(filter)
    }

    /// The same filter without its cursor: what bulk actions and counts use.
    pub(crate) fn without_cursor(&self) -> Filter {
        Filter {
            before: None,
            ..self.clone()
        }
    }

    /// The inbox query for a page of at most `limit`.
    pub(crate) fn entry_query(&self, limit: usize) -> EntryQuery {
        let mut query = EntryQuery::new().limit(limit);
        if let Some(state) = self.state {
            query = query.state(state);
        }
        if let Some(event_type) = &self.event_type {
            query = query.event_type(event_type.clone());
        }
        if let Some(since) = self.since_ms {
            query = query.received_since(since);
        }
        if let Some(q) = &self.q {
            query = query.event_id_prefix(q.clone());
        }
        if let Some(text) = &self.text {
            query = query.text(text.clone());
        }
        if let Some(before) = self.before {
            query = query.before_id(before);
        }
        query
    }

    /// The filter's name/value pairs, cursor included when set.
    pub(crate) fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(state) = self.state {
            pairs.push(("state", state.as_str().to_owned()));
        }
        if let Some(event_type) = &self.event_type {
            pairs.push(("type", event_type.clone()));
        }
        if let Some(since) = &self.since {
            pairs.push(("since", since.clone()));
        }
        if let Some(q) = &self.q {
            pairs.push(("q", q.clone()));
        }
        if let Some(text) = &self.text {
            pairs.push(("text", text.clone()));
        }
        if let Some(before) = self.before {
            pairs.push(("before", before.to_string()));
        }
        pairs
    }

    /// The query string (no `?`), empty for no filter.
    pub(crate) fn query_string(&self) -> String {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (name, value) in self.pairs() {
            serializer.append_pair(name, &value);
        }
        serializer.finish()
    }

    /// Whether anything but the cursor is set.
    pub(crate) fn is_empty(&self) -> bool {
        self.without_cursor() == Filter::default()
    }
}

/// `since` as ms since the epoch: a duration back from now (`90s`, `30m`,
/// `24h`, `7d`) or a UTC date, with or without a time (`2026-12-01`,
/// `2026-12-01T10:00`, `2026-12-01 10:00:00`).
fn parse_since(value: &str, now_ms: i64) -> Result<i64, String> {
    let wrong = || {
        format!(
            "since must be a duration back from now (30m, 24h, 7d) or a UTC date \
             (2026-12-01 or 2026-12-01T10:00), not {value:?}"
        )
    };
    let (digits, unit) =
        value.split_at(value.len() - value.chars().last().map_or(0, char::len_utf8));
    if let Some(unit) = unit
        .chars()
        .next()
        .filter(|_| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
    {
        let number: i64 = digits.parse().map_err(|_| wrong())?;
        let unit_ms = match unit {
            's' => 1000,
            'm' => 60_000,
            'h' => 3_600_000,
            'd' => 86_400_000,
            _ => return Err(wrong()),
        };
        return number
            .checked_mul(unit_ms)
            .filter(|ms| *ms >= 0)
            .map(|ms| now_ms - ms)
            .ok_or_else(wrong);
    }
    let (date, time) = match value.split_once(['T', ' ']) {
        Some((date, time)) => (date, time.trim_end_matches('Z')),
        None => (value, "00:00"),
    };
    let numbers = |text: &str, sep: char| -> Option<Vec<i64>> {
        text.split(sep).map(|part| part.parse().ok()).collect()
    };
    let date = numbers(date, '-')
        .filter(|d| d.len() == 3)
        .ok_or_else(wrong)?;
    let time = numbers(time, ':')
        .filter(|t| t.len() == 2 || t.len() == 3)
        .ok_or_else(wrong)?;
    let (month, day) = (date[1], date[2]);
    let (hour, minute, second) = (time[0], time[1], time.get(2).copied().unwrap_or(0));
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || !(0..24).contains(&hour)
        || !(0..60).contains(&minute)
        || !(0..60).contains(&second)
    {
        return Err(wrong());
    }
    let days = days_from_civil(date[0], month as u32, day as u32);
    Ok(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_777_377_600_000; // 2026-04-28 12:00:00 UTC

    #[test]
    fn reads_every_filter_and_writes_it_back() {
        let filter = Filter::parse(
            "state=dead&type=budget.exceeded&since=24h&q=evt_%E2%80%AE&text=proj_7&before=42&x=1",
            NOW,
        )
        .unwrap();
        assert_eq!(filter.state, Some(EntryState::Dead));
        assert_eq!(filter.since_ms, Some(NOW - 86_400_000));
        assert_eq!(filter.q.as_deref(), Some("evt_\u{202E}"));
        assert_eq!(filter.before, Some(42));
        assert_eq!(
            filter.query_string(),
            "state=dead&type=budget.exceeded&since=24h&q=evt_%E2%80%AE&text=proj_7&before=42"
        );
        assert_eq!(Filter::parse(&filter.query_string(), NOW).unwrap(), filter);
        let query = filter.entry_query(50);
        assert_eq!(query.before_id, Some(42));
        assert_eq!(query.event_id_prefix.as_deref(), Some("evt_\u{202E}"));
        assert_eq!(query.text.as_deref(), Some("proj_7"));
        assert!(filter.without_cursor().before.is_none());
        assert!(Filter::parse("before=3", NOW).unwrap().is_empty());
        assert!(Filter::parse("state=&type=+", NOW).unwrap().is_empty());
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert!(Filter::parse("state=gone", NOW)
            .unwrap_err()
            .contains("state"));
        assert!(Filter::parse("before=x", NOW).is_err());
        assert!(Filter::parse("since=3w", NOW).is_err());
        assert!(Filter::parse("since=2026-13-01", NOW).is_err());
        let long = format!("type={}", "a".repeat(201));
        assert!(Filter::parse(&long, NOW).unwrap_err().contains("200"));
    }

    #[test]
    fn since_as_a_duration_or_a_date() {
        assert_eq!(parse_since("30m", NOW), Ok(NOW - 1_800_000));
        assert_eq!(parse_since("2026-04-28", NOW), Ok(NOW - 12 * 3_600_000));
        assert_eq!(parse_since("2026-04-28T12:00", NOW), Ok(NOW));
        assert_eq!(parse_since("2026-04-28 12:00:01Z", NOW), Ok(NOW + 1000));
    }
}

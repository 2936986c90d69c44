//! A stored entry as the inspection API, the CLI and the console show it.

use std::fmt;

use bytes::Bytes;

use super::EntryState;
use crate::is_sensitive_header;

/// One entry of the inbox, whole.
///
/// `Debug` shows the id, state, attempts, event id and type, and the
/// header names; never header values, the dedupe key (the signature, for
/// bodies without an event id) or the body.
///
/// ```
/// use costkatana_webhooks::inbox::{Entry, EntryState};
///
/// let entry = Entry {
///     id: 7,
///     state: EntryState::Dead,
///     attempts: 8,
///     dedupe_key: "16:ns:event:evt_1".into(),
///     event_id: Some("evt_1".into()),
///     event_type: Some("budget.exceeded".into()),
///     headers: vec![("authorization".into(), "Bearer t0ken".into())],
///     body: bytes::Bytes::from_static(b"{}"),
///     received_at_ms: 1_777_377_600_000,
///     run_after_ms: 1_777_377_600_000,
///     settled_at_ms: None,
///     last_error: Some("slack answered 500".into()),
/// };
/// assert_eq!(entry.redacted_headers()[0].1, "[redacted]");
/// assert!(!format!("{entry:?}").contains("t0ken"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    /// The entry's id.
    pub id: i64,
    /// Its state.
    pub state: EntryState,
    /// Attempts so far (the current one included while running).
    pub attempts: u32,
    /// The dedupe key.
    pub dedupe_key: String,
    /// The event id, when the body had one.
    pub event_id: Option<String>,
    /// The event type, when the body was an event.
    pub event_type: Option<String>,
    /// The stored headers (signature, timestamp, captured), raw.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Bytes,
    /// Arrival, in ms since the epoch.
    pub received_at_ms: i64,
    /// The earliest next attempt, in ms since the epoch.
    pub run_after_ms: i64,
    /// When it became done or dead, in ms since the epoch.
    pub settled_at_ms: Option<i64>,
    /// The last attempt's error.
    pub last_error: Option<String>,
}

impl Entry {
    /// The headers with signature and credential values replaced by
    /// `[redacted]` (see [`is_sensitive_header`]), for showing.
    ///
    /// ```
    /// # use costkatana_webhooks::inbox::{Entry, EntryState};
    /// # let mut entry = Entry { id: 1, state: EntryState::Done, attempts: 1,
    /// #     dedupe_key: String::new(), event_id: None, event_type: None, headers: vec![],
    /// #     body: Default::default(), received_at_ms: 0, run_after_ms: 0, settled_at_ms: None,
    /// #     last_error: None };
    /// entry.headers = vec![
    ///     ("x-webhook-signature".into(), "v1=abc".into()),
    ///     ("x-webhook-timestamp".into(), "1777377600000".into()),
    /// ];
    /// let shown = entry.redacted_headers();
    /// assert_eq!(shown[0].1, "[redacted]");
    /// assert_eq!(shown[1].1, "1777377600000");
    /// ```
    pub fn redacted_headers(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .map(|(name, value)| {
                let shown = if is_sensitive_header(name) {
                    "[redacted]"
                } else {
                    value.as_str()
                };
                (name.clone(), shown.to_owned())
            })
            .collect()
    }

    /// The entry without its body, headers and key, as a listing shows it.
    ///
    /// ```
    /// # use costkatana_webhooks::inbox::{Entry, EntryState};
    /// # let entry = Entry { id: 1, state: EntryState::Done, attempts: 1,
    /// #     dedupe_key: String::new(), event_id: Some("e1".into()), event_type: None,
    /// #     headers: vec![], body: Default::default(), received_at_ms: 0, run_after_ms: 0,
    /// #     settled_at_ms: None, last_error: None };
    /// assert_eq!(entry.summary().event_id.as_deref(), Some("e1"));
    /// ```
    pub fn summary(&self) -> EntrySummary {
        EntrySummary {
            id: self.id,
            state: self.state,
            attempts: self.attempts,
            event_id: self.event_id.clone(),
            event_type: self.event_type.clone(),
            received_at_ms: self.received_at_ms,
            run_after_ms: self.run_after_ms,
            settled_at_ms: self.settled_at_ms,
            last_error: self.last_error.clone(),
        }
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Entry")
            .field("id", &self.id)
            .field("state", &self.state)
            .field("attempts", &self.attempts)
            .field("event_id", &self.event_id)
            .field("event_type", &self.event_type)
            .field("headers", &names)
            .field("body_len", &self.body.len())
            .field("received_at_ms", &self.received_at_ms)
            .field("last_error", &self.last_error)
            .finish_non_exhaustive()
    }
}

/// One entry as a listing shows it: no body, headers or dedupe key.
///
/// ```
/// use costkatana_webhooks::inbox::{EntryState, EntrySummary};
///
/// let summary = EntrySummary {
///     id: 3,
///     state: EntryState::Pending,
///     attempts: 0,
///     event_id: Some("evt_3".into()),
///     event_type: Some("cost.alert".into()),
///     received_at_ms: 1_777_377_600_000,
///     run_after_ms: 1_777_377_600_000,
///     settled_at_ms: None,
///     last_error: None,
/// };
/// assert_eq!(summary.state, EntryState::Pending);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntrySummary {
    /// The entry's id.
    pub id: i64,
    /// Its state.
    pub state: EntryState,
    /// Attempts so far.
    pub attempts: u32,
    /// The event id, when the body had one.
    pub event_id: Option<String>,
    /// The event type, when the body was an event.
    pub event_type: Option<String>,
    /// Arrival, in ms since the epoch.
    pub received_at_ms: i64,
    /// The earliest next attempt, in ms since the epoch.
    pub run_after_ms: i64,
    /// When it became done or dead, in ms since the epoch.
    pub settled_at_ms: Option<i64>,
    /// The last attempt's error.
    pub last_error: Option<String>,
}

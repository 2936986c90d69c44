//! Which entries a listing wants: filters and a keyset cursor.

use super::EntryState;

/// The most entries one listing returns.
pub const MAX_LIST: usize = 1000;

/// A listing's filters, newest entries first, paged by id.
///
/// Every filter is optional; those given must all hold. A page ends with
/// the smallest id it holds: pass it to [`EntryQuery::before_id`] for the
/// next page (a keyset cursor, so a page costs the same at any depth).
///
/// ```
/// use costkatana_webhooks::inbox::{EntryQuery, EntryState};
///
/// let dead_alerts = EntryQuery::new()
///     .state(EntryState::Dead)
///     .event_type("cost.alert")
///     .received_since(1_777_377_600_000)
///     .limit(20);
/// assert_eq!(dead_alerts.limit, 20);
/// let next_page = dead_alerts.clone().before_id(1_234);
/// assert_eq!(next_page.before_id, Some(1_234));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EntryQuery {
    /// Only entries in this state.
    pub state: Option<EntryState>,
    /// Only entries of this event type (as stored, such as `cost.alert`).
    pub event_type: Option<String>,
    /// Only entries that arrived at or after this time, in ms since the epoch.
    pub received_since_ms: Option<i64>,
    /// Only entries that arrived before this time, in ms since the epoch.
    pub received_before_ms: Option<i64>,
    /// Only entries whose event id is this text or starts with it.
    pub event_id_prefix: Option<String>,
    /// Only entries whose event id, event type, last error or body
    /// contains this text (see [`EntryQuery::text`]).
    pub text: Option<String>,
    /// Only entries with a smaller id: the cursor of the next page.
    pub before_id: Option<i64>,
    /// Only entries settled (made done or dead) before this time, in ms
    /// since the epoch: so only done or dead entries.
    pub settled_before_ms: Option<i64>,
    /// At most this many entries (default 50, at most [`MAX_LIST`]).
    pub limit: usize,
}

impl Default for EntryQuery {
    fn default() -> Self {
        EntryQuery {
            state: None,
            event_type: None,
            received_since_ms: None,
            received_before_ms: None,
            event_id_prefix: None,
            text: None,
            before_id: None,
            settled_before_ms: None,
            limit: 50,
        }
    }
}

impl EntryQuery {
    /// Every entry, newest first, 50 at a time.
    ///
    /// ```
    /// # use costkatana_webhooks::inbox::EntryQuery;
    /// assert_eq!(EntryQuery::new().limit, 50);
    /// ```
    pub fn new() -> Self {
        EntryQuery::default()
    }

    /// Only entries in `state`.
    ///
    /// ```
    /// # use costkatana_webhooks::inbox::{EntryQuery, EntryState};
    /// assert_eq!(EntryQuery::new().state(EntryState::Done).state, Some(EntryState::Done));
    /// ```
    #[must_use]
    pub fn state(mut self, state: EntryState) -> Self {
        self.state = Some(state);
        self
    }

    /// Only entries of `event_type`.
    ///
    /// ```
    /// # use costkatana_webhooks::inbox::EntryQuery;
    /// let query = EntryQuery::new().event_type("budget.exceeded");
    /// assert_eq!(query.event_type.as_deref(), Some("budget.exceeded"));
    /// ```
    #[must_use]
    pub fn event_type(mut self, event_type: impl Into<String>) -> Self {
        self.event_type = Some(event_type.into());
        self
    }

    /// Only entries that arrived at or after `ms` since the epoch.
    ///
    /// ```
    /// # use costkatana_webhooks::inbox::EntryQuery;
    /// assert_eq!(EntryQuery::new().received_since(5).received_since_ms, Some(5));
    /// ```
    #[must_use]
    pub fn received_since(mut self, ms: i64) -> Self {
        self.received_since_ms = Some(ms);
        self
    }

    /// Only entries that arrived before `ms` since the epoch.
    ///
    /// ```
    /// # use costkatana_webhooks::inbox::EntryQuery;
    /// assert_eq!(EntryQuery::new().received_before(9).received_before_ms, Some(9));
    /// ```
    #[must_use]
    pub fn received_before(mut self, ms: i64) -> Self {
        self.received_before_ms = Some(ms);
        self
    }

    /// Only entries whose event id is `prefix` or starts with it.
    ///
    /// ```
    /// # use costkatana_webhooks::inbox::EntryQuery;
    /// let query = EntryQuery::new().event_id_prefix("budget_");
    /// assert_eq!(query.event_id_prefix.as_deref(), Some("budget_"));
    /// ```
    #[must_use]
    pub fn event_id_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.event_id_prefix = Some(prefix.into());
        self
    }

    /// Only entries whose event id, event type, last error or body
    /// contains `text` (as bytes: case-sensitive). No index can answer
    /// it: a listing reads entries newest first until its page is full,
    /// quick when many match and as long as the table when none do, and a
    /// count reads every entry the other filters leave. Done entries keep
    /// no body unless their inbox keeps done bodies.
    ///
    /// ```
    /// # use costkatana_webhooks::inbox::EntryQuery;
    /// let query = EntryQuery::new().text("proj_42");
    /// assert_eq!(query.text.as_deref(), Some("proj_42"));
    /// ```
    #[must_use]
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// Only entries with an id below `id`: the next page after one that
    /// ended with `id`.
    ///
    /// ```
    /// # use costkatana_webhooks::inbox::EntryQuery;
    /// assert_eq!(EntryQuery::new().before_id(10).before_id, Some(10));
    /// ```
    #[must_use]
    pub fn before_id(mut self, id: i64) -> Self {
        self.before_id = Some(id);
        self
    }

    /// Only entries settled (made done or dead) before `ms` since the
    /// epoch: what a purge by age selects.
    ///
    /// ```
    /// # use costkatana_webhooks::inbox::{EntryQuery, EntryState};
    /// let week_old_dead = EntryQuery::new()
    ///     .state(EntryState::Dead)
    ///     .settled_before(1_777_377_600_000 - 7 * 86_400_000);
    /// assert_eq!(week_old_dead.settled_before_ms, Some(1_776_772_800_000));
    /// ```
    #[must_use]
    pub fn settled_before(mut self, ms: i64) -> Self {
        self.settled_before_ms = Some(ms);
        self
    }

    /// At most `limit` entries, between 1 and [`MAX_LIST`].
    ///
    /// ```
    /// # use costkatana_webhooks::inbox::{EntryQuery, MAX_LIST};
    /// assert_eq!(EntryQuery::new().limit(0).limit, 1);
    /// assert_eq!(EntryQuery::new().limit(usize::MAX).limit, MAX_LIST);
    /// ```
    #[must_use]
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit.clamp(1, MAX_LIST);
        self
    }
}

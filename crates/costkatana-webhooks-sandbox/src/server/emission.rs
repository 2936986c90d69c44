//! An event to emit in the sandbox, and what emitting it made.

use costkatana_webhooks::EventType;

/// An event to emit with [`RunningSandbox::emit`](crate::RunningSandbox::emit):
/// its type and, optionally, its `data`, user id and project id.
///
/// Without data it carries the core's realistic sample for its type
/// ([`costkatana_webhooks::samples`]); without a user id, the sandbox's
/// user (the one its API key names).
///
/// ```
/// use costkatana_webhooks::EventType;
/// use costkatana_webhooks_sandbox::Emission;
/// use serde_json::json;
///
/// let emission = Emission::new(EventType::BudgetExceeded)
///     .data(json!({"title": "Budget exceeded", "description": "Spent $1,250.50 of $1,000", "severity": "critical"}))
///     .project_id("65f0c0ffee0000000000f00d");
/// assert_eq!(emission.event_type(), &EventType::BudgetExceeded);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Emission {
    pub(crate) event_type: EventType,
    /// JSON text.
    pub(crate) data: Option<String>,
    pub(crate) user_id: Option<String>,
    pub(crate) project_id: Option<String>,
}

impl Emission {
    /// An event of `event_type`, with sample data.
    ///
    /// ```
    /// # use costkatana_webhooks::EventType;
    /// # use costkatana_webhooks_sandbox::Emission;
    /// let emission = Emission::new(EventType::CostAlert);
    /// ```
    pub fn new(event_type: EventType) -> Emission {
        Emission {
            event_type,
            data: None,
            user_id: None,
            project_id: None,
        }
    }

    /// The event's `data`, sent as given (the live service's events hold
    /// `title`, `description` and `severity` in it, and more by type). Its
    /// keys go out in `serde_json`'s order; `POST /sandbox/events` keeps
    /// the order of the text it is given.
    ///
    /// ```
    /// # use costkatana_webhooks::EventType;
    /// # use costkatana_webhooks_sandbox::Emission;
    /// let emission = Emission::new(EventType::CostAlert).data(serde_json::json!({"title": "Daily cost"}));
    /// ```
    #[must_use]
    pub fn data(mut self, data: serde_json::Value) -> Emission {
        self.data = Some(data.to_string());
        self
    }

    /// The event's `userId` (default: the sandbox's user).
    ///
    /// ```
    /// # use costkatana_webhooks::EventType;
    /// # use costkatana_webhooks_sandbox::Emission;
    /// let emission = Emission::new(EventType::CostAlert).user_id("65f0c0ffee0000000000beef");
    /// ```
    #[must_use]
    pub fn user_id(mut self, user_id: impl Into<String>) -> Emission {
        self.user_id = Some(user_id.into());
        self
    }

    /// The event's `projectId` (default: none, and the body has no
    /// `projectId` key).
    ///
    /// ```
    /// # use costkatana_webhooks::EventType;
    /// # use costkatana_webhooks_sandbox::Emission;
    /// let emission = Emission::new(EventType::CostAlert).project_id("65f0c0ffee0000000000f00d");
    /// ```
    #[must_use]
    pub fn project_id(mut self, project_id: impl Into<String>) -> Emission {
        self.project_id = Some(project_id.into());
        self
    }

    /// The event's type.
    ///
    /// ```
    /// # use costkatana_webhooks::EventType;
    /// # use costkatana_webhooks_sandbox::Emission;
    /// assert_eq!(Emission::new(EventType::CostAlert).event_type(), &EventType::CostAlert);
    /// ```
    pub fn event_type(&self) -> &EventType {
        &self.event_type
    }
}

/// What emitting an event made: its id and one delivery record per active
/// webhook subscribed to its type (none for an inactive webhook: that
/// event is gone for it, as on the live service).
///
/// ```
/// use costkatana_webhooks_sandbox::Emitted;
///
/// fn report(emitted: &Emitted) {
///     println!("{}: {} delivery(ies)", emitted.event_id, emitted.delivery_ids.len());
/// }
/// # let _ = report;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Emitted {
    /// `<type with _ for .>_<uuid4>`, such as `cost_alert_…`.
    pub event_id: String,
    /// The first attempt's record for each webhook, oldest webhook first.
    pub delivery_ids: Vec<String>,
}

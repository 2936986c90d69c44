//! Event severity.

use std::fmt;

/// How serious an event is: `low`, `medium`, `high` or `critical`; any other
/// string is kept as [`Severity::Other`].
///
/// Ordered from least to most serious, so `severity >= Severity::High`
/// reads naturally.
///
/// ```
/// use costkatana_webhooks::Severity;
///
/// assert_eq!(Severity::from_name("critical"), Severity::Critical);
/// assert!(Severity::Critical > Severity::High);
/// assert_eq!(Severity::from_name("urgent").as_str(), "urgent");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Severity {
    /// A severity this version does not know (ordered below `Low`).
    Other(String),
    /// `low`
    Low,
    /// `medium`
    Medium,
    /// `high`
    High,
    /// `critical`
    Critical,
}

impl Severity {
    /// The severity called `name` (case-insensitive).
    pub fn from_name(name: &str) -> Severity {
        // Compared in place: no lowercase copy of the name.
        [
            ("low", Severity::Low),
            ("medium", Severity::Medium),
            ("high", Severity::High),
            ("critical", Severity::Critical),
        ]
        .into_iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(name))
        .map_or_else(
            || Severity::Other(name.to_owned()),
            |(_, severity)| severity,
        )
    }

    /// The severity's name.
    pub fn as_str(&self) -> &str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
            Severity::Other(name) => name,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

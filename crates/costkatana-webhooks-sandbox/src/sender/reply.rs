//! What one attempt got back, and how the sender reads it (PROTOCOL.md §4).

use std::time::Duration;

/// The most bytes of an answer's body kept in a [`Reply::Status`].
const MAX_BODY_TEXT: usize = 500;

/// What one attempt got back.
///
/// The sender reads it as the Cost Katana sender does: 2xx is delivered;
/// 5xx and a time-out are retried while retries remain; everything else
/// (4xx of any kind, an unfollowed 3xx, a refused connection) fails at once.
///
/// ```
/// use costkatana_webhooks_sandbox::sender::Reply;
///
/// assert!(Reply::Status(204, String::new()).is_delivered());
/// assert!(Reply::Status(503, String::new()).is_retried());
/// assert!(Reply::Timeout.is_retried());
/// assert!(!Reply::Status(429, String::new()).is_retried());
/// assert!(!Reply::Unreachable("connection refused".into()).is_retried());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply {
    /// An HTTP answer: its status and body text (the first 500 bytes, cut
    /// at a character boundary and ending in `…` when longer).
    Status(u16, String),
    /// No answer within the time-out.
    Timeout,
    /// No connection: refused, unreachable, or an unknown host. The error
    /// and its causes, on one line.
    Unreachable(String),
    /// Any other failure of the request. The error and its causes.
    Broken(String),
}

impl Reply {
    /// Whether the delivery succeeded (a 2xx answer).
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::sender::Reply;
    /// assert!(!Reply::Status(302, String::new()).is_delivered());
    /// ```
    pub fn is_delivered(&self) -> bool {
        matches!(self, Reply::Status(200..=299, _))
    }

    /// Whether the sender tries again after it (5xx or a time-out), while
    /// retries remain.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::sender::Reply;
    /// assert!(Reply::Status(500, String::new()).is_retried());
    /// assert!(!Reply::Status(408, String::new()).is_retried());
    /// ```
    pub fn is_retried(&self) -> bool {
        matches!(self, Reply::Status(500..=599, _) | Reply::Timeout)
    }

    /// A short label for counts: the status code, `timeout`, `unreachable`
    /// or `error`.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::sender::Reply;
    /// assert_eq!(Reply::Status(200, "{}".into()).label(), "200");
    /// assert_eq!(Reply::Timeout.label(), "timeout");
    /// ```
    pub fn label(&self) -> String {
        match self {
            Reply::Status(status, _) => status.to_string(),
            Reply::Timeout => "timeout".into(),
            Reply::Unreachable(_) => "unreachable".into(),
            Reply::Broken(_) => "error".into(),
        }
    }

    /// The reply to a request that failed before an answer.
    pub(super) fn from_error(err: &reqwest::Error) -> Reply {
        if err.is_timeout() {
            Reply::Timeout
        } else if err.is_connect() {
            Reply::Unreachable(describe(err))
        } else {
            Reply::Broken(describe(err))
        }
    }

    /// The reply to an answer whose body could not be read to the end.
    pub(super) fn unreadable(status: u16, err: &reqwest::Error) -> Reply {
        if err.is_timeout() {
            Reply::Timeout
        } else {
            Reply::Status(status, format!("<body unreadable: {}>", describe(err)))
        }
    }

    /// The reply to an answer read in full: its status and body text, cut
    /// as [`Reply::Status`] says.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::sender::Reply;
    /// let Reply::Status(413, body) = Reply::answered(413, "é".repeat(400)) else { panic!() };
    /// assert!(body.ends_with('…') && body.len() <= 503);
    /// ```
    pub fn answered(status: u16, text: String) -> Reply {
        Reply::Status(status, truncate(text))
    }
}

/// One attempt: its number, what it got back, how long it took and what
/// comes next.
///
/// ```
/// use std::time::Duration;
/// use costkatana_webhooks_sandbox::sender::{Attempt, Reply};
///
/// fn line(attempt: &Attempt) -> String {
///     match attempt.next_delay {
///         Some(delay) => format!("attempt {}: {}, again in {delay:?}", attempt.number, attempt.reply.label()),
///         None => format!("attempt {}: {}", attempt.number, attempt.reply.label()),
///     }
/// }
/// # let _ = line;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attempt {
    /// 1 for the first attempt, 2 for the first retry, and so on.
    pub number: u32,
    /// What it got back.
    pub reply: Reply,
    /// From sending the request to reading the whole answer.
    pub latency: Duration,
    /// The wait before the next attempt, when there will be one.
    pub next_delay: Option<Duration>,
}

/// The error and its causes on one line (reqwest's own text says little:
/// the cause, such as "Connection refused", is further down).
fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn truncate(mut text: String) -> String {
    if text.len() > MAX_BODY_TEXT {
        let mut end = MAX_BODY_TEXT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_bodies_are_cut_at_a_character_boundary() {
        assert_eq!(truncate("short".into()), "short");
        let long = "é".repeat(400);
        let cut = truncate(long);
        assert!(cut.ends_with('…'));
        assert_eq!(cut.len(), 500 + '…'.len_utf8());
    }
}

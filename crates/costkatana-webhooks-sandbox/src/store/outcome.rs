//! What one attempt's answer means for its record, as the live delivery
//! service reads it: 2xx delivered; 5xx or a time-out retried while
//! retries are left; a refused connection or an unknown host failed at
//! once (`network_error`); any other answer failed at once (`http_error`);
//! a time-out with none left `timeout`; anything else `request_error`.

use serde_json::value::RawValue;

use crate::js;
use crate::model::delivery::{DeliveryError, ResponseRecord};
use crate::model::event::compact;
use crate::sender::{Cause, Exchange, Reply};

/// How much of an answer's body a record keeps (characters as JavaScript
/// counts them), as on the live service.
const MAX_STORED_BODY: usize = 10_000;

/// What becomes of the record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
    Delivered,
    /// Failed, with another attempt scheduled; the reason for its message.
    Retry(String),
    Failed(DeliveryError),
}

/// Reads `exchange`, sent with `retries_left` and a time-out of
/// `timeout_ms`.
pub(crate) fn judge(exchange: &Exchange, retries_left: f64, timeout_ms: f64) -> Verdict {
    let retries = retries_left > 0.0;
    let url = exchange.url.as_str();
    match (&exchange.reply, exchange.cause) {
        (Reply::Status(200..=299, _), None) => Verdict::Delivered,
        (Reply::Status(status @ 500..=599, _), None) if retries => {
            Verdict::Retry(format!("HTTP {status}"))
        }
        (Reply::Status(status, _), None) => Verdict::Failed(
            DeliveryError::new("http_error", format!("HTTP {status}")).code(status.to_string()),
        ),
        (Reply::Timeout, _) if retries => Verdict::Retry("Timeout".into()),
        (Reply::Timeout, _) => Verdict::Failed(
            DeliveryError::new(
                "timeout",
                format!("Request timed out after {}ms", js::number_text(timeout_ms)),
            )
            .code("ECONNABORTED"),
        ),
        (_, Some(Cause::Refused)) => {
            let (host, port) = host_and_port(url);
            Verdict::Failed(
                DeliveryError::new(
                    "network_error",
                    format!("connect ECONNREFUSED {host}:{port}"),
                )
                .code("ECONNREFUSED"),
            )
        }
        (_, Some(Cause::UnknownHost)) => {
            let (host, _) = host_and_port(url);
            Verdict::Failed(
                DeliveryError::new("network_error", format!("getaddrinfo ENOTFOUND {host}"))
                    .code("ENOTFOUND"),
            )
        }
        (_, Some(Cause::Reset)) => Verdict::Failed(
            DeliveryError::new("request_error", "socket hang up").code("ECONNRESET"),
        ),
        (Reply::Unreachable(why) | Reply::Broken(why), _) => {
            Verdict::Failed(DeliveryError::new("request_error", why.clone()))
        }
        (reply, _) => Verdict::Failed(DeliveryError::new("request_error", reply.label())),
    }
}

/// The answer as the record keeps it: status, headers, body re-encoded
/// and cut, time; for a time-out, status 0 and nothing else; `None` when
/// there was no answer.
pub(crate) fn response_record(exchange: &Exchange, now: i64) -> Option<ResponseRecord> {
    let response_time = u64::try_from(exchange.latency.as_millis()).unwrap_or(u64::MAX);
    match (&exchange.reply, exchange.cause) {
        (Reply::Status(status, _), None) => Some(ResponseRecord {
            status_code: *status,
            headers: exchange.headers.clone(),
            body: stored_body(&exchange.body),
            response_time,
            timestamp: now,
        }),
        (Reply::Timeout, _) => Some(ResponseRecord {
            status_code: 0,
            headers: Vec::new(),
            body: String::new(),
            response_time,
            timestamp: now,
        }),
        _ => None,
    }
}

/// The live service parses an answer as JSON when it can and stores it
/// re-encoded (compact), or else stores the text as a JSON string; then it
/// cuts it at 10,000 characters.
fn stored_body(text: &str) -> String {
    let encoded = if serde_json::from_str::<&RawValue>(text.trim()).is_ok() {
        compact(text.trim())
    } else {
        serde_json::Value::from(text).to_string()
    };
    let mut units = 0;
    for (at, c) in encoded.char_indices() {
        units += c.len_utf16();
        if units > MAX_STORED_BODY {
            return format!("{}... [truncated]", &encoded[..at]);
        }
    }
    encoded
}

/// The URL's host and port (its scheme's default when not given), as
/// Node's error messages show them.
fn host_and_port(url: &str) -> (String, String) {
    reqwest::Url::parse(url).map_or_else(
        |_| (url.to_owned(), String::new()),
        |url| {
            let host = url.host_str().unwrap_or_default().to_owned();
            let port = url
                .port_or_known_default()
                .map(|p| p.to_string())
                .unwrap_or_default();
            (host, port)
        },
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn exchange(reply: Reply, cause: Option<Cause>) -> Exchange {
        exchange_to(reply, cause, "http://127.0.0.1:4000/hook")
    }

    fn exchange_to(reply: Reply, cause: Option<Cause>, url: &str) -> Exchange {
        Exchange {
            reply,
            latency: Duration::from_millis(12),
            headers: Vec::new(),
            body: String::new(),
            cause,
            url: url.into(),
        }
    }

    fn failure(verdict: Verdict) -> (&'static str, String, Option<String>) {
        match verdict {
            Verdict::Failed(error) => (error.kind, error.message, error.code),
            other => panic!("not a failure: {other:?}"),
        }
    }

    #[test]
    fn answers_and_retries() {
        let ok = exchange(Reply::Status(204, String::new()), None);
        assert_eq!(judge(&ok, 0.0, 30_000.0), Verdict::Delivered);
        let busy = exchange(Reply::Status(503, String::new()), None);
        assert_eq!(
            judge(&busy, 1.0, 30_000.0),
            Verdict::Retry("HTTP 503".into())
        );
        assert_eq!(
            failure(judge(&busy, 0.0, 30_000.0)),
            ("http_error", "HTTP 503".into(), Some("503".into()))
        );
        let gone = exchange(Reply::Status(410, String::new()), None);
        assert_eq!(
            failure(judge(&gone, 3.0, 30_000.0)),
            ("http_error", "HTTP 410".into(), Some("410".into()))
        );
        let slow = exchange(Reply::Timeout, None);
        assert_eq!(judge(&slow, 0.5, 5000.0), Verdict::Retry("Timeout".into()));
        assert_eq!(
            failure(judge(&slow, -0.5, 5000.0)),
            (
                "timeout",
                "Request timed out after 5000ms".into(),
                Some("ECONNABORTED".into())
            )
        );
    }

    #[test]
    fn no_answer_fails_at_once() {
        let refused = exchange(Reply::Unreachable("refused".into()), Some(Cause::Refused));
        assert_eq!(
            failure(judge(&refused, 3.0, 30_000.0)),
            (
                "network_error",
                "connect ECONNREFUSED 127.0.0.1:4000".into(),
                Some("ECONNREFUSED".into())
            )
        );
        let unknown = exchange_to(
            Reply::Unreachable("dns".into()),
            Some(Cause::UnknownHost),
            "https://nowhere.invalid/x",
        );
        assert_eq!(
            failure(judge(&unknown, 3.0, 30_000.0)),
            (
                "network_error",
                "getaddrinfo ENOTFOUND nowhere.invalid".into(),
                Some("ENOTFOUND".into())
            )
        );
        let reset = exchange(Reply::Broken("reset".into()), Some(Cause::Reset));
        assert_eq!(failure(judge(&reset, 3.0, 30_000.0)).0, "request_error");
    }

    #[test]
    fn bodies_are_kept_as_the_live_service_keeps_them() {
        assert_eq!(
            stored_body(r#" {"received": true} "#),
            r#"{"received":true}"#
        );
        assert_eq!(stored_body("OK"), r#""OK""#);
        assert_eq!(stored_body(""), r#""""#);
        let long = stored_body(&"x".repeat(20_000));
        assert!(long.ends_with("... [truncated]"));
        assert_eq!(long.chars().count(), 10_000 + "... [truncated]".len());
        let record = response_record(&exchange(Reply::Timeout, None), 7).unwrap();
        assert_eq!(
            (
                record.status_code,
                record.body.as_str(),
                record.response_time
            ),
            (0, "", 12)
        );
        assert!(response_record(
            &exchange(Reply::Unreachable(String::new()), Some(Cause::Refused)),
            7
        )
        .is_none());
    }
}

//! The status table of DESIGN.md, row by row, through the one function
//! every adapter uses.

use costkatana_webhooks::{Error, ErrorKind, Outcome};
use serde_json::Value;

#[test]
fn every_row_of_the_status_table() {
    let rows = [
        (ErrorKind::InProgress, 503, "in_progress", true),
        (ErrorKind::HandlerFailed, 500, "handler_failed", false),
        (ErrorKind::Refused, 422, "refused", false),
        (ErrorKind::StoreUnavailable, 503, "store_unavailable", true),
        (ErrorKind::Overloaded, 503, "overloaded", true),
        (ErrorKind::MissingSignature, 400, "missing_signature", false),
        (
            ErrorKind::MalformedSignature,
            400,
            "malformed_signature",
            false,
        ),
        (ErrorKind::InvalidSignature, 401, "invalid_signature", false),
        (ErrorKind::StaleTimestamp, 401, "stale_timestamp", false),
        (ErrorKind::FutureTimestamp, 503, "future_timestamp", true),
        (ErrorKind::PayloadTooLarge, 413, "payload_too_large", false),
        (
            ErrorKind::MethodNotAllowed,
            405,
            "method_not_allowed",
            false,
        ),
        (ErrorKind::BodyUnreadable, 503, "body_unreadable", false),
    ];
    assert_eq!(rows.len(), ErrorKind::ALL.len(), "every kind has a row");
    for (kind, status, code, retry_after) in rows {
        let answer = Outcome::Failed(Error::new(kind)).answer();
        assert_eq!(answer.status, status, "{kind:?}");
        assert_eq!(answer.content_type, "application/json");
        assert_eq!(answer.retry_after_secs.is_some(), retry_after, "{kind:?}");
        let allow = answer.headers().find(|(name, _)| *name == "allow");
        assert_eq!(
            allow.map(|(_, v)| v),
            (kind == ErrorKind::MethodNotAllowed).then(|| "POST".to_owned()),
            "{kind:?}"
        );
        let body: Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(body["error"], code);
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert_eq!(kind.sender_retries(), status >= 500, "{kind:?}");
        assert_eq!(Outcome::Failed(kind.into()).label(), code);
    }
}

#[test]
fn success_rows() {
    let processed = Outcome::Processed {
        event_id: Some("evt_1".into()),
    }
    .answer();
    assert_eq!(processed.status, 200);
    let body: Value = serde_json::from_str(&processed.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"received": true, "event_id": "evt_1"})
    );

    let duplicate = Outcome::Duplicate { event_id: None }.answer();
    assert_eq!(duplicate.status, 200);
    let body: Value = serde_json::from_str(&duplicate.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"received": true, "duplicate": true, "event_id": null})
    );
}

#[test]
fn answers_list_every_header_they_carry() {
    let busy = Outcome::Failed(ErrorKind::InProgress.into()).answer();
    assert_eq!(
        busy.headers().collect::<Vec<_>>(),
        [
            ("content-type", "application/json".to_owned()),
            ("retry-after", "5".to_owned())
        ]
    );
    let done = Outcome::Processed { event_id: None }.answer();
    assert_eq!(done.headers().count(), 1, "only the content type");
}

#[test]
fn error_bodies_carry_only_the_code_and_message() {
    let err = Error::with_detail(ErrorKind::HandlerFailed, "the handler failed");
    let body: Value = serde_json::from_str(&Outcome::Failed(err).answer().body).unwrap();
    assert_eq!(body.as_object().unwrap().len(), 2, "only error and message");
}

#[test]
fn store_errors_reach_the_caller_without_their_detail() {
    let err: Error =
        costkatana_webhooks::dedupe::StoreError::new("redis: 10.0.0.7:6379 refused").into();
    let answer = Outcome::Failed(err).answer();
    assert_eq!(answer.status, 503);
    assert!(!answer.body.contains("10.0.0.7"), "{}", answer.body);
}

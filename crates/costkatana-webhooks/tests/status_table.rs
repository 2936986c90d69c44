//! The status table of DESIGN.md, row by row, through the one function
//! every adapter uses.

use costkatana_webhooks::{Error, ErrorKind, Outcome};
use serde_json::Value;

#[test]
fn every_row_of_the_status_table() {
    let rows = [
        (ErrorKind::InProgress, 503, "in_progress", true),
        (ErrorKind::HandlerFailed, 500, "handler_failed", false),
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
        (ErrorKind::FutureTimestamp, 401, "future_timestamp", false),
        (ErrorKind::PayloadTooLarge, 413, "payload_too_large", false),
        (
            ErrorKind::MethodNotAllowed,
            405,
            "method_not_allowed",
            false,
        ),
        (ErrorKind::BodyUnreadable, 400, "body_unreadable", false),
    ];
    assert_eq!(rows.len(), ErrorKind::ALL.len(), "every kind has a row");
    for (kind, status, code, retry_after) in rows {
        let answer = Outcome::Failed(Error::new(kind)).response();
        assert_eq!(answer.status, status, "{kind:?}");
        assert_eq!(answer.content_type, "application/json");
        assert_eq!(answer.retry_after_secs.is_some(), retry_after, "{kind:?}");
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
    .response();
    assert_eq!(processed.status, 200);
    let body: Value = serde_json::from_str(&processed.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"received": true, "event_id": "evt_1"})
    );

    let duplicate = Outcome::Duplicate { event_id: None }.response();
    assert_eq!(duplicate.status, 200);
    let body: Value = serde_json::from_str(&duplicate.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"received": true, "duplicate": true, "event_id": null})
    );
}

#[test]
fn error_bodies_carry_only_the_code_and_message() {
    let err = Error::with_detail(ErrorKind::HandlerFailed, "the handler failed");
    let body: Value = serde_json::from_str(&Outcome::Failed(err).response().body).unwrap();
    assert_eq!(body.as_object().unwrap().len(), 2, "only error and message");
}

#[test]
fn store_errors_reach_the_caller_without_their_detail() {
    let err: Error =
        costkatana_webhooks::dedupe::StoreError::new("redis: 10.0.0.7:6379 refused").into();
    let answer = Outcome::Failed(err).response();
    assert_eq!(answer.status, 503);
    assert!(!answer.body.contains("10.0.0.7"), "{}", answer.body);
}

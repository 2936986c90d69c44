//! The holes closed by the hardening work, one test each: every one of
//! them failed before its fix.

mod support;

use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::signing::sign;
use costkatana_webhooks::{ErrorKind, ManualClock, Scheme, Verifier};
use support::{NOW, SECRET};

const BODY: &str = r#"{"eventId":"evt_1","eventType":"cost.alert"}"#;

fn verifier() -> Verifier {
    Verifier::builder()
        .secret(SECRET)
        .clock(Arc::new(ManualClock::new(NOW)))
        .build()
        .unwrap()
}

#[test]
fn a_forgery_learns_nothing_about_the_clock() {
    for offset_ms in [400_000, -400_000, 0] {
        let forged = sign(Scheme::Current, "not the secret", NOW + offset_ms, BODY.as_bytes());
        let err = verifier().verify(&forged, BODY).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidSignature, "{offset_ms}: {err}");
        assert!(!err.message().contains(" s "), "no times in {:?}", err.message());
    }
}

#[test]
fn an_authentic_delivery_from_the_future_is_retried_not_refused() {
    let ahead = sign(Scheme::Documented, SECRET, NOW + 400_000, BODY.as_bytes());
    let err = verifier().verify(&ahead, BODY).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FutureTimestamp);
    let answer = err.answer();
    assert_eq!(answer.status, 503, "its retry re-sends the timestamp, which ages into the window");
    assert!(answer.retry_after_secs.is_some());
    assert!(err.message().contains("400 s in the future"), "{}", err.message());
}

#[test]
fn an_authentic_delivery_that_is_too_old_stays_refused() {
    let old = sign(Scheme::Current, SECRET, NOW - 301_000, BODY.as_bytes());
    let err = verifier().verify(&old, BODY).unwrap_err();
    assert_eq!((err.kind(), err.status()), (ErrorKind::StaleTimestamp, 401));
}


/// The reproduction: past 60 s, future 300 s, TTL 60 s, the sender's clock
/// 250 s ahead. The same request 120 s later was processed twice; such a
/// TTL is now refused, and the shortest one allowed remembers the event.
#[tokio::test]
async fn the_dedupe_memory_covers_the_whole_window() {
    let clock = Arc::new(ManualClock::new(NOW));
    let build = |ttl_secs: u64| {
        support::receiver_on(&clock)
            .past_tolerance(Duration::from_secs(60))
            .future_tolerance(Duration::from_secs(300))
            .dedupe_ttl(Duration::from_secs(ttl_secs))
            .fallback(|_: costkatana_webhooks::Payload| async { Ok(()) })
            .build()
    };
    let err = build(60).unwrap_err().to_string();
    assert!(
        err.contains("dedupe TTL (60 s) is shorter than the timestamp window (60 s past + 300 s future = 360 s)"),
        "{err}"
    );
    let receiver = build(360).unwrap();
    let body = br#"{"eventId":"evt_skewed","eventType":"cost.alert"}"#.to_vec();
    let headers = sign(Scheme::Current, SECRET, NOW + 250_000, &body);
    let send = || receiver.receive("POST", &headers, body.clone());
    assert_eq!(support::code(&send().await), "processed");
    clock.advance_ms(120_000);
    assert_eq!(support::code(&send().await), "duplicate");
}

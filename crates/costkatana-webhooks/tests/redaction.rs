//! `Debug` never shows what must stay secret: the secret, captured
//! credentials such as `Authorization`, the body, or the signature.

mod support;

use std::sync::{Arc, Mutex};

use costkatana_webhooks::signing::sign;
use costkatana_webhooks::{Delivery, ManualClock, Payload, Receiver, Scheme};
use support::{Request, NOW, SECRET};

const TOKEN: &str = "Bearer t0ken-that-must-not-leak";
const BODY_MARKER: &str = "body-marker-that-must-not-leak";

#[tokio::test]
async fn deliveries_and_verified_requests_print_no_credentials_body_or_signature() {
    let clock = Arc::new(ManualClock::new(NOW));
    let printed = Arc::new(Mutex::new(String::new()));
    let seen = printed.clone();
    let builder = Receiver::builder()
        .secret(SECRET)
        .clock(clock)
        .capture_header("x-api-key")
        .fallback(move |payload: Payload, delivery: Delivery| {
            *seen.lock().unwrap() = format!("{delivery:?} {:?}", delivery.verified());
            assert_eq!(
                delivery.header("authorization"),
                Some(TOKEN),
                "still readable"
            );
            let _ = payload;
            async { Ok(()) }
        });
    let shown_builder = format!("{builder:?}");
    let receiver = builder.build().unwrap();

    let body = format!(
        r#"{{"eventId":"evt_1","eventType":"cost.alert","data":{{"note":"{BODY_MARKER}"}}}}"#
    );
    let mut request = Request::raw(body.clone().into_bytes());
    request.headers.push(("Authorization".into(), TOKEN.into()));
    request
        .headers
        .push(("X-Api-Key".into(), "k3y-that-must-not-leak".into()));
    assert_eq!(support::code(&request.send(&receiver).await), "processed");

    let signature = sign(Scheme::Current, SECRET, NOW, body.as_bytes())[1]
        .1
        .clone();
    let shown = format!(
        "{} {receiver:?} {:?} {shown_builder}",
        printed.lock().unwrap(),
        receiver.verifier()
    );
    assert!(
        shown.contains("Delivery") && shown.contains("Verified"),
        "{shown}"
    );
    assert!(
        shown.contains("authorization"),
        "header names are shown: {shown}"
    );
    for hidden in [
        TOKEN,
        "k3y-that-must-not-leak",
        BODY_MARKER,
        &signature,
        SECRET,
    ] {
        assert!(!shown.contains(hidden), "{hidden:?} leaked into {shown}");
    }
}

#[test]
fn template_deliveries_keyed_on_the_signature_do_not_print_it() {
    // The dedupe key of a body without an id is the signature; `Debug`
    // leaves the key out.
    let body = br#""{\"text\": \"hi\"}""#;
    let signature = sign(Scheme::Current, SECRET, NOW, body)[1].1.clone();
    let verifier = costkatana_webhooks::Verifier::builder()
        .secret(SECRET)
        .build()
        .unwrap();
    let verified = verifier
        .verify_at(&sign(Scheme::Current, SECRET, NOW, body), &body[..], NOW)
        .unwrap();
    let shown = format!("{verified:?}");
    assert!(!shown.contains(&signature), "{shown}");
    assert!(
        shown.contains(&format!("body_len: {}", body.len())),
        "{shown}"
    );
}

//! The rejection log: why requests were refused, with a diagnosis where
//! one can be told, never the body, a signature or a credential.

mod support;

use std::sync::Arc;

use costkatana_webhooks::receiver::Diagnosis;
use costkatana_webhooks::signing::{sign, signature_hex};
use costkatana_webhooks::testing::TestDelivery;
use costkatana_webhooks::{ManualClock, Payload, Receiver, Scheme};
use support::{NOW, SECRET};

fn receiver(clock: &Arc<ManualClock>) -> Receiver {
    Receiver::builder()
        .secret(SECRET)
        .clock(clock.clone())
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .unwrap()
}

const BODY: &str = r#"{"eventId":"evt_1","eventType":"cost.alert","data":{"amount":125.50}}"#;

#[tokio::test]
async fn each_rejection_is_kept_with_its_diagnosis() {
    let clock = Arc::new(ManualClock::new(NOW));
    let receiver = receiver(&clock);
    let peer = "198.51.100.4".parse().ok();
    let kit = receiver.test();

    // Another secret altogether, from a known peer.
    let wrong = TestDelivery::new(BODY).signed_with("whsec_other");
    kit.clone().remote(peer.unwrap()).send(wrong).await;
    // Signed over a compact copy, sent pretty.
    let pretty = "{\n  \"eventId\": \"evt_1\",\n  \"eventType\": \"cost.alert\",\n  \"data\": {\n    \"amount\": 125.50\n  }\n}";
    let compact = signature_hex(SECRET, &NOW.to_string(), BODY.as_bytes());
    kit.send(TestDelivery::new(pretty).header("X-Webhook-Signature", &compact))
        .await;
    // The sender's copy of the secret ends with a newline.
    kit.send(TestDelivery::new(BODY).signed_with(format!("{SECRET}\n")))
        .await;
    // Seconds where milliseconds are due: authentic, so judged stale.
    kit.send(TestDelivery::new(BODY).signed_at(NOW / 1000))
        .await;
    kit.send(TestDelivery::new("").method("GET")).await;

    let kept = receiver.rejections();
    let seen: Vec<(&str, Option<Diagnosis>)> =
        kept.iter().map(|r| (r.reason, r.diagnosis)).collect();
    assert_eq!(
        seen,
        [
            ("method_not_allowed", None),
            ("stale_timestamp", Some(Diagnosis::TimestampInSeconds)),
            ("invalid_signature", Some(Diagnosis::SenderSecretWhitespace)),
            ("invalid_signature", Some(Diagnosis::ReserializedBody)),
            ("invalid_signature", Some(Diagnosis::NoSecretMatches)),
        ]
    );
    let first = kept.last().unwrap();
    assert_eq!(first.remote, peer);
    assert_eq!(first.scheme, Some(Scheme::Current));
    assert_eq!(first.body_bytes, Some(BODY.len()));
    assert_eq!(first.status, 401);
    assert_eq!(first.at_ms, NOW);
    let shown = format!("{kept:?}");
    assert!(
        !shown.contains("evt_1") && !shown.contains(&compact[..16]),
        "{shown}"
    );
}

#[tokio::test]
async fn the_side_with_the_extra_whitespace_is_named() {
    let clock = Arc::new(ManualClock::new(NOW));
    // The receiver's secret ends with a newline; the sender signs without it.
    let padded = Receiver::builder()
        .secrets([
            costkatana_webhooks::Secret::with_surrounding_whitespace(format!("{SECRET}\n"))
                .unwrap(),
        ])
        .clock(clock.clone())
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .unwrap();
    let answer = padded
        .test()
        .send(TestDelivery::new(BODY).signed_with(SECRET))
        .await;
    assert_eq!(answer.reason(), "invalid_signature");
    let diagnosis = padded.rejections()[0].diagnosis.unwrap();
    assert_eq!(diagnosis, Diagnosis::SecretWhitespace);
    assert!(diagnosis.as_str().contains("receiver's"), "{diagnosis}");
    assert!(
        diagnosis.advice().contains("this receiver's"),
        "{}",
        diagnosis.advice()
    );

    // The sender's secret ends with CRLF or a space; the receiver's is right.
    for end in ["\r\n", " "] {
        let receiver = receiver(&clock);
        let signed = TestDelivery::new(BODY).signed_with(format!("{SECRET}{end}"));
        receiver.test().send(signed).await;
        let diagnosis = receiver.rejections()[0].diagnosis.unwrap();
        assert_eq!(diagnosis, Diagnosis::SenderSecretWhitespace, "{end:?}");
        assert!(diagnosis.as_str().contains("sender's"), "{diagnosis}");
        assert!(diagnosis
            .advice()
            .contains("where the sender's is configured"));
    }
}

#[tokio::test]
async fn diagnoses_are_rate_limited_and_the_log_is_bounded() {
    let clock = Arc::new(ManualClock::new(NOW));
    let receiver = Receiver::builder()
        .secret(SECRET)
        .clock(clock.clone())
        .rejection_log(10)
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .unwrap();
    let forged = sign(Scheme::Current, "whsec_forger", NOW, BODY.as_bytes());
    for _ in 0..8 {
        receiver.receive("POST", &forged, BODY).await;
    }
    let examined = |receiver: &Receiver| {
        receiver
            .rejections()
            .iter()
            .filter(|r| r.diagnosis == Some(Diagnosis::NoSecretMatches))
            .count()
    };
    assert_eq!(examined(&receiver), 5, "a burst of five is examined");
    assert_eq!(
        receiver.rejections()[0].diagnosis,
        Some(Diagnosis::NotExamined)
    );
    clock.advance_ms(1000);
    for _ in 0..8 {
        receiver.receive("POST", &forged, BODY).await;
    }
    assert_eq!(receiver.rejections().len(), 10, "bounded");
    assert_eq!(examined(&receiver), 2, "two more a second after");
}

//! One delivery against a real HTTP receiver on 127.0.0.1: what is retried,
//! what is not, and that retries are the original request unchanged.

mod support;

use std::time::Duration;

use costkatana_webhooks::{Backoff, Scheme, Verifier};
use costkatana_webhooks_sandbox::sender::{Attempt, Endpoint, Reply, Sender, SignedRequest};
use http::{HeaderMap, HeaderValue};
use support::{bounded, closed_port_url, Receiver, Script};

const NOW_MS: i64 = 1_777_377_600_000;
const BODY: &str = r#"{"eventId":"evt_1","eventType":"cost.alert","data":{"amount":125.50}}"#;

/// A sender that waits 1, 2, 4… ms between attempts, exactly.
fn quick_sender(retries: u32) -> Sender {
    Sender::builder()
        .retries(retries)
        .timeout(Duration::from_secs(5))
        .backoff(
            Backoff::sender()
                .first_delay(Duration::from_millis(1))
                .jitter(1.0, 1.0),
        )
        .build()
        .unwrap()
}

fn request(url: &str) -> SignedRequest {
    SignedRequest::new(
        Endpoint::parse(url).unwrap(),
        Scheme::Current,
        "s3cret",
        NOW_MS,
        BODY,
    )
}

/// Delivers `request` with `sender`; the last attempt and every one reported.
async fn deliver(sender: &Sender, request: &SignedRequest) -> (Attempt, Vec<Attempt>) {
    let mut seen = Vec::new();
    let last = sender
        .deliver(request, |attempt| seen.push(attempt.clone()))
        .await;
    (last, seen)
}

#[tokio::test]
async fn five_hundreds_are_retried_unchanged_until_delivered() {
    bounded(async {
        let receiver = Receiver::start(vec![
            Script::Status(500),
            Script::Status(503),
            Script::Status(200),
        ])
        .await;
        let mut custom = HeaderMap::new();
        custom.insert("authorization", HeaderValue::from_static("Bearer t0ken"));
        let request = request(&receiver.url).with_headers(&custom);
        let (last, seen) = deliver(&quick_sender(3), &request).await;

        assert!(last.reply.is_delivered(), "{last:?}");
        assert_eq!(last.number, 3);
        assert_eq!(last.reply, Reply::Status(200, r#"{"answer":3}"#.into()));
        let numbers: Vec<u32> = seen.iter().map(|a| a.number).collect();
        assert_eq!(numbers, [1, 2, 3]);
        assert_eq!(seen[0].reply, Reply::Status(500, r#"{"answer":1}"#.into()));
        let delays: Vec<Option<Duration>> = seen.iter().map(|a| a.next_delay).collect();
        assert_eq!(
            delays,
            [
                Some(Duration::from_millis(1)),
                Some(Duration::from_millis(2)),
                None
            ]
        );

        let requests = receiver.recorded();
        assert_eq!(requests.len(), 3);
        for later in &requests[1..] {
            assert_eq!(
                later.headers, requests[0].headers,
                "headers changed on retry"
            );
            assert_eq!(later.body, requests[0].body, "body changed on retry");
        }
        let headers = &requests[0].headers;
        assert_eq!(headers["user-agent"], "CostKatana-Webhook/1.0");
        assert_eq!(headers["x-webhook-event-type"], "webhook-delivery");
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(headers["authorization"], "Bearer t0ken");
        assert_eq!(headers["x-webhook-timestamp"], "1777377600000");
        let as_pairs: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        let verifier = Verifier::builder().secret("s3cret").build().unwrap();
        assert!(verifier
            .verify_at(&as_pairs, requests[0].body.clone(), NOW_MS)
            .is_ok());
    })
    .await;
}

#[tokio::test]
async fn retries_run_out() {
    bounded(async {
        let receiver = Receiver::start(vec![Script::Status(502)]).await;
        let (last, seen) = deliver(&quick_sender(2), &request(&receiver.url)).await;
        assert_eq!(last.number, 3);
        assert_eq!(last.reply, Reply::Status(502, r#"{"answer":3}"#.into()));
        assert!(last.reply.is_retried() && last.next_delay.is_none());
        assert_eq!(seen.len(), 3);
        assert_eq!(receiver.recorded().len(), 3);
    })
    .await;
}

#[tokio::test]
async fn no_retries_means_one_attempt() {
    bounded(async {
        let receiver = Receiver::start(vec![Script::Status(500), Script::Status(200)]).await;
        let (last, _) = deliver(&quick_sender(0), &request(&receiver.url)).await;
        assert_eq!((last.number, last.next_delay), (1, None));
        assert_eq!(receiver.recorded().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn other_answers_fail_at_once_and_redirects_are_not_followed() {
    bounded(async {
        for status in [400, 401, 408, 409, 429, 301, 302, 307] {
            let receiver = Receiver::start(vec![Script::Status(status), Script::Status(200)]).await;
            let (last, seen) = deliver(&quick_sender(3), &request(&receiver.url)).await;
            assert_eq!(seen.len(), 1, "{status} was retried");
            assert_eq!(last.number, 1);
            assert!(matches!(last.reply, Reply::Status(s, _) if s == status));
            assert!(!last.reply.is_delivered() && last.next_delay.is_none());
            assert_eq!(
                receiver.recorded().len(),
                1,
                "{status} was retried or followed"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn time_outs_are_retried() {
    bounded(async {
        let receiver = Receiver::start(vec![Script::Hang, Script::Status(200)]).await;
        let sender = Sender::builder()
            .timeout(Duration::from_millis(300))
            .backoff(Backoff::sender().first_delay(Duration::from_millis(1)))
            .build()
            .unwrap();
        let (last, seen) = deliver(&sender, &request(&receiver.url)).await;
        assert_eq!(seen[0].reply, Reply::Timeout);
        assert!(seen[0].latency >= Duration::from_millis(300));
        assert!(seen[0].next_delay.is_some());
        assert_eq!(last.number, 2);
        assert!(last.reply.is_delivered());
    })
    .await;
}

#[tokio::test]
async fn a_refused_connection_fails_at_once() {
    bounded(async {
        let (last, seen) = deliver(&quick_sender(3), &request(&closed_port_url())).await;
        assert_eq!(seen.len(), 1);
        assert_eq!((last.number, last.next_delay), (1, None));
        match &last.reply {
            Reply::Unreachable(why) => assert!(why.contains("127.0.0.1"), "{why}"),
            other => panic!("expected unreachable, got {other:?}"),
        }
        assert_eq!(last.reply.label(), "unreachable");
    })
    .await;
}

#[tokio::test]
async fn each_scheme_signs_what_the_receiver_verifies() {
    bounded(async {
        let receiver = Receiver::start(vec![Script::Status(200)]).await;
        let verifier = Verifier::builder().secret("s3cret").build().unwrap();
        for scheme in Scheme::ALL {
            let request = SignedRequest::new(
                Endpoint::parse(&receiver.url).unwrap(),
                scheme,
                "s3cret",
                NOW_MS,
                BODY,
            );
            let (last, _) = deliver(&quick_sender(0), &request).await;
            assert!(last.reply.is_delivered());
            let sent = receiver.recorded().pop().unwrap();
            let pairs: Vec<(String, String)> = sent
                .headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
                .collect();
            let verified = verifier.verify_at(&pairs, sent.body, NOW_MS).unwrap();
            assert_eq!(verified.scheme(), scheme);
        }
    })
    .await;
}

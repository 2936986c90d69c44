//! `Sender::exchange`, one attempt in full, against a real receiver on
//! 127.0.0.1: the answer's status, headers and body, why there was none,
//! and redirects followed as the live sender's client follows them.

mod support;

use std::time::Duration;

use costkatana_webhooks::Scheme;
use costkatana_webhooks_sandbox::sender::{
    Cause, Endpoint, Reply, Sender, SignedRequest, SENDER_MAX_REDIRECTS,
};
use http::{HeaderMap, HeaderValue};
use support::{bounded, closed_port_url, Receiver, Script};

const BODY: &str = r#"{"eventId":"evt_1","eventType":"cost.alert"}"#;

fn request(url: &str) -> SignedRequest {
    let mut custom = HeaderMap::new();
    custom.insert("authorization", HeaderValue::from_static("Bearer t0ken"));
    SignedRequest::new(
        Endpoint::parse(url).unwrap(),
        Scheme::Current,
        "s3cret",
        1_777_377_600_000,
        BODY,
    )
    .with_headers(&custom)
}

fn following() -> Sender {
    Sender::builder()
        .follow_redirects(SENDER_MAX_REDIRECTS)
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_answer_in_full() {
    bounded(async {
        let receiver = Receiver::start(vec![Script::Status(418)]).await;
        let exchange = following()
            .exchange(&request(&receiver.url), Some(Duration::from_secs(5)))
            .await;
        assert_eq!(exchange.reply, Reply::Status(418, r#"{"answer":1}"#.into()));
        assert_eq!(exchange.body, r#"{"answer":1}"#);
        assert!(exchange
            .headers
            .iter()
            .any(|(name, value)| name == "content-length" && value == "12"));
        assert_eq!(exchange.cause, None);
        assert_eq!(exchange.url, receiver.url);

        let refused = closed_port_url();
        let exchange = following().exchange(&request(&refused), None).await;
        assert_eq!(exchange.cause, Some(Cause::Refused));
        assert!(matches!(exchange.reply, Reply::Unreachable(_)));
        assert!(exchange.headers.is_empty() && exchange.body.is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_307_keeps_the_post_and_a_302_turns_it_into_a_get() {
    bounded(async {
        let receiver = Receiver::start(vec![
            Script::Redirect(307, "/moved"),
            Script::Status(200),
            Script::Redirect(302, "/found"),
            Script::Status(200),
        ])
        .await;
        let sent = request(&receiver.url);
        let exchange = following().exchange(&sent, None).await;
        assert!(exchange.reply.is_delivered());
        assert!(exchange.url.ends_with("/moved"), "{}", exchange.url);
        let exchange = following().exchange(&sent, None).await;
        assert!(exchange.reply.is_delivered());

        let seen = receiver.recorded();
        assert_eq!(seen.len(), 4);
        assert_eq!(
            (seen[1].method.as_str(), seen[1].path.as_str()),
            ("POST", "/moved")
        );
        assert_eq!(seen[1].body, BODY.as_bytes());
        assert_eq!(
            seen[1].headers["x-webhook-signature"],
            sent.headers()["x-webhook-signature"]
        );
        assert_eq!(
            (seen[3].method.as_str(), seen[3].path.as_str()),
            ("GET", "/found")
        );
        assert!(seen[3].body.is_empty());
        assert!(seen[3].headers.get("content-type").is_none());
        // Same host: the signature and the credentials go along.
        assert_eq!(
            seen[3].headers["x-webhook-signature"],
            sent.headers()["x-webhook-signature"]
        );
        assert_eq!(seen[3].headers["authorization"], "Bearer t0ken");
    })
    .await;
}

#[tokio::test]
async fn redirects_run_out_and_are_not_followed_unless_asked() {
    bounded(async {
        let receiver = Receiver::start(vec![Script::Redirect(308, "/again")]).await;
        let exchange = following().exchange(&request(&receiver.url), None).await;
        assert_eq!(
            exchange.reply,
            Reply::Broken("Maximum number of redirects exceeded".into())
        );
        assert_eq!(exchange.cause, Some(Cause::Other));
        assert_eq!(receiver.recorded().len(), 1 + SENDER_MAX_REDIRECTS);

        let plain = Sender::builder().build().unwrap();
        let exchange = plain.exchange(&request(&receiver.url), None).await;
        assert_eq!(exchange.reply, Reply::Status(308, String::new()));
    })
    .await;
}

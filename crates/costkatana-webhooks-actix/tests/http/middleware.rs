//! `VerifyWebhook`: verify, then pass the request on with its body intact.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use actix_web::{web, App, HttpResponse};
use costkatana_webhooks::testing::Shape;
use costkatana_webhooks::{Scheme, VerifierBuilder};
use costkatana_webhooks_actix::{VerifiedWebhook, VerifyWebhook};
use serde_json::json;

use crate::support::{
    answer, client, event_body, serve, signed_post, verifier_with, TestServer, NOW_MS,
};

pub(crate) const PATH: &str = "/hooks/verify-only";

/// Echoes what the downstream handler sees: the body it reads itself and
/// the `Verified` the middleware left in the extensions.
async fn echo(
    VerifiedWebhook(verified): VerifiedWebhook,
    body: web::Bytes,
    calls: web::Data<AtomicUsize>,
) -> HttpResponse {
    calls.fetch_add(1, Ordering::SeqCst);
    HttpResponse::Ok().json(json!({
        "same_body": verified.body() == &body[..],
        "body_len": body.len(),
        "scheme": verified.scheme().as_str(),
        "event_id": verified.event().and_then(|event| event.id.clone()),
    }))
}

/// A server with `VerifyWebhook` around `echo`, its verifier `configure`d.
pub(crate) fn start(
    configure: impl FnOnce(VerifierBuilder) -> VerifierBuilder,
) -> (TestServer, Arc<AtomicUsize>) {
    let (verifier, _) = verifier_with(configure);
    let calls = web::Data::new(AtomicUsize::new(0));
    let counter = calls.clone().into_inner();
    let server = serve!(move || {
        App::new().app_data(calls.clone()).service(
            web::resource(PATH)
                .wrap(VerifyWebhook::new(verifier.clone()))
                .route(web::post().to(echo)),
        )
    });
    (server, counter)
}

#[actix_web::test]
async fn the_handler_reads_the_body_and_the_verified_request() {
    let (server, calls) = start(|builder| builder);
    let client = client();
    for (scheme, shape) in [
        (Scheme::Current, Shape::Camel),
        (Scheme::Legacy, Shape::Camel),
        (Scheme::Documented, Shape::Snake),
    ] {
        let body = event_body("evt_pass", shape);
        let response = signed_post(&client, &server.url(PATH), scheme, body.clone())
            .send()
            .await
            .expect("response");
        assert_eq!(response.status(), 200);
        let json: serde_json::Value = response.json().await.expect("json");
        assert_eq!(
            json,
            json!({ "same_body": true, "body_len": body.len(), "scheme": scheme.as_str(), "event_id": "evt_pass" })
        );
    }
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    server.stop().await;
}

#[actix_web::test]
async fn rejections_never_reach_the_handler() {
    let (server, calls) = start(|builder| builder.max_body(1024));
    let client = client();
    let url = server.url(PATH);
    let body = event_body("evt_rejected", Shape::Camel);
    let big = format!(r#"{{"pad":"{}"}}"#, "x".repeat(4096));
    let cases = [
        (
            signed_post(&client, &url, Scheme::Current, body.clone()).body(format!("{body} ")),
            401,
            "invalid_signature",
        ),
        (
            client.post(&url).body(body.clone()),
            400,
            "missing_signature",
        ),
        (
            client
                .post(&url)
                .header("X-CostKatana-Timestamp", NOW_MS.to_string())
                .header("X-CostKatana-Signature", "sha256=zz")
                .body(body.clone()),
            400,
            "malformed_signature",
        ),
        (
            signed_post(&client, &url, Scheme::Current, big),
            413,
            "payload_too_large",
        ),
        (client.get(&url), 405, "method_not_allowed"),
    ];
    for (request, status, code) in cases {
        let (got, _, json) = answer(request.send().await.expect("response")).await;
        assert_eq!((got, json["error"].as_str()), (status, Some(code)));
    }
    let get = client.get(&url).send().await.expect("response");
    assert_eq!(
        get.headers().get("allow").map(|v| v.as_bytes()),
        Some(&b"POST"[..])
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    server.stop().await;
}

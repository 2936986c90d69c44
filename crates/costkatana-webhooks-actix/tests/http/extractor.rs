//! `VerifiedWebhook` on its own (verifier from `web::Data`), and without any
//! way to verify.

use actix_web::{web, App, HttpResponse};
use costkatana_webhooks::testing::Shape;
use costkatana_webhooks::{Scheme, Verifier};
use costkatana_webhooks_actix::VerifiedWebhook;
use serde_json::json;

use crate::support::{answer, client, event_body, serve, signed_post, verifier, verifier_with};

const PATH: &str = "/hooks/extract";

async fn handler(verified: VerifiedWebhook) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "scheme": verified.scheme().as_str(),
        "event_id": verified.event().and_then(|event| event.id.clone()),
    }))
}

#[actix_web::test]
async fn verifies_with_the_verifier_from_app_data() {
    let (verifier, _) = verifier_with(|builder| builder.max_body(1024));
    let verifier = web::Data::new(verifier);
    let server = serve!(move || {
        App::new()
            .app_data(verifier.clone())
            .route(PATH, web::route().to(handler))
    });
    let client = client();
    let url = server.url(PATH);
    let body = event_body("evt_extract", Shape::Snake);

    let ok = signed_post(&client, &url, Scheme::Documented, body.clone());
    let response = ok.send().await.expect("response");
    assert_eq!(response.status(), 200);
    let json: serde_json::Value = response.json().await.expect("json");
    assert_eq!(
        json,
        json!({ "scheme": "documented", "event_id": "evt_extract" })
    );

    let big = format!(r#"{{"pad":"{}"}}"#, "x".repeat(2048));
    let cases = [
        (
            signed_post(&client, &url, Scheme::Documented, body.clone()).body("{}"),
            401,
            "invalid_signature",
        ),
        (client.post(&url).body(body), 400, "missing_signature"),
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
    server.stop().await;
}

#[actix_web::test]
async fn without_middleware_or_verifier_it_answers_500() {
    let server = serve!(|| App::new().route(PATH, web::post().to(handler)));
    let body = event_body("evt_unconfigured", Shape::Camel);
    let request = signed_post(&client(), &server.url(PATH), Scheme::Current, body);
    let (status, _, json) = answer(request.send().await.expect("response")).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (500, Some("webhook_not_configured"))
    );
    assert!(json["message"].as_str().unwrap().contains("VerifyWebhook"));
    server.stop().await;
}

/// A `web::Data<Verifier>` of a different type does not count.
#[actix_web::test]
async fn a_bare_verifier_in_app_data_is_not_enough() {
    let (verifier, _): (Verifier, _) = verifier();
    let server = serve!(move || App::new()
        .app_data(verifier.clone())
        .route(PATH, web::post().to(handler)));
    let body = event_body("evt_bare", Shape::Camel);
    let request = signed_post(&client(), &server.url(PATH), Scheme::Current, body);
    let (status, _, json) = answer(request.send().await.expect("response")).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (500, Some("webhook_not_configured"))
    );
    server.stop().await;
}

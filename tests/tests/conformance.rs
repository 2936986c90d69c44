//! The same cases, over real HTTP, through every route of every adapter:
//! each answers as the status table says, and all answer identically, case
//! by case. Cases about verification run through all eight routes (the
//! whole endpoints and the verify-only middleware and extractors); cases
//! about dedupe and settling through the three endpoints.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::signing::sign;
use costkatana_webhooks::testing::{sample_event, Shape};
use costkatana_webhooks::{EventType, Scheme};
use costkatana_webhooks_conformance::{
    raw_post, read_answer, send, serve, Answer, Fixture, Route, Server, MAX_BODY, NOW_MS, SECRET,
};

struct Ctx {
    fx: Fixture,
    server: Server,
}

type Transcript = Vec<(String, Answer)>;
type Scenario = fn(Arc<Ctx>) -> Pin<Box<dyn Future<Output = Transcript> + Send>>;

/// Verification: the same answers from every route.
const VERIFICATION: [(&str, Scenario); 7] = [
    ("shared vectors", |c| Box::pin(vectors(c))),
    ("every scheme", |c| Box::pin(every_scheme(c))),
    ("rejections", |c| Box::pin(rejections(c))),
    ("answered before the body", |c| Box::pin(before_the_body(c))),
    ("template body", |c| Box::pin(template(c))),
    ("body over the limit", |c| Box::pin(too_large(c))),
    ("body sent slowly", |c| Box::pin(slow_body(c))),
];

/// Dedupe and settling: the same answers from every endpoint.
const EXACTLY_ONCE: [(&str, Scenario); 5] = [
    ("every scheme, then a duplicate", |c| {
        Box::pin(duplicates(c))
    }),
    ("handler failure, then retry", |c| {
        Box::pin(failure_then_retry(c))
    }),
    ("duplicate while in flight", |c| Box::pin(in_flight(c))),
    ("template retry", |c| Box::pin(template_retry(c))),
    ("client disconnects mid-handler", |c| {
        Box::pin(disconnect(c))
    }),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_every_verification_case_alike() {
    run_alike(&VERIFICATION, &Route::ALL).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_every_dedupe_case_alike() {
    run_alike(&EXACTLY_ONCE, &Route::ENDPOINTS).await;
}

async fn run_alike(scenarios: &[(&str, Scenario)], routes: &[Route]) {
    for (name, scenario) in scenarios {
        let mut transcripts = Vec::new();
        for &route in routes {
            let fx = Fixture::new();
            let server = serve(route, &fx).await;
            let transcript = tokio::time::timeout(
                Duration::from_secs(30),
                scenario(Arc::new(Ctx { fx, server })),
            )
            .await
            .unwrap_or_else(|_| panic!("{name} through {route:?} timed out"));
            transcripts.push((route, transcript));
        }
        let (first, expected) = &transcripts[0];
        for (route, transcript) in &transcripts[1..] {
            assert_eq!(
                transcript, expected,
                "{name}: {route:?} answered differently from {first:?}"
            );
        }
    }
}

fn signed(scheme: Scheme, id: &str, at_ms: i64) -> (Vec<(String, String)>, String) {
    let body = sample_event(&EventType::CostAlert, Shape::Camel, id, at_ms);
    let mut headers = sign(scheme, SECRET, at_ms, body.as_bytes());
    headers.push(("Content-Type".into(), "application/json".into()));
    (headers, body)
}

fn expect(step: &str, answer: Answer, status: u16, code: &str) -> (String, Answer) {
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (status, code),
        "{step}: {answer:?}"
    );
    (step.to_owned(), answer)
}

async fn vectors(c: Arc<Ctx>) -> Transcript {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/costkatana-webhooks/tests/data/signatures.json"
    ))
    .expect("the vectors file");
    let file: serde_json::Value = serde_json::from_str(&text).expect("vectors are JSON");
    let mut transcript = Vec::new();
    for vector in file["vectors"].as_array().expect("a vector list") {
        let name = vector["name"].as_str().unwrap_or_default();
        c.fx.clock
            .set_ms(vector["now_ms"].as_i64().expect("now_ms"));
        let headers: Vec<(String, String)> = vector["headers"]
            .as_object()
            .expect("headers")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect();
        let body = vector["body"].as_str().expect("body").to_owned();
        let answer = send(&c.server.url, "POST", &headers, body).await;
        let want = vector["expect"].as_str().expect("expect");
        let status = match want {
            "valid" => 200,
            "stale_timestamp" | "invalid_signature" => 401,
            "future_timestamp" => 503,
            _ => 400,
        };
        let code = if want == "valid" { "processed" } else { want };
        if let Some(id) = vector["event_id"].as_str().filter(|_| want == "valid") {
            assert_eq!(answer.body["event_id"], id, "{name}");
        }
        transcript.push(expect(name, answer, status, code));
    }
    transcript
}

async fn every_scheme(c: Arc<Ctx>) -> Transcript {
    let mut transcript = Vec::new();
    for scheme in Scheme::ALL {
        let id = format!("evt_{scheme}");
        let (headers, body) = signed(scheme, &id, NOW_MS - 1000);
        let answer = send(&c.server.url, "POST", &headers, body).await;
        assert_eq!(answer.body["event_id"], id.as_str());
        transcript.push(expect(&format!("{scheme} valid"), answer, 200, "processed"));
        assert_eq!(c.fx.runs_of(&id), 1, "{scheme}: handled");
    }
    transcript
}

async fn rejections(c: Arc<Ctx>) -> Transcript {
    let url = &c.server.url;
    let (headers, body) = signed(Scheme::Current, "evt_reject", NOW_MS);
    let mut transcript = vec![expect(
        "no signature headers",
        send(url, "POST", &[], body.clone()).await,
        400,
        "missing_signature",
    )];
    let mut malformed = headers.clone();
    malformed[1].1 = "not-hex".into();
    transcript.push(expect(
        "malformed signature",
        send(url, "POST", &malformed, body.clone()).await,
        400,
        "malformed_signature",
    ));
    let mut bad_time = headers.clone();
    bad_time[0].1 = "-1".into();
    transcript.push(expect(
        "malformed timestamp",
        send(url, "POST", &bad_time, body.clone()).await,
        400,
        "malformed_signature",
    ));
    let tampered = body.replace("125.5", "125.50");
    transcript.push(expect(
        "re-serialized body",
        send(url, "POST", &headers, tampered).await,
        401,
        "invalid_signature",
    ));
    let (stale, stale_body) = signed(Scheme::Current, "evt_stale", NOW_MS - 301_000);
    transcript.push(expect(
        "stale",
        send(url, "POST", &stale, stale_body).await,
        401,
        "stale_timestamp",
    ));
    let (future, future_body) = signed(Scheme::Documented, "evt_future", NOW_MS + 302_000);
    let ahead = send(url, "POST", &future, future_body.clone()).await;
    assert_eq!(ahead.retry_after.as_deref(), Some("5"), "{ahead:?}");
    transcript.push(expect("future, authentic", ahead, 503, "future_timestamp"));
    let forged_future = sign(
        Scheme::Documented,
        "not the secret",
        NOW_MS + 302_000,
        future_body.as_bytes(),
    );
    let forged = send(url, "POST", &forged_future, future_body).await;
    assert!(
        !forged.message().contains("future"),
        "a forgery learns nothing of the clock: {forged:?}"
    );
    transcript.push(expect("future, forged", forged, 401, "invalid_signature"));
    for method in ["GET", "PUT"] {
        let answer = send(url, method, &headers, body.clone()).await;
        assert_eq!(
            answer.allow.as_deref(),
            Some("POST"),
            "{method}: {answer:?}"
        );
        assert_eq!(
            answer.message(),
            format!("only POST is accepted, not {method}")
        );
        transcript.push(expect(method, answer, 405, "method_not_allowed"));
    }
    assert!(
        c.fx.runs.lock().unwrap().is_empty(),
        "no handler ran for a rejection"
    );
    transcript
}

/// Requests that can never verify are answered from their headers alone:
/// their declared body is never sent, and the answer still comes (were the
/// body awaited, it would be 503 `body_unreadable` after the time-out).
async fn before_the_body(c: Arc<Ctx>) -> Transcript {
    let body = vec![b'x'; 1000];
    let mut transcript = Vec::new();
    let unsigned = raw_post(c.server.addr, &[], &body, 0).await;
    transcript.push(expect(
        "unsigned, body never sent",
        read_answer(unsigned).await,
        400,
        "missing_signature",
    ));
    let malformed = [
        ("X-Webhook-Signature".to_owned(), "zz".to_owned()),
        ("X-Webhook-Timestamp".to_owned(), NOW_MS.to_string()),
    ];
    let stream = raw_post(c.server.addr, &malformed, &body, 0).await;
    transcript.push(expect(
        "malformed, body never sent",
        read_answer(stream).await,
        400,
        "malformed_signature",
    ));
    let (headers, _) = signed(Scheme::Current, "evt_declared_big", NOW_MS);
    let big = vec![b'x'; MAX_BODY + 1];
    let stream = raw_post(c.server.addr, &headers, &big, 0).await;
    let answer = read_answer(stream).await;
    assert!(
        answer.message().contains("65536 bytes (64 KiB)") && answer.message().contains("max_body"),
        "the 413 names the limit and how to raise it: {answer:?}"
    );
    transcript.push(expect(
        "declared too large, body never sent",
        answer,
        413,
        "payload_too_large",
    ));
    transcript
}

async fn template(c: Arc<Ctx>) -> Transcript {
    let body = r#""{\"text\": \"budget.exceeded: Budget exceeded\"}""#;
    let headers = sign(Scheme::Current, SECRET, NOW_MS, body.as_bytes());
    let answer = send(&c.server.url, "POST", &headers, body).await;
    assert_eq!(answer.body["event_id"], serde_json::Value::Null);
    assert_eq!(c.fx.runs_of("<none>"), 1);
    vec![expect("template", answer, 200, "processed")]
}

async fn too_large(c: Arc<Ctx>) -> Transcript {
    let body = format!(
        r#"{{"eventId":"big","eventType":"cost.alert","pad":"{}"}}"#,
        "x".repeat(MAX_BODY)
    );
    let headers = sign(Scheme::Current, SECRET, NOW_MS, body.as_bytes());
    let answer = send(&c.server.url, "POST", &headers, body).await;
    assert_eq!(c.fx.runs_of("big"), 0);
    vec![expect(
        "body over the limit",
        answer,
        413,
        "payload_too_large",
    )]
}

async fn slow_body(c: Arc<Ctx>) -> Transcript {
    let (headers, body) = signed(Scheme::Current, "evt_slow", NOW_MS);
    // Ten bytes, never the rest: the server must cut the request off by itself.
    let stream = raw_post(c.server.addr, &headers, body.as_bytes(), 10).await;
    let answer = read_answer(stream).await;
    assert_eq!(c.fx.runs_of("evt_slow"), 0);
    assert_eq!(
        answer.message(),
        "the request body did not arrive within 400 ms"
    );
    vec![expect("slow body", answer, 503, "body_unreadable")]
}

async fn duplicates(c: Arc<Ctx>) -> Transcript {
    let mut transcript = Vec::new();
    for scheme in Scheme::ALL {
        let id = format!("evt_{scheme}");
        let (headers, body) = signed(scheme, &id, NOW_MS - 1000);
        let first = send(&c.server.url, "POST", &headers, body.clone()).await;
        transcript.push(expect(&format!("{scheme} valid"), first, 200, "processed"));
        let again = send(&c.server.url, "POST", &headers, body).await;
        transcript.push(expect(
            &format!("{scheme} duplicate"),
            again,
            200,
            "duplicate",
        ));
        assert_eq!(c.fx.runs_of(&id), 1, "{scheme}: handled once");
    }
    transcript
}

async fn failure_then_retry(c: Arc<Ctx>) -> Transcript {
    let (headers, body) = signed(Scheme::Current, "fail_once_1", NOW_MS);
    let first = send(&c.server.url, "POST", &headers, body.clone()).await;
    let retry = send(&c.server.url, "POST", &headers, body).await;
    assert_eq!(c.fx.runs_of("fail_once_1"), 1);
    vec![
        expect("first attempt", first, 500, "handler_failed"),
        expect("identical retry", retry, 200, "processed"),
    ]
}

async fn in_flight(c: Arc<Ctx>) -> Transcript {
    let (headers, body) = signed(Scheme::Legacy, "block_1", NOW_MS);
    let started = c.fx.started.notified();
    let first = tokio::spawn({
        let (url, headers, body) = (c.server.url.clone(), headers.clone(), body.clone());
        async move { send(&url, "POST", &headers, body).await }
    });
    started.await;
    let busy = send(&c.server.url, "POST", &headers, body.clone()).await;
    assert_eq!(busy.retry_after.as_deref(), Some("5"));
    c.fx.unblock.notify_one();
    let first = first.await.expect("first request");
    let later = send(&c.server.url, "POST", &headers, body).await;
    assert_eq!(c.fx.runs_of("block_1"), 1);
    vec![
        expect("duplicate in flight", busy, 503, "in_progress"),
        expect("first copy", first, 200, "processed"),
        expect("copy after completion", later, 200, "duplicate"),
    ]
}

async fn template_retry(c: Arc<Ctx>) -> Transcript {
    let body = r#""{\"text\": \"budget.exceeded: Budget exceeded\"}""#;
    let headers = sign(Scheme::Current, SECRET, NOW_MS, body.as_bytes());
    let first = send(&c.server.url, "POST", &headers, body).await;
    let again = send(&c.server.url, "POST", &headers, body).await;
    vec![
        expect("template", first, 200, "processed"),
        expect("template retry", again, 200, "duplicate"),
    ]
}

async fn disconnect(c: Arc<Ctx>) -> Transcript {
    let (headers, body) = signed(Scheme::Current, "hang_1", NOW_MS);
    let started = c.fx.started.notified();
    let stream = raw_post(c.server.addr, &headers, body.as_bytes(), body.len()).await;
    started.await;
    drop(stream);
    // The server notices the closed connection and drops the handler; its
    // claim guard releases the claim from a spawned task. Poll for it.
    let mut answer = send(&c.server.url, "POST", &headers, body.clone()).await;
    for _ in 0..200 {
        if answer.code() != "in_progress" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        answer = send(&c.server.url, "POST", &headers, body.clone()).await;
    }
    assert_eq!(c.fx.runs_of("hang_1"), 1);
    vec![expect(
        "retry after the client went away",
        answer,
        200,
        "processed",
    )]
}

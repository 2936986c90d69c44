//! The same cases, over real HTTP, through every adapter: each answers as
//! the status table says, and all answer identically, case by case.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::signing::sign;
use costkatana_webhooks::testing::{sample_event, Shape};
use costkatana_webhooks::{EventType, Scheme};
use costkatana_webhooks_conformance::{
    send, serve, Adapter, Answer, Fixture, Server, MAX_BODY, NOW_MS, SECRET,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Ctx {
    fx: Fixture,
    server: Server,
}

type Transcript = Vec<(String, Answer)>;
type Scenario = fn(Arc<Ctx>) -> Pin<Box<dyn Future<Output = Transcript> + Send>>;

const SCENARIOS: [(&str, Scenario); 9] = [
    ("shared vectors", |c| Box::pin(vectors(c))),
    ("every scheme, then a duplicate", |c| {
        Box::pin(every_scheme(c))
    }),
    ("rejections", |c| Box::pin(rejections(c))),
    ("handler failure, then retry", |c| {
        Box::pin(failure_then_retry(c))
    }),
    ("duplicate while in flight", |c| Box::pin(in_flight(c))),
    ("template body", |c| Box::pin(template(c))),
    ("body over the limit", |c| Box::pin(too_large(c))),
    ("body sent slowly", |c| Box::pin(slow_body(c))),
    ("client disconnects mid-handler", |c| {
        Box::pin(disconnect(c))
    }),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_adapter_answers_every_case_alike() {
    for (name, scenario) in SCENARIOS {
        let mut transcripts = Vec::new();
        for adapter in Adapter::ALL {
            let fx = Fixture::new();
            let server = serve(adapter, fx.receiver.clone()).await;
            let transcript = tokio::time::timeout(
                Duration::from_secs(30),
                scenario(Arc::new(Ctx { fx, server })),
            )
            .await
            .unwrap_or_else(|_| panic!("{name} through {adapter:?} timed out"));
            transcripts.push((adapter, transcript));
        }
        let (first, expected) = &transcripts[0];
        for (adapter, transcript) in &transcripts[1..] {
            assert_eq!(
                transcript, expected,
                "{name}: {adapter:?} answered differently from {first:?}"
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
            "stale_timestamp" | "future_timestamp" | "invalid_signature" => 401,
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
        let first = send(&c.server.url, "POST", &headers, body.clone()).await;
        assert_eq!(first.body["event_id"], id.as_str());
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
    transcript.push(expect(
        "future",
        send(url, "POST", &future, future_body).await,
        401,
        "future_timestamp",
    ));
    transcript.push(expect(
        "GET",
        send(url, "GET", &headers, "").await,
        405,
        "method_not_allowed",
    ));
    transcript.push(expect(
        "PUT",
        send(url, "PUT", &headers, body).await,
        405,
        "method_not_allowed",
    ));
    assert!(
        c.fx.runs.lock().unwrap().is_empty(),
        "no handler ran for a rejection"
    );
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

async fn template(c: Arc<Ctx>) -> Transcript {
    let body = r#""{\"text\": \"budget.exceeded: Budget exceeded\"}""#;
    let headers = sign(Scheme::Current, SECRET, NOW_MS, body.as_bytes());
    let first = send(&c.server.url, "POST", &headers, body).await;
    let again = send(&c.server.url, "POST", &headers, body).await;
    assert_eq!(first.body["event_id"], serde_json::Value::Null);
    vec![
        expect("template", first, 200, "processed"),
        expect("template retry", again, 200, "duplicate"),
    ]
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

/// Writes a request by hand, so the body can trickle or the connection drop.
async fn raw_request(
    c: &Ctx,
    headers: &[(String, String)],
    content_length: usize,
) -> tokio::net::TcpStream {
    let mut stream = tokio::net::TcpStream::connect(c.server.addr)
        .await
        .expect("connect");
    let mut head = format!(
        "POST /webhooks/costkatana HTTP/1.1\r\nHost: {}\r\nContent-Length: {content_length}\r\n",
        c.server.addr
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream
}

async fn slow_body(c: Arc<Ctx>) -> Transcript {
    let (headers, body) = signed(Scheme::Current, "evt_slow", NOW_MS);
    let mut stream = raw_request(&c, &headers, body.len()).await;
    stream
        .write_all(&body.as_bytes()[..10])
        .await
        .expect("write a little");
    // Never send the rest: the server must cut the request off by itself.
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    let status: u16 = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let json = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    let body = serde_json::from_str(json.trim()).unwrap_or(serde_json::Value::Null);
    let answer = Answer {
        status,
        retry_after: None,
        body,
    };
    assert_eq!(c.fx.runs_of("evt_slow"), 0);
    vec![expect("slow body", answer, 400, "body_unreadable")]
}

async fn disconnect(c: Arc<Ctx>) -> Transcript {
    let (headers, body) = signed(Scheme::Current, "hang_1", NOW_MS);
    let started = c.fx.started.notified();
    let mut stream = raw_request(&c, &headers, body.len()).await;
    stream.write_all(body.as_bytes()).await.expect("write body");
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

//! The alerts app served on loopback, its downstream URLs pointing at a
//! local capture server that records what each alert sent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use costkatana_webhooks::signing::{sign, SENDER_HEADERS};
use costkatana_webhooks::testing::{sample_event, Shape};
use costkatana_webhooks::{EventType, Receiver, Scheme};
use example_alerts::{app, routes, AlertsConfig};
use serde_json::{json, Value};

const SECRET: &str = "whsec_alerts";
const WAIT: Duration = Duration::from_secs(20);

/// One request the capture server received, and what it answered (0:
/// nothing, the request was held until the client gave up).
#[derive(Debug, Clone, PartialEq)]
struct Captured {
    path: String,
    body: Value,
    status: u16,
}

/// Records requests; answers 500 to the next `n` requests of a path when
/// told to, or records and then holds them (the request arrived, its
/// answer is lost); never answers `/hang`.
#[derive(Default)]
struct Capture {
    seen: Mutex<Vec<Captured>>,
    failures: Mutex<HashMap<String, u32>>,
    holds: Mutex<HashMap<String, u32>>,
}

impl Capture {
    fn fail_next(&self, path: &str, times: u32) {
        self.failures
            .lock()
            .expect("lock")
            .insert(path.to_owned(), times);
    }

    fn hold_next(&self, path: &str, times: u32) {
        self.holds
            .lock()
            .expect("lock")
            .insert(path.to_owned(), times);
    }

    fn seen(&self) -> Vec<Captured> {
        self.seen.lock().expect("lock").clone()
    }

    /// Waits (bounded) until `n` requests of `path` were received.
    async fn wait_for(&self, path: &str, n: usize) -> Vec<Captured> {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let seen: Vec<_> = self.seen().into_iter().filter(|c| c.path == path).collect();
            if seen.len() >= n {
                return seen;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{path} never got {n} requests within {WAIT:?}: {seen:#?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await; // polling the capture
        }
    }

    fn take(&self) -> Vec<Captured> {
        std::mem::take(&mut *self.seen.lock().expect("lock"))
    }
}

async fn record(State(capture): State<Arc<Capture>>, uri: Uri, body: Bytes) -> StatusCode {
    let path = uri.path().to_owned();
    if path == "/hang" {
        std::future::pending::<()>().await;
    }
    let hold = match capture.holds.lock().expect("lock").get_mut(&path) {
        Some(left) if *left > 0 => {
            *left -= 1;
            true
        }
        _ => false,
    };
    if hold {
        let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
        capture.seen.lock().expect("lock").push(Captured {
            path: path.clone(),
            body,
            status: 0,
        });
        std::future::pending::<()>().await;
    }
    let status = match capture.failures.lock().expect("lock").get_mut(&path) {
        Some(left) if *left > 0 => {
            *left -= 1;
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::OK,
    };
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    capture.seen.lock().expect("lock").push(Captured {
        path,
        body,
        status: status.as_u16(),
    });
    status
}

/// Serves `app` on a free loopback port for the rest of the test.
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

struct Setup {
    capture: Arc<Capture>,
    alerts: String,
}

/// A capture server, and the alerts app with `configure`d URLs on it.
async fn setup(configure: impl FnOnce(&str) -> AlertsConfig) -> Setup {
    let capture = Arc::new(Capture::default());
    let downstream = serve(
        axum::Router::new()
            .fallback(record)
            .with_state(Arc::clone(&capture)),
    )
    .await;
    let receiver = routes(Receiver::builder().secret(SECRET), configure(&downstream))
        .expect("routes")
        .build()
        .expect("receiver");
    let alerts = serve(app(receiver)).await;
    Setup { capture, alerts }
}

fn everything(downstream: &str) -> AlertsConfig {
    AlertsConfig {
        slack_webhook_url: Some(format!("{downstream}/slack")),
        pagerduty_url: format!("{downstream}/pagerduty"),
        pagerduty_routing_key: Some("routing-key-1".into()),
        throttle_url: Some(format!("{downstream}/throttle")),
        notify_url: Some(format!("{downstream}/notify")),
        ..AlertsConfig::default()
    }
}

fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(since.as_millis()).expect("fits")
}

fn sample(event_type: &EventType, id: &str) -> String {
    sample_event(event_type, Shape::Camel, id, now_ms())
}

/// Delivers `body`, signed, and returns the status and the answer.
async fn deliver(base: &str, body: &str) -> (u16, String) {
    let mut request = reqwest::Client::builder()
        .timeout(WAIT)
        .build()
        .expect("client")
        .post(format!("{base}/webhooks/costkatana"));
    for (name, value) in SENDER_HEADERS {
        request = request.header(name, value);
    }
    for (name, value) in sign(Scheme::Current, SECRET, now_ms(), body.as_bytes()) {
        request = request.header(name, value);
    }
    let response = request
        .body(body.to_owned())
        .send()
        .await
        .expect("response");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

async fn assert_processed(base: &str, body: &str) {
    let (status, answer) = deliver(base, body).await;
    assert_eq!(status, 200, "{answer}");
    assert!(!answer.contains("duplicate"), "{answer}");
}

#[tokio::test]
async fn budget_exceeded_posts_one_slack_message() {
    let Setup { capture, alerts } = setup(everything).await;
    let body = sample(&EventType::BudgetExceeded, "evt_budget");
    assert_processed(&alerts, &body).await;

    let seen = capture.take();
    assert_eq!(seen.len(), 1, "{seen:#?}");
    assert_eq!(seen[0].path, "/slack");
    let text = seen[0].body["text"].as_str().expect("a text message");
    assert!(
        text.starts_with("🚨 Budget exceeded: Budget exceeded (1250.50 of 1000.00 USD spent)"),
        "{text}"
    );
    assert_eq!(seen[0].body.as_object().expect("object").len(), 1);

    // A duplicate is acknowledged without a second message.
    let (status, answer) = deliver(&alerts, &body).await;
    assert_eq!(status, 200);
    assert!(answer.contains(r#""duplicate":true"#), "{answer}");
    assert_eq!(capture.take(), []);
}

#[tokio::test]
async fn security_alert_triggers_pagerduty_deduplicated_by_event_id() {
    let Setup { capture, alerts } = setup(everything).await;
    assert_processed(&alerts, &sample(&EventType::SecurityAlert, "evt_sec")).await;

    let seen = capture.take();
    assert_eq!(seen.len(), 1, "{seen:#?}");
    assert_eq!(seen[0].path, "/pagerduty");
    let trigger = &seen[0].body;
    assert_eq!(trigger["routing_key"], "routing-key-1");
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(trigger["dedup_key"], "evt_sec");
    assert_eq!(
        trigger["payload"]["summary"],
        "Prompt injection attempt blocked"
    );
    assert_eq!(trigger["payload"]["severity"], "critical");
    assert_eq!(trigger["payload"]["source"], "cost-katana");
    assert_eq!(
        trigger["payload"]["custom_details"]["event_type"],
        "security.alert"
    );
}

#[tokio::test]
async fn a_spike_above_500_percent_throttles_and_one_below_does_not() {
    let Setup { capture, alerts } = setup(everything).await;
    // The sample spike is +520 % (data.metrics.changePercentage).
    assert_processed(&alerts, &sample(&EventType::CostSpikeDetected, "evt_spike")).await;
    let seen = capture.take();
    assert_eq!(
        seen.iter().map(|c| c.path.as_str()).collect::<Vec<_>>(),
        ["/throttle", "/slack"]
    );
    assert_eq!(seen[0].body, json!({ "rate": 0.5 }));
    assert_eq!(
        seen[1].body,
        json!({ "text": "Cost spike of 520% (>500%), throttling enabled" })
    );

    // The documented shape: data.spike.changePercentage.
    let documented = |id: &str, change: f64| {
        json!({
            "event_id": id,
            "event_type": "cost.spike_detected",
            "data": { "spike": { "changePercentage": change } },
        })
        .to_string()
    };
    assert_processed(&alerts, &documented("evt_spike_low", 120.0)).await;
    assert_processed(&alerts, &documented("evt_spike_edge", 500.0)).await;
    assert_eq!(capture.take(), [], "no throttling at or below 500 %");

    assert_processed(&alerts, &documented("evt_spike_high", 650.0)).await;
    let seen = capture.take();
    assert_eq!(seen.len(), 2, "{seen:#?}");
    assert_eq!(
        (seen[0].path.as_str(), &seen[0].body),
        ("/throttle", &json!({ "rate": 0.5 }))
    );
}

#[tokio::test]
async fn optimization_suggested_notifies_the_savings() {
    let Setup { capture, alerts } = setup(everything).await;
    assert_processed(
        &alerts,
        &sample(&EventType::OptimizationSuggested, "evt_opt"),
    )
    .await;

    let seen = capture.take();
    assert_eq!(seen.len(), 1, "{seen:#?}");
    assert_eq!(seen[0].path, "/notify");
    assert_eq!(
        seen[0].body,
        json!({
            "subject": "💰 Save 312.40 USD/month",
            "body": "Route short prompts to a smaller model to save about $312/month.",
            "potential_savings": 312.4,
            "currency": "USD",
            "event_id": "evt_opt",
        })
    );
}

#[tokio::test]
async fn other_events_and_unconfigured_uses_call_nobody() {
    let Setup { capture, alerts } = setup(everything).await;
    assert_processed(&alerts, &sample(&EventType::CostAlert, "evt_other")).await;
    assert_processed(&alerts, &sample(&EventType::BudgetWarning, "evt_warn")).await;
    assert_eq!(capture.take(), []);

    let Setup { capture, alerts } = setup(|_| AlertsConfig::default()).await;
    for (ty, id) in [
        (EventType::BudgetExceeded, "evt_1"),
        (EventType::SecurityAlert, "evt_2"),
        (EventType::CostSpikeDetected, "evt_3"),
        (EventType::OptimizationSuggested, "evt_4"),
    ] {
        assert_processed(&alerts, &sample(&ty, id)).await;
    }
    assert_eq!(capture.take(), []);
}

#[tokio::test]
async fn a_failed_slack_call_is_answered_500_and_the_retry_sends_once() {
    let Setup { capture, alerts } = setup(everything).await;
    capture.fail_next("/slack", 1);
    let body = sample(&EventType::BudgetExceeded, "evt_retry");

    let (status, answer) = deliver(&alerts, &body).await;
    assert_eq!(status, 500, "{answer}");
    assert!(answer.contains("handler_failed"), "{answer}");
    // The downstream's name may be logged; its URL is never echoed.
    assert!(!answer.contains("/slack"), "{answer}");

    assert_processed(&alerts, &body).await;
    let (status, answer) = deliver(&alerts, &body).await;
    assert_eq!(status, 200);
    assert!(answer.contains(r#""duplicate":true"#), "{answer}");

    let seen = capture.take();
    let statuses: Vec<_> = seen.iter().map(|c| (c.path.as_str(), c.status)).collect();
    assert_eq!(statuses, [("/slack", 500), ("/slack", 200)]);
    assert_eq!(
        seen[0].body, seen[1].body,
        "the retry sends the same message"
    );
}

#[tokio::test]
async fn an_unreachable_or_silent_downstream_fails_the_delivery() {
    // A port nobody listens on: bound, then released.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        listener.local_addr().expect("addr")
    };
    let Setup { capture, alerts } = setup(|downstream| AlertsConfig {
        throttle_url: Some(format!("http://{closed}/throttle")),
        notify_url: Some(format!("{downstream}/hang")),
        timeout: Duration::from_millis(300),
        ..everything(downstream)
    })
    .await;

    let (status, answer) = deliver(&alerts, &sample(&EventType::CostSpikeDetected, "evt_c")).await;
    assert_eq!(status, 500, "{answer}");
    let (status, answer) =
        deliver(&alerts, &sample(&EventType::OptimizationSuggested, "evt_t")).await;
    assert_eq!(status, 500, "{answer}");
    // The throttle failed first, so no urgent Slack note went out.
    assert_eq!(capture.take(), []);
}

/// A re-run of one event sends PagerDuty the very same trigger, its
/// `dedup_key` the event id, so PagerDuty keeps one incident: the inbox's
/// retry after a time-out whose trigger PagerDuty had in fact received
/// (the answer was lost), and an operator's re-run of the done entry
/// (`ckwebhook inbox retry --force`). Slack's incoming webhooks take no
/// such key: the same re-run posts its message a second time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_runs_send_pagerduty_the_same_dedup_key_and_slack_the_message_again() {
    use costkatana_webhooks::inbox::RetryPolicy;
    use costkatana_webhooks_inbox::{EntryQuery, EntryState, Inbox};

    let capture = Arc::new(Capture::default());
    let downstream = serve(
        axum::Router::new()
            .fallback(record)
            .with_state(Arc::clone(&capture)),
    )
    .await;
    let dir = std::env::temp_dir().join(format!("ckw-alerts-rerun-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    // Done entries keep their bodies, so the operator can run one again.
    let inbox = Inbox::builder(&format!("sqlite:{}", dir.join("inbox.db").display()))
        .keep_done_bodies(true)
        .open()
        .await
        .expect("the inbox");
    let config = AlertsConfig {
        timeout: Duration::from_millis(300),
        ..everything(&downstream)
    };
    let builder = Receiver::builder()
        .secret(SECRET)
        .inbox(inbox.clone())
        .retry_policy(RetryPolicy::default().first_delay(Duration::from_millis(50)));
    let receiver = routes(builder, config)
        .expect("routes")
        .build()
        .expect("receiver");
    receiver.start().await.expect("the workers");
    let alerts = serve(app(receiver.clone())).await;
    let done = |n: u64| {
        let inbox = inbox.clone();
        async move {
            let deadline = std::time::Instant::now() + WAIT;
            while inbox.stats().await.expect("stats").done < n {
                assert!(std::time::Instant::now() < deadline, "not {n} done");
                tokio::time::sleep(Duration::from_millis(20)).await; // polling the inbox
            }
        }
    };
    let rerun = |event_id: &'static str| {
        let inbox = inbox.clone();
        async move {
            let rows = inbox.list(&EntryQuery::new()).await.expect("rows");
            let row = rows
                .iter()
                .find(|r| r.event_id.as_deref() == Some(event_id))
                .expect("its entry");
            assert_eq!(inbox.retry(row.id).await.expect("re-run"), EntryState::Done);
        }
    };

    // PagerDuty receives the trigger but its answer is lost: the handler
    // times out, and the inbox runs it again.
    capture.hold_next("/pagerduty", 1);
    let (status, answer) = deliver(&alerts, &sample(&EventType::SecurityAlert, "evt_page")).await;
    assert_eq!(status, 200, "{answer}");
    let triggers = capture.wait_for("/pagerduty", 2).await;
    assert_eq!(
        triggers.iter().map(|t| t.status).collect::<Vec<_>>(),
        [0, 200]
    );
    done(1).await;
    rerun("evt_page").await;
    let triggers = capture.wait_for("/pagerduty", 3).await;
    assert_eq!(triggers.len(), 3, "{triggers:#?}");
    for trigger in &triggers {
        assert_eq!(trigger.body["dedup_key"], "evt_page");
        assert_eq!(trigger.body["event_action"], "trigger");
        assert_eq!(
            trigger.body, triggers[0].body,
            "every run sends the same trigger"
        );
    }

    // Slack: the same re-run posts the same text again, with nothing
    // Slack could deduplicate it by.
    let (status, answer) = deliver(&alerts, &sample(&EventType::BudgetExceeded, "evt_post")).await;
    assert_eq!(status, 200, "{answer}");
    capture.wait_for("/slack", 1).await;
    done(2).await;
    rerun("evt_post").await;
    let posts = capture.wait_for("/slack", 2).await;
    assert_eq!(posts.len(), 2, "{posts:#?}");
    assert_eq!(posts[0].body, posts[1].body);
    assert_eq!(
        posts[0].body.as_object().expect("object").len(),
        1,
        "text only"
    );

    receiver.shutdown(Duration::from_secs(5)).await;
    let _ = std::fs::remove_dir_all(&dir);
}

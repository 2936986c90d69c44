//! With the core's `opentelemetry` feature, the spans follow the semantic
//! conventions: an HTTP server span per request, a messaging `process`
//! span per inbox attempt, linked to the request that stored the entry,
//! and the conventions' duration histograms. Caught by the SDK's in-memory
//! exporters, on a real SQLite inbox.

#[path = "suite/support.rs"]
mod support;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::inbox::{EntryQuery, EntryState, RetryPolicy};
use costkatana_webhooks::receiver::RequestInfo;
use costkatana_webhooks::{HandlerError, Payload, Receiver};
use costkatana_webhooks_inbox::Inbox;
use opentelemetry::trace::{SpanKind, TracerProvider as _};
use opentelemetry::Value;
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use support::{Request, SECRET};
use tracing_subscriber::layer::SubscriberExt;

fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

#[test]
fn requests_and_attempts_are_server_and_process_spans_linked_together() {
    let spans = InMemorySpanExporter::default();
    let tracer_provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    let metrics = InMemoryMetricExporter::default();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metrics.clone()).build())
        .build();
    opentelemetry::global::set_meter_provider(meter_provider.clone());
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(tracer_provider.tracer("test")));
    let dir = std::env::temp_dir().join(format!("ckw-otel-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    tracing::subscriber::with_default(subscriber, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(run(dir.clone()));
    });
    let _ = std::fs::remove_dir_all(&dir);
    tracer_provider.force_flush().unwrap();
    meter_provider.force_flush().unwrap();

    let finished = spans.get_finished_spans().unwrap();
    let request = finished
        .iter()
        .find(|span| span.name == "POST /webhooks/costkatana")
        .expect("the request's span");
    assert_eq!(request.span_kind, SpanKind::Server);
    assert_eq!(
        attribute(request, "http.response.status_code"),
        Some(&Value::I64(200))
    );
    assert_eq!(
        attribute(request, "http.request.method").map(Value::as_str),
        Some("POST".into())
    );
    let attempts: Vec<&SpanData> = finished
        .iter()
        .filter(|span| span.name == "process inbox")
        .collect();
    assert_eq!(attempts.len(), 2, "a failed attempt, then a done one");
    for attempt in &attempts {
        assert_eq!(attempt.span_kind, SpanKind::Consumer);
        assert_eq!(
            attribute(attempt, "messaging.message.id").map(Value::as_str),
            Some("evt_traced".into())
        );
        assert_eq!(
            attribute(attempt, "messaging.operation.type").map(Value::as_str),
            Some("process".into())
        );
        let linked = attempt
            .links
            .iter()
            .any(|link| link.span_context.span_id() == request.span_context.span_id());
        assert!(linked, "linked to the request that stored it");
    }
    let failed = attempts
        .iter()
        .filter(|span| attribute(span, "error.type").is_some())
        .count();
    assert_eq!(failed, 1);

    let names: Vec<String> = metrics
        .get_finished_metrics()
        .unwrap()
        .iter()
        .flat_map(|resource| resource.scope_metrics())
        .flat_map(|scope| scope.metrics())
        .map(|metric| metric.name().to_owned())
        .collect();
    assert!(
        names.iter().any(|n| n == "http.server.request.duration"),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n == "messaging.process.duration"),
        "{names:?}"
    );
}

async fn run(dir: PathBuf) {
    let inbox = Inbox::open(&format!("sqlite:{}", dir.join("inbox.db").display()))
        .await
        .unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let receiver = Receiver::builder()
        .secret(SECRET)
        .inbox(inbox.clone())
        .retry_policy(RetryPolicy::default().first_delay(Duration::from_millis(10)))
        .fallback(move |_: Payload| {
            let first = counted.fetch_add(1, Ordering::SeqCst) == 0;
            async move {
                if first {
                    return Err(HandlerError::from("downstream answered 500"));
                }
                Ok(())
            }
        })
        .build()
        .unwrap();
    receiver.start().await.unwrap();
    let request = Request::event("evt_traced");
    let info = RequestInfo::new().path("/webhooks/costkatana");
    let outcome = receiver
        .receive_with(info, "POST", &request.headers, request.body.clone())
        .await;
    assert_eq!(outcome.label(), "stored");
    for _ in 0..2000 {
        let done = inbox
            .list(&EntryQuery::new().state(EntryState::Done))
            .await
            .unwrap();
        if !done.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    receiver.shutdown(Duration::from_secs(1)).await;
}

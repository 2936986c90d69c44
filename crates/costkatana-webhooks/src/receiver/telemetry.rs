//! The receiver's spans, and, with the `opentelemetry` feature, their
//! OpenTelemetry semantic conventions: an HTTP server span per request, a
//! messaging `process` span per inbox attempt linked to the request that
//! stored it, and the conventions' duration histograms.

use std::time::Instant;

use crate::inbox::LeasedEntry;
use crate::Outcome;

/// The header an entry keeps its request's trace context in (W3C
/// `traceparent`), so the attempt's span can link to the request's.
#[cfg_attr(not(feature = "opentelemetry"), allow(dead_code))]
pub(crate) const TRACEPARENT: &str = "traceparent";

/// The span of one request.
#[cfg(not(feature = "opentelemetry"))]
pub(crate) fn request_span(_method: &str, _path: Option<&str>) -> tracing::Span {
    tracing::info_span!(
        "costkatana_webhook",
        event_id = tracing::field::Empty,
        event_type = tracing::field::Empty,
        scheme = tracing::field::Empty,
        outcome = tracing::field::Empty,
    )
}

/// The span of one request: an HTTP server span named `POST <path>`.
#[cfg(feature = "opentelemetry")]
pub(crate) fn request_span(method: &str, path: Option<&str>) -> tracing::Span {
    let name = match path {
        Some(path) => format!("{method} {path}"),
        None => method.to_owned(),
    };
    tracing::info_span!(
        "costkatana_webhook",
        event_id = tracing::field::Empty,
        event_type = tracing::field::Empty,
        scheme = tracing::field::Empty,
        outcome = tracing::field::Empty,
        otel.name = %name,
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        http.request.method = %method,
        http.route = path,
        url.path = path,
        http.response.status_code = tracing::field::Empty,
        error.type = tracing::field::Empty,
    )
}

/// Records the answer on the request's span (status, error type) and the
/// request's duration.
#[cfg(not(feature = "opentelemetry"))]
pub(crate) fn record_answer(_: &tracing::Span, _: &Outcome, _: Instant) {}

#[cfg(feature = "opentelemetry")]
pub(crate) fn record_answer(span: &tracing::Span, outcome: &Outcome, started: Instant) {
    use opentelemetry::KeyValue;
    let status = outcome.answer().status;
    span.record("http.response.status_code", i64::from(status));
    let mut attributes = vec![
        KeyValue::new("http.request.method", "POST"),
        KeyValue::new("http.response.status_code", i64::from(status)),
    ];
    if let Outcome::Failed(err) = outcome {
        span.record("error.type", err.code());
        attributes.push(KeyValue::new("error.type", err.code()));
        if status >= 500 {
            span.record("otel.status_code", "ERROR");
        }
    }
    meters()
        .request
        .record(started.elapsed().as_secs_f64(), &attributes);
}

/// The span of one inbox attempt.
#[cfg(not(feature = "opentelemetry"))]
pub(crate) fn attempt_span(entry: &LeasedEntry) -> tracing::Span {
    tracing::info_span!(
        "costkatana_webhook_attempt",
        entry_id = entry.id,
        attempt = entry.attempt,
        event_id = tracing::field::Empty,
        event_type = tracing::field::Empty,
        result = tracing::field::Empty,
    )
}

/// The span of one inbox attempt: a messaging `process` span, linked to
/// the span of the request that stored the entry.
#[cfg(feature = "opentelemetry")]
pub(crate) fn attempt_span(entry: &LeasedEntry) -> tracing::Span {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let span = tracing::info_span!(
        "costkatana_webhook_attempt",
        entry_id = entry.id,
        attempt = entry.attempt,
        event_id = tracing::field::Empty,
        event_type = tracing::field::Empty,
        result = tracing::field::Empty,
        otel.name = "process inbox",
        otel.kind = "consumer",
        otel.status_code = tracing::field::Empty,
        messaging.system = "costkatana_webhooks",
        messaging.operation.type = "process",
        messaging.operation.name = "process",
        messaging.destination.name = "inbox",
        messaging.message.id = tracing::field::Empty,
        error.type = tracing::field::Empty,
    );
    let parent = entry
        .headers
        .iter()
        .find(|(name, _)| name == TRACEPARENT)
        .and_then(|(_, value)| span_context(value));
    if let Some(parent) = parent {
        span.add_link(parent);
    }
    span
}

/// Records the attempt's event id on its span (the message id).
pub(crate) fn record_event(span: &tracing::Span, event_id: Option<&str>, event_type: &str) {
    span.record("event_type", event_type);
    if let Some(id) = event_id {
        span.record("event_id", id);
        #[cfg(feature = "opentelemetry")]
        span.record("messaging.message.id", id);
    }
}

/// Records the attempt's end: its result, and on failure its error type;
/// and the attempt's duration.
#[cfg(not(feature = "opentelemetry"))]
pub(crate) fn record_attempt(span: &tracing::Span, result: &'static str, _: Option<Instant>) {
    span.record("result", result);
}

#[cfg(feature = "opentelemetry")]
pub(crate) fn record_attempt(span: &tracing::Span, result: &'static str, started: Option<Instant>) {
    use opentelemetry::KeyValue;
    span.record("result", result);
    let mut attributes = vec![
        KeyValue::new("messaging.system", "costkatana_webhooks"),
        KeyValue::new("messaging.operation.name", "process"),
    ];
    if matches!(result, "retry" | "dead") {
        span.record("error.type", result);
        span.record("otel.status_code", "ERROR");
        attributes.push(KeyValue::new("error.type", result));
    }
    if let Some(started) = started {
        meters()
            .process
            .record(started.elapsed().as_secs_f64(), &attributes);
    }
}

/// The current span's trace context as a `traceparent` header value, for
/// an entry to keep; `None` without the feature or outside a trace.
#[cfg(not(feature = "opentelemetry"))]
pub(crate) fn current_traceparent() -> Option<String> {
    None
}

#[cfg(feature = "opentelemetry")]
pub(crate) fn current_traceparent() -> Option<String> {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let context = tracing::Span::current().context();
    let span = context.span();
    let span_context = span.span_context();
    span_context.is_valid().then(|| {
        format!(
            "00-{}-{}-{:02x}",
            span_context.trace_id(),
            span_context.span_id(),
            span_context.trace_flags().to_u8()
        )
    })
}

/// A `traceparent` header value read back.
#[cfg(feature = "opentelemetry")]
fn span_context(traceparent: &str) -> Option<opentelemetry::trace::SpanContext> {
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
    let mut parts = traceparent.split('-');
    let (Some("00"), Some(trace), Some(span), Some(flags), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let context = SpanContext::new(
        TraceId::from_hex(trace).ok()?,
        SpanId::from_hex(span).ok()?,
        TraceFlags::new(u8::from_str_radix(flags, 16).ok()?),
        true,
        TraceState::default(),
    );
    context.is_valid().then_some(context)
}

/// The conventions' histograms, made once from the global meter provider.
#[cfg(feature = "opentelemetry")]
struct Meters {
    request: opentelemetry::metrics::Histogram<f64>,
    process: opentelemetry::metrics::Histogram<f64>,
}

#[cfg(feature = "opentelemetry")]
fn meters() -> &'static Meters {
    static METERS: std::sync::OnceLock<Meters> = std::sync::OnceLock::new();
    METERS.get_or_init(|| {
        let meter = opentelemetry::global::meter("costkatana-webhooks");
        Meters {
            request: meter
                .f64_histogram("http.server.request.duration")
                .with_unit("s")
                .with_description("Duration of webhook requests")
                .build(),
            process: meter
                .f64_histogram("messaging.process.duration")
                .with_unit("s")
                .with_description("Duration of inbox attempts")
                .build(),
        }
    })
}

#[cfg(all(test, feature = "opentelemetry"))]
mod tests {
    use super::*;

    #[test]
    fn traceparent_values_read_back() {
        let value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let context = span_context(value).unwrap();
        assert_eq!(
            context.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert!(context.is_sampled());
        assert!(span_context("00-00000000000000000000000000000000-00f067aa0ba902b7-01").is_none());
        assert!(span_context("garbage").is_none());
    }
}

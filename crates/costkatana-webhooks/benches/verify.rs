//! Verification cost per scheme and size, beside the bare HMAC-SHA256 over
//! the same bytes (the floor), and verification plus typed parsing.
//!
//! `cargo bench -p costkatana-webhooks --features testing --bench verify`

#![allow(missing_docs)] // criterion_group! generates an undocumented function.

use costkatana_webhooks::testing::{sample_event, sign, Shape};
use costkatana_webhooks::{EventType, Scheme, Verifier};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NOW: i64 = 1_777_377_600_000;

fn floor(timestamp: &str, body: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

fn verification(c: &mut Criterion) {
    let verifier = Verifier::builder().secret(SECRET).build().unwrap();
    for (label, size) in [
        ("300B", 300),
        ("4KiB", 4 << 10),
        ("64KiB", 64 << 10),
        ("1MiB", 1 << 20),
    ] {
        let body = bytes::Bytes::from(vec![b'x'; size]);
        let mut group = c.benchmark_group(format!("verify/{label}"));
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function("hmac_floor", |b| {
            b.iter(|| floor(black_box("1777377600000"), black_box(&body)))
        });
        for scheme in Scheme::ALL {
            let headers = sign(scheme, SECRET, NOW, &body);
            group.bench_with_input(
                BenchmarkId::from_parameter(scheme),
                &headers,
                |b, headers| {
                    b.iter(|| {
                        verifier
                            .verify_at(black_box(headers), body.clone(), NOW)
                            .unwrap()
                    })
                },
            );
        }
        group.finish();
    }
}

fn verification_and_parsing(c: &mut Criterion) {
    let verifier = Verifier::builder().secret(SECRET).build().unwrap();
    // A test delivery as the current sender writes it: 300 bytes.
    let small = concat!(
        r#"{"eventId":"test_6f1c2a3e-0b1d-4c5e-9f7a-1b2c3d4e5f60","eventType":"system.error","#,
        r#""occurredAt":"2026-04-28T12:00:00.000Z","userId":"65f0c0ffee0000000000beef","#,
        r#""projectId":"65f0c0ffee0000000000f00d","data":{"title":"Webhook Test","#,
        r#""description":"A test webhook delivery.","severity":"low","context":{}}}"#
    )
    .to_owned();
    assert_eq!(small.len(), 300);
    let mut large: serde_json::Value = serde_json::from_str(&sample_event(
        &EventType::CostAlert,
        Shape::Camel,
        "cost_alert_1",
        NOW,
    ))
    .unwrap();
    let breakdown: serde_json::Map<_, _> = (0..190)
        .map(|i| (format!("model-{i:03}"), serde_json::json!(i as f64 * 1.25)))
        .collect();
    large["data"]["cost"]["breakdown"] = breakdown.into();
    let large = large.to_string();
    let mut group = c.benchmark_group("verify_and_parse");
    for body in [small, large] {
        let body = bytes::Bytes::from(body);
        assert!(verifier
            .verify_at(
                &sign(Scheme::Current, SECRET, NOW, &body),
                body.clone(),
                NOW
            )
            .unwrap()
            .event()
            .is_some());
        let headers = sign(Scheme::Current, SECRET, NOW, &body);
        group.bench_with_input(
            BenchmarkId::from_parameter(format!("{}B", body.len())),
            &headers,
            |b, headers| {
                b.iter(|| {
                    let verified = verifier
                        .verify_at(black_box(headers), body.clone(), NOW)
                        .unwrap();
                    verified.event().map(|e| e.event_type.clone())
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, verification, verification_and_parsing);
criterion_main!(benches);

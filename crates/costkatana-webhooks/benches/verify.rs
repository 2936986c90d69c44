//! Verification cost per scheme and size, beside the bare HMAC-SHA256 over
//! the same bytes (the floor), and verification plus typed parsing.
//!
//! `cargo bench -p costkatana-webhooks --features testing --bench verify`
//!
//! On a shared machine the separate criterion figures drift with the load
//! between one benchmark and the next. `VERIFY_PAIRED=1` instead times the
//! floor and each scheme in alternating batches and prints the median ratio
//! per round, which load changes hit on both sides alike.

#![allow(missing_docs)] // criterion_group! generates an undocumented function.

use std::time::Instant;

use costkatana_webhooks::signing::sign;
use costkatana_webhooks::testing::{sample_event, Shape};
use costkatana_webhooks::{EventType, Scheme, Verifier};
use criterion::{black_box, criterion_group, BenchmarkId, Criterion, Throughput};
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

/// Median verify/floor ratios from interleaved batches (see the file docs).
fn paired() {
    let verifier = Verifier::builder().secret(SECRET).build().unwrap();
    println!("| body | HMAC floor (median) | current | legacy | documented |");
    println!("|---|---|---|---|---|");
    for (label, size, batch, rounds) in [
        ("300 B", 300, 2000, 301),
        ("4 KiB", 4 << 10, 300, 301),
        ("64 KiB", 64 << 10, 20, 151),
        ("1 MiB", 1 << 20, 2, 61),
    ] {
        let body = bytes::Bytes::from(vec![b'x'; size]);
        let signed: Vec<_> = Scheme::ALL
            .iter()
            .map(|&scheme| sign(scheme, SECRET, NOW, &body))
            .collect();
        let per_call = |start: Instant| start.elapsed().as_secs_f64() * 1e9 / f64::from(batch);
        let mut floors = Vec::new();
        let mut ratios = vec![Vec::new(); Scheme::ALL.len()];
        for _ in 0..rounds {
            let start = Instant::now();
            for _ in 0..batch {
                black_box(floor(black_box("1777377600000"), black_box(&body)));
            }
            let floor_ns = per_call(start);
            floors.push(floor_ns);
            for (headers, ratios) in signed.iter().zip(&mut ratios) {
                let start = Instant::now();
                for _ in 0..batch {
                    black_box(
                        verifier
                            .verify_at(black_box(headers), body.clone(), NOW)
                            .unwrap(),
                    );
                }
                ratios.push(per_call(start) / floor_ns);
            }
        }
        let cells: Vec<String> = ratios
            .iter_mut()
            .map(|r| format!("{:.2}×", median(r)))
            .collect();
        println!(
            "| {label} | {:.0} ns | {} |",
            median(&mut floors),
            cells.join(" | ")
        );
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

criterion_group!(benches, verification, verification_and_parsing);

fn main() {
    if std::env::var_os("VERIFY_PAIRED").is_some() {
        paired();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

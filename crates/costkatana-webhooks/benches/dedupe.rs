//! Dedupe and the whole receiver path, beside plain verification.
//!
//! `cargo bench -p costkatana-webhooks --features testing --bench dedupe`

#![allow(missing_docs)] // criterion_group! generates an undocumented function.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use costkatana_webhooks::dedupe::{Claim, DedupeStore, MemoryStore};
use costkatana_webhooks::signing::sign;
use costkatana_webhooks::{ManualClock, Payload, Receiver, Scheme};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const SECRET: &str = "whsec_bench";
const NOW: i64 = 1_777_377_600_000;
const LEASE: Duration = Duration::from_secs(60);
const TTL: Duration = Duration::from_secs(86_400);

/// Claims and completes `n` fresh keys on `threads` threads.
fn claim_complete(store: &MemoryStore, threads: u64, n: u64, next: &AtomicU64) -> Duration {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                runtime.block_on(async {
                    for _ in 0..n / threads {
                        let key = format!("bench:event:{}", next.fetch_add(1, Ordering::Relaxed));
                        if let Claim::Fresh(token) = store.claim(&key, LEASE).await.unwrap() {
                            store.complete(&key, token, TTL).await.unwrap();
                        }
                    }
                })
            });
        }
    });
    started.elapsed()
}

fn store(c: &mut Criterion) {
    let mut group = c.benchmark_group("memory_store/claim_complete");
    group.throughput(Throughput::Elements(1));
    for threads in [1, 2] {
        let store = MemoryStore::builder().max_entries(1_000_000).build();
        let next = AtomicU64::new(0);
        group.bench_function(format!("{threads}_threads"), |b| {
            b.iter_custom(|n| claim_complete(&store, threads, n.max(threads), &next))
        });
    }
    group.finish();
}

/// A 1 KiB camelCase event with id `id`.
fn event(id: u64) -> Bytes {
    let head = format!(
        r#"{{"eventId":"cost_alert_{id:016}","eventType":"cost.alert","occurredAt":"2026-04-28T12:00:00.000Z","userId":"65f0c0ffee0000000000beef","data":{{"title":"Daily cost","severity":"high","description":""#
    );
    let mut body = head.into_bytes();
    body.resize(1024 - 3, b'x');
    body.extend_from_slice(br#""}}"#);
    Bytes::from(body)
}

fn receiver(c: &mut Criterion) {
    let clock = Arc::new(ManualClock::new(NOW));
    let receiver = Receiver::builder()
        .secret(SECRET)
        .clock(clock)
        .fallback(|_: Payload| async { Ok(()) })
        .store(MemoryStore::builder().max_entries(10_000_000).build())
        .build()
        .unwrap();
    let verifier = receiver.verifier().clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let sample = event(0);
    let sample_headers = sign(Scheme::Current, SECRET, NOW, &sample);

    let mut group = c.benchmark_group("receiver_1KiB");
    group.throughput(Throughput::Elements(1));
    group.bench_function("verify_only", |b| {
        b.iter(|| {
            verifier
                .verify_at(&sample_headers, sample.clone(), NOW)
                .unwrap()
        })
    });
    let next = AtomicU64::new(1);
    group.bench_function("receive_fresh_event", |b| {
        b.iter_custom(|n| {
            // Every iteration is a new event: the fresh path (claim, handle, complete).
            let requests: Vec<_> = (0..n)
                .map(|_| {
                    let body = event(next.fetch_add(1, Ordering::Relaxed));
                    (sign(Scheme::Current, SECRET, NOW, &body), body)
                })
                .collect();
            let started = Instant::now();
            runtime.block_on(async {
                for (headers, body) in requests {
                    let outcome = receiver.receive("POST", &headers, body).await;
                    debug_assert_eq!(outcome.label(), "processed");
                }
            });
            started.elapsed()
        })
    });
    group.bench_function("receive_duplicate", |b| {
        b.iter(|| runtime.block_on(receiver.receive("POST", &sample_headers, sample.clone())))
    });
    group.finish();
}

criterion_group!(benches, store, receiver);
criterion_main!(benches);

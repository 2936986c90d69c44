//! Claim + complete per second against a local redis-server, with 1 and 32
//! requests in flight, beside the in-memory store, in one run.
//!
//! `CARGO_TARGET_DIR=... cargo bench -p costkatana-webhooks-redis --bench claims`
//!
//! It starts its own redis-server (the tests' harness); without one it
//! prints why and measures nothing.

#![allow(missing_docs)] // criterion_group! generates an undocumented function.

#[allow(dead_code, unreachable_pub)] // the bench needs only `start` and `url`
#[path = "../src/testing.rs"]
mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use costkatana_webhooks::dedupe::{Claim, DedupeStore, MemoryStore};
use costkatana_webhooks_redis::RedisStore;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use support::RedisServer;

const LEASE: Duration = Duration::from_secs(60);
const TTL: Duration = Duration::from_secs(3600);

/// `n` claim + complete pairs on fresh keys, `concurrency` at a time.
async fn run(
    store: Arc<dyn DedupeStore>,
    n: u64,
    concurrency: u64,
    next: Arc<AtomicU64>,
) -> Duration {
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (store, next) = (store.clone(), next.clone());
            tokio::spawn(async move {
                for _ in 0..n.div_ceil(concurrency) {
                    let key = format!("bench:event:{}", next.fetch_add(1, Ordering::Relaxed));
                    if let Claim::Fresh(token) = store.claim(&key, LEASE).await.unwrap() {
                        store.complete(&key, token, TTL).await.unwrap();
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    started.elapsed()
}

fn claims(c: &mut Criterion) {
    let Some(server) = RedisServer::start() else {
        eprintln!("claims bench: redis-server is not installed; nothing measured");
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let redis: Arc<dyn DedupeStore> = Arc::new(
        runtime
            .block_on(RedisStore::connect(&server.url()))
            .unwrap(),
    );
    let memory: Arc<dyn DedupeStore> =
        Arc::new(MemoryStore::builder().max_entries(2_000_000).build());
    let next = Arc::new(AtomicU64::new(0));
    let mut group = c.benchmark_group("claim_complete");
    group.throughput(Throughput::Elements(1));
    for (name, store) in [("memory", &memory), ("redis", &redis)] {
        for concurrency in [1, 32] {
            group.bench_function(format!("{name}/{concurrency}_in_flight"), |b| {
                b.iter_custom(|n| {
                    runtime.block_on(run(store.clone(), n, concurrency, next.clone()))
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, claims);
criterion_main!(benches);

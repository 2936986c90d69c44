//! Redis down, slow, restarted or misconfigured: every call fails closed
//! within the timeout (503 `store_unavailable`, never a fresh claim), the
//! connection comes back by itself, and fail-open does what it says.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use costkatana_webhooks::dedupe::{Claim, DedupeStore};
use costkatana_webhooks::signing::sign;
use costkatana_webhooks::testing::{sample_event, Shape};
use costkatana_webhooks::{EventType, Outcome, Payload, Receiver, Scheme};
use costkatana_webhooks_redis::{ConnectError, RedisStore};
use support::{eventually, RedisServer};

const TIMEOUT: Duration = Duration::from_millis(300);
const LEASE: Duration = Duration::from_secs(60);
/// Scheduling slack on a busy machine, above the timeout.
const SLACK: Duration = Duration::from_secs(1);

async fn store(server: &RedisServer) -> RedisStore {
    support::store(server, TIMEOUT).await
}

/// Claims `key` until Redis answers again (the connection reconnects).
async fn claim_when_back(store: &RedisStore, key: &str) -> Claim {
    eventually(Duration::from_secs(10), "Redis back", || async {
        store.claim(key, LEASE).await.ok()
    })
    .await
}

/// Runs `call`, checking it ends within the timeout (plus slack).
async fn timed<T>(call: impl std::future::Future<Output = T>) -> T {
    let started = Instant::now();
    let value = call.await;
    assert!(
        started.elapsed() < TIMEOUT + SLACK,
        "took {:?}",
        started.elapsed()
    );
    value
}

#[tokio::test]
async fn a_killed_server_fails_every_call_promptly_and_a_restart_recovers() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let store = store(&server).await;
    let Claim::Fresh(token) = store.claim("ns:event:held", LEASE).await.unwrap() else {
        panic!("fresh")
    };
    server.stop();
    for i in 0..3 {
        let err = timed(store.claim(&format!("ns:event:down-{i}"), LEASE))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("redis claim"), "{err}");
        let answer = Outcome::Failed(err.into()).answer();
        assert_eq!(answer.status, 503);
        assert!(answer.body.contains("store_unavailable"));
    }
    let err = timed(store.complete("ns:event:held", token, LEASE))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("redis complete"), "{err}");
    let err = timed(store.release("ns:event:held", token))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("redis release"), "{err}");

    server.restart(); // empty, as after a failover without replication
    assert!(matches!(
        claim_when_back(&store, "ns:event:after").await,
        Claim::Fresh(_)
    ));
    // The scripts were loaded again on the new server.
    assert_eq!(
        store.claim("ns:event:after", LEASE).await.unwrap(),
        Claim::InFlight
    );
}

#[tokio::test]
async fn a_stalled_server_times_out_then_answers_each_call_correctly() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = store(&server).await;
    let mut admin = support::raw(&server.url()).await;
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(1500)
        .arg("ALL")
        .query_async(&mut admin)
        .await
        .unwrap();
    let err = timed(store.claim("ns:event:stalled", LEASE))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no answer within"), "{err}");
    assert!(matches!(
        claim_when_back(&store, "ns:event:fresh").await,
        Claim::Fresh(_)
    ));
    // The late answer went nowhere; each later call gets its own answer.
    assert_eq!(
        store.claim("ns:event:fresh", LEASE).await.unwrap(),
        Claim::InFlight
    );
    // The timed-out claim may or may not have reached Redis (that depends
    // on whether the connection was dropped meanwhile): either way it is
    // not taken for a completed event.
    assert!(matches!(
        store.claim("ns:event:stalled", LEASE).await.unwrap(),
        Claim::InFlight | Claim::Fresh(_)
    ));
}

#[tokio::test]
async fn building_fails_within_the_timeout_with_a_clear_error() {
    // Nothing listens.
    let err = timed(
        RedisStore::builder("redis://127.0.0.1:1/0")
            .timeout(TIMEOUT)
            .build(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("cannot connect to Redis at redis://127.0.0.1:1/0") && err.contains("refused"),
        "{err}"
    );
    let unreachable = RedisStore::connect("redis://127.0.0.1:1/0")
        .await
        .unwrap_err();
    assert!(
        matches!(unreachable, ConnectError::Unavailable(_)),
        "{unreachable:?}"
    );

    // Something listens but never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "redis://127.0.0.1:{}/0",
        silent.local_addr().unwrap().port()
    );
    let err = timed(RedisStore::builder(&url).timeout(TIMEOUT).build())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot connect to Redis") && err.contains("no answer within 300ms"),
        "{err}"
    );

    for (url, wanted) in [
        ("http://not-redis", "invalid Redis URL"),
        ("redis://", "invalid Redis URL"),
        ("not a url at all", "invalid Redis URL"),
        ("redis://127.0.0.1:99999/0", "invalid Redis URL"),
    ] {
        let err = RedisStore::connect(url).await.unwrap_err();
        assert!(
            matches!(&err, ConnectError::Config(_)) && err.to_string().contains(wanted),
            "{url}: {err:?}"
        );
    }
    let err = RedisStore::builder("redis://127.0.0.1/")
        .timeout(Duration::ZERO)
        .build()
        .await
        .unwrap_err();
    assert!(matches!(&err, ConnectError::Config(_)), "{err:?}");
    assert!(
        err.to_string().contains("timeout must be above zero"),
        "{err}"
    );
}

#[tokio::test]
async fn a_tls_store_needs_the_application_to_choose_a_crypto_provider() {
    // Nothing in this test binary installs a rustls provider.
    let err = RedisStore::connect("rediss://127.0.0.1:1/0")
        .await
        .unwrap_err();
    assert!(matches!(&err, ConnectError::Config(_)), "{err:?}");
    assert!(err.to_string().contains("install_default()"), "{err}");
    assert!(
        costkatana_webhooks_redis::rustls::crypto::CryptoProvider::get_default().is_none(),
        "building a store has no process-wide side effect"
    );
}

#[tokio::test]
async fn passwords_in_the_url_are_used_and_never_shown() {
    let Some(server) = RedisServer::start_with(&["--requirepass", "c0rrect-h0rse"]) else {
        return;
    };
    let port = server.port();
    let store = RedisStore::builder(&format!("redis://:c0rrect-h0rse@127.0.0.1:{port}/0"))
        .timeout(TIMEOUT)
        .build()
        .await
        .unwrap();
    assert!(matches!(
        store.claim("ns:event:1", LEASE).await.unwrap(),
        Claim::Fresh(_)
    ));
    let named = RedisStore::connect(&format!("redis://default:c0rrect-h0rse@127.0.0.1:{port}/0"))
        .await
        .unwrap();
    assert_eq!(
        named.claim("ns:event:1", LEASE).await.unwrap(),
        Claim::InFlight
    );

    let err = RedisStore::connect(&format!("redis://127.0.0.1:{port}/0"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectError::Config(_)),
        "a refused password is a setting: {err:?}"
    );
    let err = err.to_string();
    assert!(
        err.contains("NOAUTH") || err.contains("uthentication"),
        "{err}"
    );
    let wrong = format!("redis://:wr0ng-pa55@127.0.0.1:{port}/0");
    let err = RedisStore::connect(&wrong).await.unwrap_err();
    assert!(matches!(&err, ConnectError::Config(_)), "{err:?}");
    let err = err.to_string();
    assert!(
        err.contains("Redis at redis://***@127.0.0.1") && err.contains("refused the credentials"),
        "{err}"
    );
    assert!(!err.contains("wr0ng-pa55"), "{err}");
    let shown = format!("{:?} {store:?}", RedisStore::builder(&wrong));
    assert!(
        !shown.contains("wr0ng-pa55") && !shown.contains("c0rrect-h0rse"),
        "{shown}"
    );
}

#[tokio::test]
async fn fail_open_answers_fresh_when_redis_is_down_and_those_tokens_release_nothing() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let store = RedisStore::builder(&server.url())
        .timeout(TIMEOUT)
        .dangerously_fail_open()
        .build()
        .await
        .unwrap();
    // While Redis answers, fail-open deduplicates as usual.
    let Claim::Fresh(token) = store.claim("ns:event:up", LEASE).await.unwrap() else {
        panic!("fresh")
    };
    assert_eq!(
        store.claim("ns:event:up", LEASE).await.unwrap(),
        Claim::InFlight
    );
    store.complete("ns:event:up", token, LEASE).await.unwrap();
    assert_eq!(
        store.claim("ns:event:up", LEASE).await.unwrap(),
        Claim::Done
    );

    server.stop();
    let mut tokens = Vec::new();
    for _ in 0..2 {
        // The same event twice during the outage: both handled (the risk).
        let Claim::Fresh(token) = timed(store.claim("ns:event:down", LEASE)).await.unwrap() else {
            panic!("fail-open answers fresh")
        };
        tokens.push(token);
    }
    timed(store.complete("ns:event:down", tokens[0], LEASE))
        .await
        .unwrap();
    timed(store.release("ns:event:down", tokens[1]))
        .await
        .unwrap();

    server.restart();
    claim_when_back(&store, "ns:event:probe").await;
    // A token from the outage owns no key: releasing it frees nothing...
    let Claim::Fresh(live) = store.claim("ns:event:held", LEASE).await.unwrap() else {
        panic!("fresh")
    };
    store.release("ns:event:held", tokens[1]).await.unwrap();
    assert_eq!(
        store.claim("ns:event:held", LEASE).await.unwrap(),
        Claim::InFlight
    );
    // ...and completing it over another holder's claim changes nothing.
    assert_eq!(
        store
            .complete("ns:event:held", tokens[0], LEASE)
            .await
            .unwrap(),
        costkatana_webhooks::dedupe::Completion::Overtaken
    );
    assert_eq!(
        store.claim("ns:event:held", LEASE).await.unwrap(),
        Claim::InFlight
    );
    store.release("ns:event:held", live).await.unwrap();
    // Its handler did succeed: where nobody holds the key, that is recorded.
    store
        .complete("ns:event:down", tokens[0], LEASE)
        .await
        .unwrap();
    assert_eq!(
        store.claim("ns:event:down", LEASE).await.unwrap(),
        Claim::Done
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_run_then_restarted_every_event_once() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let runs = Arc::new(Mutex::new(std::collections::HashMap::<String, usize>::new()));
    let handler_runs = runs.clone();
    let receiver = Receiver::builder()
        .secret("s3cret")
        .dangerously_disable_timestamp_check()
        .store(store(&server).await)
        .fallback(move |payload: Payload| {
            let runs = handler_runs.clone();
            async move {
                *runs
                    .lock()
                    .unwrap()
                    .entry(payload.event_id().unwrap_or_default().to_owned())
                    .or_default() += 1;
                Ok(())
            }
        })
        .build()
        .unwrap();
    let request = |i: usize| {
        let body = sample_event(&EventType::CostAlert, Shape::Camel, &format!("evt_{i}"), 0);
        (
            sign(Scheme::Current, "s3cret", 0, body.as_bytes()),
            bytes::Bytes::from(body),
        )
    };
    for i in 0..10 {
        let (headers, body) = request(i);
        assert_eq!(
            receiver.receive("POST", &headers, body).await.label(),
            "processed"
        );
    }
    server.stop();
    let failed = Arc::new(AtomicUsize::new(0));
    for i in 10..20 {
        let (headers, body) = request(i);
        let outcome = receiver.receive("POST", &headers, body).await;
        assert_eq!(
            (outcome.answer().status, outcome.label()),
            (503, "store_unavailable")
        );
        failed.fetch_add(1, Ordering::SeqCst);
    }
    assert_eq!(
        runs.lock().unwrap().len(),
        10,
        "no handler ran without a claim"
    );
    server.restart();
    // The sender retries each 503 with the original request until it is delivered.
    for i in 10..20 {
        let (headers, body) = request(i);
        let mut delivered = false;
        for _ in 0..100 {
            let outcome = receiver.receive("POST", &headers, body.clone()).await;
            if outcome.answer().status == 200 {
                delivered = true;
                break;
            }
            assert_eq!(outcome.label(), "store_unavailable", "{:?}", outcome);
            tokio::time::sleep(Duration::from_millis(50)).await; // the retry delay, shortened
        }
        assert!(delivered, "evt_{i} delivered after the restart");
    }
    let runs = runs.lock().unwrap();
    assert_eq!(runs.len(), 20);
    assert!(
        runs.values().all(|&n| n == 1),
        "every event exactly once: {runs:?}"
    );
    assert_eq!(failed.load(Ordering::SeqCst), 10);
}

/// The documented limit: a request future dropped outside any runtime (a
/// process shutting down) cannot release its Redis claim, which is a
/// network call; the claim frees when its lease ends, and the retry after
/// that is processed.
#[test]
fn a_claim_abandoned_outside_a_runtime_frees_when_its_lease_ends() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let lease = Duration::from_millis(500);
    let first = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let started = Arc::new(tokio::sync::Notify::new());
    let handler_started = started.clone();
    let receiver = runtime.block_on(async {
        Receiver::builder()
            .secret("s3cret")
            .lease(lease)
            .store(store(&server).await)
            .fallback(move |_: Payload| {
                let wait = first.swap(false, Ordering::SeqCst);
                let started = handler_started.clone();
                async move {
                    if wait {
                        started.notify_one();
                        std::future::pending::<()>().await;
                    }
                    Ok(())
                }
            })
            .build()
            .unwrap()
    });
    let body = sample_event(
        &EventType::CostAlert,
        Shape::Camel,
        "evt_abandoned",
        now_ms(),
    );
    let headers = sign(Scheme::Current, "s3cret", now_ms(), body.as_bytes());
    let send = || receiver.receive("POST", &headers, body.clone());

    let mut abandoned = Box::pin(send());
    // Poll it inside the runtime until its handler holds the claim.
    runtime.block_on(async {
        tokio::select! {
            _ = &mut abandoned => panic!("the first handler never finishes"),
            () = started.notified() => {}
        }
    });
    drop(abandoned); // outside the runtime: the release cannot be sent
    runtime.block_on(async {
        assert_eq!(
            send().await,
            Outcome::Failed(costkatana_webhooks::ErrorKind::InProgress.into()),
            "still held until the lease ends"
        );
        let processed = eventually(Duration::from_secs(10), "the lease ends", || async {
            matches!(send().await, Outcome::Processed { .. }).then_some(())
        });
        processed.await;
    });
}

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// `Receiver::health` asks the server: ready while it answers, 503 (naming
/// the store) while it is down, ready again once it is back.
#[tokio::test]
async fn health_follows_the_server() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let receiver = Receiver::builder()
        .secret("whsec_health")
        .store(store(&server).await)
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .unwrap();
    assert!(receiver.health().await.is_ready());
    server.stop();
    let down = timed(receiver.health()).await;
    assert_eq!(down.status(), 503);
    assert!(down.to_string().contains("redis ping"), "{down}");
    server.restart();
    let mut ready = false;
    for _ in 0..200 {
        if receiver.health().await.is_ready() {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(ready, "healthy again once the server is back");
}

//! The shared suite against the in-memory store (manual clock) and a real
//! redis-server (real time), then what the Redis store writes.

mod suite;
mod support;

use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::dedupe::{Claim, DedupeStore, MemoryStore};
use costkatana_webhooks::ManualClock;
use costkatana_webhooks_redis::{RedisStore, DEFAULT_PREFIX};
use redis::AsyncCommands;
use suite::Time;
use support::RedisServer;

const LEASE: Duration = Duration::from_secs(60);
const TTL: Duration = Duration::from_secs(86_400);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_passes_the_suite() {
    let clock = Arc::new(ManualClock::new(1_777_377_600_000));
    let store = Arc::new(MemoryStore::builder().clock(clock.clone()).build());
    suite::run(store, Time::Manual(&clock)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_passes_the_suite() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = Arc::new(RedisStore::connect(&server.url()).await.unwrap());
    suite::run(store, Time::Real).await;
}

#[tokio::test]
async fn keys_values_and_expiry_on_the_wire() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let mut redis = support::raw(&server.url()).await;
    let key = format!("{DEFAULT_PREFIX}ns:event:evt_1");

    let Claim::Fresh(token) = store.claim("ns:event:evt_1", LEASE).await.unwrap() else {
        panic!("fresh")
    };
    let held: String = redis.get(&key).await.unwrap();
    assert_eq!(held, format!("inflight:{}", token.to_hex()));
    let left: i64 = redis.pttl(&key).await.unwrap();
    assert!(left > 55_000 && left <= 60_000, "lease PTTL {left}");

    store.complete("ns:event:evt_1", token, TTL).await.unwrap();
    let held: String = redis.get(&key).await.unwrap();
    assert_eq!(held, "done");
    let left: i64 = redis.pttl(&key).await.unwrap();
    assert!(left > 86_395_000 && left <= 86_400_000, "TTL PTTL {left}");

    let Claim::Fresh(token) = store.claim("ns:event:evt_2", LEASE).await.unwrap() else {
        panic!("fresh")
    };
    store.release("ns:event:evt_2", token).await.unwrap();
    let exists: bool = redis
        .exists(format!("{DEFAULT_PREFIX}ns:event:evt_2"))
        .await
        .unwrap();
    assert!(!exists, "release deletes the key");
    let keys: Vec<String> = redis.keys("*").await.unwrap();
    assert_eq!(keys, [key], "one key per event, nothing else");
}

#[tokio::test]
async fn durations_out_of_redis_range_still_work() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let Claim::Fresh(token) = store.claim("ns:event:max", Duration::MAX).await.unwrap() else {
        panic!("fresh")
    };
    store
        .complete("ns:event:max", token, Duration::MAX)
        .await
        .unwrap();
    assert_eq!(
        store.claim("ns:event:max", LEASE).await.unwrap(),
        Claim::Done
    );
    // A zero lease is the shortest Redis takes (1 ms), not an error.
    store.claim("ns:event:zero", Duration::ZERO).await.unwrap();
}

#[tokio::test]
async fn prefixes_and_databases_keep_stores_apart() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let port = server.port();
    let billing = RedisStore::builder(&server.url())
        .prefix("billing:")
        .build()
        .await
        .unwrap();
    let alerts = RedisStore::builder(&server.url())
        .prefix("alerts:")
        .build()
        .await
        .unwrap();
    let db3 = RedisStore::connect(&format!("redis://127.0.0.1:{port}/3"))
        .await
        .unwrap();
    assert_eq!(billing.prefix(), "billing:");
    for store in [&billing, &alerts, &db3] {
        assert!(matches!(
            store.claim("ns:event:1", LEASE).await.unwrap(),
            Claim::Fresh(_)
        ));
    }
    let mut db0 = support::raw(&server.url()).await;
    let mut keys: Vec<String> = db0.keys("*").await.unwrap();
    keys.sort();
    assert_eq!(keys, ["alerts:ns:event:1", "billing:ns:event:1"]);
    let mut db3_raw = support::raw(&format!("redis://127.0.0.1:{port}/3")).await;
    let keys: Vec<String> = db3_raw.keys("*").await.unwrap();
    assert_eq!(keys, [format!("{DEFAULT_PREFIX}ns:event:1")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_racing_for_one_key_one_wins() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let replicas = [
        Arc::new(RedisStore::connect(&server.url()).await.unwrap()),
        Arc::new(RedisStore::connect(&server.url()).await.unwrap()),
    ];
    for round in 0..20 {
        let key = format!("ns:event:{round}");
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let (store, key) = (replicas[i % 2].clone(), key.clone());
                tokio::spawn(async move { store.claim(&key, LEASE).await.unwrap() })
            })
            .collect();
        let mut fresh = 0;
        for task in tasks {
            match task.await.unwrap() {
                Claim::Fresh(_) => fresh += 1,
                other => assert_eq!(other, Claim::InFlight),
            }
        }
        assert_eq!(fresh, 1, "round {round}");
    }
}

#[tokio::test]
async fn a_key_holding_foreign_data_is_an_error_not_a_guess() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = RedisStore::connect(&server.url()).await.unwrap();
    let mut redis = support::raw(&server.url()).await;
    let _: () = redis
        .set(
            format!("{DEFAULT_PREFIX}ns:event:str"),
            "someone-elses-secret",
        )
        .await
        .unwrap();
    let _: () = redis
        .hset(format!("{DEFAULT_PREFIX}ns:event:hash"), "f", "v")
        .await
        .unwrap();
    let err = store
        .claim("ns:event:str", LEASE)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("did not write"), "{err}");
    assert!(!err.contains("someone-elses-secret"), "{err}");
    let err = store
        .claim("ns:event:hash", LEASE)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("redis claim"), "{err}");
}

/// The guide's migration from the earlier key layout, run with the real
/// `redis-cli`: an event done under `<prefix>default:event:<id>` is still a
/// duplicate afterwards, with its TTL carried over.
#[tokio::test]
async fn the_guides_key_migration_keeps_done_events_done() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let mut raw = support::raw(&server.url()).await;
    let old = format!("{DEFAULT_PREFIX}default:event:evt_migrated");
    let _: () = raw.set_ex(&old, "done", 3600).await.unwrap();

    let readme = include_str!("../../../docs/guide/replicas.md");
    let script = readme
        .split("```sh\nredis-cli --scan")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .map(|rest| format!("redis-cli --scan{rest}"))
        .expect("the migration snippet in the guide's replicas chapter");
    let port = server.port().to_string();
    let status = std::process::Command::new("sh")
        .args([
            "-c",
            &script.replace("redis-cli", &format!("redis-cli -p {port}")),
        ])
        .status()
        .expect("sh and redis-cli run");
    assert!(status.success());

    let new = format!("{DEFAULT_PREFIX}7:default:event:evt_migrated");
    let ttl: i64 = raw.ttl(&new).await.unwrap();
    assert!((3500..=3600).contains(&ttl), "TTL carried over: {ttl}");
    let receiver = costkatana_webhooks::Receiver::builder()
        .secret("s3cret")
        .namespace("default")
        .store(RedisStore::connect(&server.url()).await.unwrap())
        .fallback(|_: costkatana_webhooks::Payload| async { Ok(()) })
        .build()
        .unwrap();
    let body = br#"{"eventId":"evt_migrated","eventType":"cost.alert"}"#.to_vec();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let headers = costkatana_webhooks::signing::sign(
        costkatana_webhooks::Scheme::Current,
        "s3cret",
        now,
        &body,
    );
    let outcome = receiver.receive("POST", &headers, body).await;
    assert_eq!(outcome.label(), "duplicate");
}

//! A real three-shard Redis Cluster (three redis-servers joined with
//! `redis-cli --cluster create`): the shared suite passes through
//! `RedisStoreBuilder::cluster()`, and keys spread over the shards.

mod suite;
mod support;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::dedupe::{Claim, DedupeStore};
use costkatana_webhooks_redis::RedisStore;
use suite::Time;
use support::{eventually, RedisServer};

/// Three cluster-enabled servers, joined; `None` where a plain server
/// test would skip too.
async fn cluster() -> Option<Vec<RedisServer>> {
    let args = [
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
    ];
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(RedisServer::start_with(&args)?);
    }
    let addresses: Vec<String> = nodes
        .iter()
        .map(|n| format!("127.0.0.1:{}", n.port()))
        .collect();
    let out = Command::new("redis-cli")
        .arg("--cluster")
        .arg("create")
        .args(&addresses)
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .output()
        .expect("redis-cli (package redis-tools, a dependency of redis-server)");
    assert!(
        out.status.success(),
        "redis-cli --cluster create: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    for node in &nodes {
        let raw = support::raw(&node.url()).await;
        eventually(Duration::from_secs(10), "cluster_state:ok", || {
            let mut raw = raw.clone();
            async move {
                let info: String = redis::cmd("CLUSTER")
                    .arg("INFO")
                    .query_async(&mut raw)
                    .await
                    .ok()?;
                info.contains("cluster_state:ok").then_some(())
            }
        })
        .await;
    }
    Some(nodes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_passes_the_suite_with_keys_on_every_shard() {
    let Some(nodes) = cluster().await else {
        return;
    };
    let store = RedisStore::builder(&nodes[0].url())
        .cluster()
        .build()
        .await
        .unwrap();
    let store = Arc::new(store);
    suite::run(store.clone(), Time::Real).await;

    for i in 0..30 {
        assert!(matches!(
            store
                .claim(&format!("ns:event:{i}"), Duration::from_secs(60))
                .await
                .unwrap(),
            Claim::Fresh(_)
        ));
    }
    for node in &nodes {
        let size: u64 = redis::cmd("DBSIZE")
            .query_async(&mut support::raw(&node.url()).await)
            .await
            .unwrap();
        assert!(size > 0, "every shard holds keys");
    }
}

#[tokio::test]
async fn a_single_endpoint_store_on_a_cluster_fails_closed_clearly() {
    let Some(nodes) = cluster().await else {
        return;
    };
    // Without .cluster(), keys owned by another shard answer MOVED.
    let store = RedisStore::connect(&nodes[0].url()).await.unwrap();
    let mut moved = 0;
    for i in 0..30 {
        match store
            .claim(&format!("ns:event:{i}"), Duration::from_secs(60))
            .await
        {
            Ok(claim) => assert!(matches!(claim, Claim::Fresh(_))),
            Err(err) => {
                assert!(
                    err.to_string().contains("build the store with .cluster()"),
                    "{err}"
                );
                moved += 1;
            }
        }
    }
    assert!(moved > 0, "some keys live on other shards");
}

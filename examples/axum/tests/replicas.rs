//! Three replicas of the example receiver share one Redis: 200 distinct
//! events, each sent to all three at once, are processed exactly 200 times
//! in total (the `processed` counters of the three `/metrics` add up).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use costkatana_webhooks::signing::sign;
use costkatana_webhooks::testing::{sample_event, Shape};
use costkatana_webhooks::{EventType, Scheme};
use costkatana_webhooks_redis::testing::RedisServer;

const SECRET: &str = "whsec_replicas";

/// A replica; killed on drop.
struct Replica {
    child: Child,
    base: String,
}

impl Replica {
    fn start(redis_url: &str) -> Replica {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_example-axum"))
            .env("COSTKATANA_WEBHOOK_SECRET", SECRET)
            .env("REDIS_URL", redis_url)
            .env("ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .env_remove("COSTKATANA_WEBHOOK_TOLERANCE_SECS")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the example starts");
        // The first line announces the address once the store is connected.
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.contains("listening on"), "unexpected start: {line:?}");
        Replica {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends one signed delivery like the sender: resent unchanged on 5xx.
async fn deliver(
    client: reqwest::Client,
    url: String,
    headers: Vec<(String, String)>,
    body: String,
) -> u16 {
    for _ in 0..100 {
        let mut request = client.post(&url).body(body.clone());
        for (name, value) in &headers {
            request = request.header(name, value);
        }
        let status = request
            .send()
            .await
            .expect("the replica answers")
            .status()
            .as_u16();
        if status < 500 {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(20)).await; // the sender's retry delay, shortened
    }
    panic!("never delivered");
}

fn processed(metrics: &str) -> u64 {
    metrics
        .lines()
        .find(|l| l.starts_with(r#"costkatana_webhook_requests_total{outcome="processed"}"#))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_process_each_event_once() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let replicas: Vec<Replica> = (0..3).map(|_| Replica::start(&redis.url())).collect();
    let client = reqwest::Client::new();
    let now = i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();

    let mut sends = Vec::new();
    for i in 0..200 {
        let body = sample_event(
            &EventType::BudgetExceeded,
            Shape::Camel,
            &format!("budget_exceeded_{i}"),
            now,
        );
        let headers = sign(Scheme::Current, SECRET, now, body.as_bytes());
        for replica in &replicas {
            let url = format!("{}/webhooks/costkatana", replica.base);
            sends.push(tokio::spawn(deliver(
                client.clone(),
                url,
                headers.clone(),
                body.clone(),
            )));
        }
    }
    for send in sends {
        assert_eq!(send.await.unwrap(), 200);
    }

    let mut total = 0;
    for replica in &replicas {
        let metrics = client
            .get(format!("{}/metrics", replica.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        total += processed(&metrics);
    }
    assert_eq!(total, 200, "each event processed by exactly one replica");
}

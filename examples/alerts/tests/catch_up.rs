//! Catch-up with real processes: a local Cost Katana (the sandbox, in this
//! process) delivers to the example-alerts binary, which recovers what the
//! sender dropped while it was down (`COSTKATANA_API_URL`, `_API_KEY`,
//! `_WEBHOOK_ID`, a pass every second). The Slack capture server counts the
//! messages of each event (its title carries `[<tag>]`): one message is one
//! handling. The sandbox's records say what the sender did: one replay per
//! lost event, each carrying `metadata.originalDeliveryId`.
//!
//! Events sent while the receiver is down are emitted on a sandbox clock an
//! hour behind, as after an hour-long outage: their replays carry the
//! original, hour-old timestamps, far outside the receiver's 5-minute
//! window, so each is let in only because catch-up recorded that it asked
//! for it.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use costkatana_webhooks::{Clock, EventType, SystemClock};
use costkatana_webhooks_api::{Client, CreateWebhook, Delivery as Record, DeliveryQuery};
use costkatana_webhooks_inbox::testing::PostgresServer;
use costkatana_webhooks_redis::testing::RedisServer;
use costkatana_webhooks_sandbox::{Emission, RunningSandbox, Sandbox};
use futures_util::TryStreamExt;
use serde_json::{json, Value};
use support::{free_port, Alerts, Reply, Slack, TempDir, WAIT};

/// How far behind the sandbox's clock runs while the receiver is down.
const OUTAGE_MS: i64 = 3_600_000;

/// What a pass that found nothing to do logs (at debug level).
const QUIET_PASS: &str = "catch-up: nothing lost";

/// The sandbox's clock: the system's, `behind_ms` in the past. Events
/// emitted while it is behind were sent "an hour ago", without waiting an
/// hour.
#[derive(Debug, Default)]
struct SenderClock {
    behind_ms: AtomicI64,
}

impl SenderClock {
    fn set_behind(&self, ms: i64) {
        self.behind_ms.store(ms, Ordering::SeqCst);
    }
}

impl Clock for SenderClock {
    fn now_ms(&self) -> i64 {
        SystemClock.now_ms() - self.behind_ms.load(Ordering::SeqCst)
    }
}

/// One event emitted: its tag (in its title, so in its Slack message) and
/// what the sandbox made of it.
#[derive(Debug, Clone)]
struct Sent {
    tag: String,
    event_id: String,
    /// Its first delivery record; `None` when the webhook was inactive.
    delivery_id: Option<String>,
}

/// A sandbox, a webhook on it for `budget.exceeded` pointing at a port
/// nothing listens on yet, and a Slack capture server.
struct World {
    sandbox: RunningSandbox,
    clock: Arc<SenderClock>,
    client: Client,
    webhook_id: String,
    secret: String,
    /// The port the webhook's URL names.
    port: u16,
    slack: Slack,
}

impl World {
    async fn start() -> World {
        let clock = Arc::new(SenderClock::default());
        let sandbox = Sandbox::builder()
            .speed(1000.0)
            .clock(Arc::clone(&clock))
            .start()
            .await
            .expect("the sandbox starts");
        let client = Client::builder()
            .base_url(sandbox.url())
            .api_key(sandbox.api_key().expose())
            .build()
            .expect("a client");
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}/webhooks/costkatana");
        let webhook = client
            .create_webhook(&CreateWebhook::new("alerts", url, ["budget.exceeded"]))
            .await
            .expect("the webhook is created");
        let secret = sandbox.webhook_secret(&webhook.id).expect("its secret");
        World {
            sandbox,
            clock,
            client,
            webhook_id: webhook.id,
            secret,
            port,
            slack: Slack::start(|_lane, _tag, _before| Reply::Status(200)).await,
        }
    }

    /// Emits a `budget.exceeded` titled with `[<tag>]`.
    fn emit(&self, tag: &str) -> Sent {
        let emission = Emission::new(EventType::BudgetExceeded).data(json!({
            "title": format!("Budget exceeded [{tag}]"),
            "description": "Spent $1,250.50 of $1,000",
            "severity": "critical",
        }));
        let emitted = self.sandbox.emit(emission).expect("emitted");
        Sent {
            tag: tag.to_owned(),
            event_id: emitted.event_id,
            delivery_id: emitted.delivery_ids.into_iter().next(),
        }
    }

    /// Emits `n` events tagged `<prefix>-<i>`.
    fn emit_many(&self, prefix: &str, n: usize) -> Vec<Sent> {
        (0..n)
            .map(|i| self.emit(&format!("{prefix}-{i}")))
            .collect()
    }

    /// The environment of a receiver for this webhook, with catch-up on
    /// (a pass a second) and `store` (`REDIS_URL` or `INBOX_URL`), posting
    /// to Slack lane `lane`.
    fn receiver_env(&self, store: &[(&str, &str)], lane: &str) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = [
            ("COSTKATANA_WEBHOOK_SECRET", self.secret.clone()),
            ("SLACK_WEBHOOK_URL", self.slack.url(lane)),
            ("COSTKATANA_API_URL", self.sandbox.url().to_owned()),
            (
                "COSTKATANA_API_KEY",
                self.sandbox.api_key().expose().to_owned(),
            ),
            ("COSTKATANA_WEBHOOK_ID", self.webhook_id.clone()),
            ("COSTKATANA_CATCH_UP_SECS", "1".to_owned()),
            // The passes' own lines (a quiet pass logs at debug level).
            ("RUST_LOG", "info,costkatana_webhooks_api=debug".to_owned()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
        env.extend(
            store
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
        );
        env
    }

    /// The receiver on the webhook's own port.
    fn receiver(&self, store: &[(&str, &str)], lane: &str) -> Alerts {
        Alerts::start_at(self.port, &as_refs(&self.receiver_env(store, lane)))
    }

    /// One record, in full (metadata, response).
    async fn record(&self, delivery_id: &str) -> Record {
        self.client
            .delivery(delivery_id)
            .await
            .expect("the record is there")
    }

    /// Every record of the webhook, in full, newest first.
    async fn records(&self) -> Vec<Record> {
        let listing = self
            .client
            .delivery_stream(&self.webhook_id, DeliveryQuery::new().limit(100));
        let listed: Vec<Record> = listing.try_collect().await.expect("the records");
        let mut all = Vec::with_capacity(listed.len());
        for record in listed {
            all.push(self.record(&record.id).await);
        }
        all
    }

    /// The replay records of each original delivery, by its id.
    async fn replays(&self) -> HashMap<String, Vec<Record>> {
        let mut replays: HashMap<String, Vec<Record>> = HashMap::new();
        for record in self.records().await {
            let original = record
                .metadata
                .as_ref()
                .and_then(|m| m.get("originalDeliveryId"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            if let Some(original) = original {
                replays.entry(original).or_default().push(record);
            }
        }
        replays
    }

    /// Every lost event was replayed exactly once, and that replay was
    /// answered 200.
    async fn assert_one_good_replay_each(&self, lost: &[Sent]) {
        let replays = self.replays().await;
        for sent in lost {
            let original = sent.delivery_id.as_deref().expect("a first record");
            let of_it = replays.get(original).map_or(&[][..], Vec::as_slice);
            assert_eq!(
                of_it.len(),
                1,
                "{}: replays of {original}: {of_it:#?}",
                sent.tag
            );
            let status = of_it[0].response.as_ref().and_then(|r| r.status_code);
            assert_eq!(status, Some(200), "{}: {:#?}", sent.tag, of_it[0]);
            assert_eq!(of_it[0].event_id, sent.event_id);
        }
        let lost_originals: Vec<&str> = lost
            .iter()
            .filter_map(|s| s.delivery_id.as_deref())
            .collect();
        let others: Vec<&String> = replays
            .keys()
            .filter(|id| !lost_originals.contains(&id.as_str()))
            .collect();
        assert!(
            others.is_empty(),
            "replays of deliveries not lost: {others:?}"
        );
    }

    /// Each of `sent` was handled exactly once: one Slack message, accepted.
    fn assert_handled_once(&self, sent: &[Sent]) {
        let counts = self.slack.counts();
        for s in sent {
            assert_eq!(
                counts.get(&s.tag),
                Some(&(1, 1)),
                "{} (event {}): {:#?}",
                s.tag,
                s.event_id,
                self.slack.hits()
            );
        }
    }
}

fn as_refs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
}

fn tags(sent: &[Sent]) -> Vec<String> {
    sent.iter().map(|s| s.tag.clone()).collect()
}

/// Waits until Slack accepted a message for each tag; on time-out, panics
/// with the receivers' logs.
async fn wait_handled(world: &World, tags: &[String], receivers: &[&Alerts]) {
    let deadline = Instant::now() + WAIT;
    loop {
        let counts = world.slack.counts();
        let missing: Vec<&String> = tags
            .iter()
            .filter(|tag| counts.get(*tag).is_none_or(|(_, accepted)| *accepted == 0))
            .collect();
        if missing.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not handled within {WAIT:?}: {missing:?}\n{}",
            logs(receivers)
        );
        tokio::time::sleep(Duration::from_millis(50)).await; // polling Slack's count
    }
}

/// Waits for two more passes that found nothing to do, in any of the
/// receivers (whatever the passes before asked has been answered, and no
/// later pass asks again), and checks that no pass stopped or failed.
async fn wait_two_quiet_passes(receivers: &[&Alerts]) {
    let quiet = || {
        receivers
            .iter()
            .map(|r| r.log_text().matches(QUIET_PASS).count())
            .sum::<usize>()
    };
    let target = quiet() + 2;
    let deadline = Instant::now() + WAIT;
    while quiet() < target {
        assert!(
            Instant::now() < deadline,
            "no two quiet catch-up passes within {WAIT:?}\n{}",
            logs(receivers)
        );
        tokio::time::sleep(Duration::from_millis(50)).await; // polling the logs
    }
    assert_no_pass_failed(receivers);
}

/// No pass stopped or failed (a pass stopped early still logs its report,
/// so quiet passes alone do not say it).
fn assert_no_pass_failed(receivers: &[&Alerts]) {
    for receiver in receivers {
        let log = receiver.log_text();
        assert!(
            !log.contains("catch-up stops this pass") && !log.contains("catch-up pass failed"),
            "{log}"
        );
    }
}

fn logs(receivers: &[&Alerts]) -> String {
    receivers
        .iter()
        .enumerate()
        .map(|(i, r)| format!("--- receiver {i}:\n{}", r.log_text()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A counter or gauge of a receiver's `GET /metrics` (0 when absent).
async fn metric(alerts: &Alerts, series: &str) -> f64 {
    let text = support::client()
        .get(format!("{}/metrics", alerts.base))
        .send()
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|line| {
            let value = line.strip_prefix(series)?.strip_prefix(' ')?;
            value.trim().parse().ok()
        })
        .unwrap_or(0.0)
}

/// Emits `n` events while nothing listens at the webhook's URL, an hour
/// ago by the sender's clock; each failed at once with a refused
/// connection.
async fn emit_while_down(world: &World, prefix: &str, n: usize) -> Vec<Sent> {
    world.clock.set_behind(OUTAGE_MS);
    let sent = world.emit_many(prefix, n);
    world.sandbox.settled().await;
    world.clock.set_behind(0);
    for s in &sent {
        let record = world
            .record(s.delivery_id.as_deref().expect("a record"))
            .await;
        let error = record.error.as_ref().expect("failed");
        assert_eq!(
            (error.kind.as_str(), error.code.as_deref()),
            ("network_error", Some("ECONNREFUSED")),
            "{record:#?}"
        );
    }
    sent
}

/// a. The receiver is down while 20 events are emitted (each refused at
/// once, never retried). Once it starts, catch-up replays each, the
/// hour-old replays are let in, and each event is handled exactly once.
async fn down_then_recovered(store: &[(&str, &str)]) {
    let world = World::start().await;
    let lost = emit_while_down(&world, "down", 20).await;

    let alerts = world.receiver(store, "alerts");
    wait_handled(&world, &tags(&lost), &[&alerts]).await;
    world.sandbox.settled().await;
    wait_two_quiet_passes(&[&alerts]).await;

    world.assert_handled_once(&lost);
    world.assert_one_good_replay_each(&lost).await;
    // Every replay was outside the window, and let in because asked for.
    let received = metric(&alerts, "costkatana_webhook_replays_received_total").await;
    assert_eq!(received, 20.0, "{}", alerts.log_text());
    let replays_asked = metric(
        &alerts,
        "costkatana_webhook_catch_up_replays_requested_total",
    )
    .await;
    assert_eq!(replays_asked, 20.0);
    assert_eq!(
        world.slack.hits().len(),
        lost.len(),
        "{:#?}",
        world.slack.hits()
    );
    alerts.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_sent_while_down_are_replayed_and_handled_once_on_redis() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    down_then_recovered(&[("REDIS_URL", &redis.url())]).await;
}

/// b. Down long enough for the sender to deactivate the webhook: 51
/// refused deliveries (more than 50 failed in 24 h), then 5 events that
/// get no record at all. After the restart catch-up re-activates the
/// webhook and replays the 51, each handled once; the 5 are gone for good;
/// a new event is delivered live again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_webhook_is_reactivated_and_every_recorded_event_handled_once() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let redis_url = redis.url();
    let world = World::start().await;
    let lost = emit_while_down(&world, "before", 51).await;
    let webhook = world.client.webhook(&world.webhook_id).await.expect("get");
    assert!(
        !webhook.active,
        "51 failures in 24 h deactivate: {webhook:#?}"
    );
    world.clock.set_behind(OUTAGE_MS);
    let gone = world.emit_many("after", 5);
    world.clock.set_behind(0);
    for sent in &gone {
        assert_eq!(sent.delivery_id, None, "an inactive webhook gets no record");
    }

    let alerts = world.receiver(&[("REDIS_URL", &redis_url)], "alerts");
    wait_handled(&world, &tags(&lost), &[&alerts]).await;
    world.sandbox.settled().await;
    wait_two_quiet_passes(&[&alerts]).await;

    let webhook = world.client.webhook(&world.webhook_id).await.expect("get");
    assert!(webhook.active, "re-activated: {webhook:#?}");
    let reactivations = metric(&alerts, "costkatana_webhook_catch_up_reactivations_total").await;
    assert_eq!(reactivations, 1.0, "{}", alerts.log_text());
    assert!(alerts.log_text().contains("re-activated it"));
    world.assert_handled_once(&lost);
    world.assert_one_good_replay_each(&lost).await;
    // The events emitted while it was inactive: no record, no message.
    let records = world.records().await;
    for sent in &gone {
        assert!(
            records.iter().all(|r| r.event_id != sent.event_id),
            "{}",
            sent.tag
        );
        assert_eq!(world.slack.arrived(&sent.tag), 0, "{}", sent.tag);
    }
    assert_eq!(records.len(), 2 * lost.len());

    // Active again: a new event is delivered at once.
    let live = world.emit("live");
    wait_handled(&world, &tags(std::slice::from_ref(&live)), &[&alerts]).await;
    world.sandbox.settled().await;
    let record = world
        .record(live.delivery_id.as_deref().expect("a record"))
        .await;
    assert_eq!(record.response.and_then(|r| r.status_code), Some(200));
    world.assert_handled_once(&[live]);
    alerts.stop();
}

/// A TCP load balancer on 127.0.0.1: each connection goes to the next
/// backend, round robin, skipping those that refuse it (none accepting, the
/// connection is dropped). It ends with the test's runtime.
struct Balancer(tokio::net::TcpListener);

impl Balancer {
    /// Listens on `port`; connections wait in the backlog until
    /// [`Balancer::serve`], as they would behind a load balancer whose
    /// backends are starting.
    async fn bind(port: u16) -> Balancer {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("the balancer's port is free");
        Balancer(listener)
    }

    fn serve(self, backends: Vec<u16>) {
        let next = AtomicUsize::new(0);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = self.0.accept().await {
                let first = next.fetch_add(1, Ordering::Relaxed);
                let backends = backends.clone();
                tokio::spawn(async move {
                    for i in 0..backends.len() {
                        let port = backends[(first + i) % backends.len()];
                        if let Ok(mut outbound) =
                            tokio::net::TcpStream::connect(("127.0.0.1", port)).await
                        {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                            return;
                        }
                    }
                });
            }
        });
    }
}

/// c. Three replicas behind one URL, on one store, each running catch-up:
/// one replay per lost event (a replica asks, any may receive it), each
/// event handled once.
async fn three_replicas_recover(store: &[(&str, &str)]) {
    let world = World::start().await;
    let lost = emit_while_down(&world, "replicas", 30).await;

    // The replicas start behind the balancer's URL; whatever the first
    // one's catch-up gets replayed meanwhile waits, and is spread once all
    // three are up (the sender keeps its connections open, so a replica
    // gets every request of the connections it was handed).
    let balancer = Balancer::bind(world.port).await;
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let replicas: Vec<Alerts> = ports
        .iter()
        .enumerate()
        .map(|(i, port)| {
            let env = world.receiver_env(store, &format!("replica{i}"));
            Alerts::start_at(*port, &as_refs(&env))
        })
        .collect();
    balancer.serve(ports);
    let all: Vec<&Alerts> = replicas.iter().collect();
    wait_handled(&world, &tags(&lost), &all).await;
    world.sandbox.settled().await;
    wait_two_quiet_passes(&all).await;

    world.assert_handled_once(&lost);
    world.assert_one_good_replay_each(&lost).await;
    let mut by_lane: HashMap<String, usize> = HashMap::new();
    for hit in world.slack.hits() {
        *by_lane.entry(hit.lane).or_default() += 1;
    }
    let mut asked = Vec::new();
    for replica in &replicas {
        asked.push(
            metric(
                replica,
                "costkatana_webhook_catch_up_replays_requested_total",
            )
            .await,
        );
    }
    assert_eq!(asked.iter().sum::<f64>(), 30.0, "{}", logs(&all));
    eprintln!("messages sent per replica: {by_lane:?}; replays asked per replica: {asked:?}");
    for replica in replicas {
        replica.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_on_one_redis_ask_one_replay_per_lost_event() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    three_replicas_recover(&[("REDIS_URL", &redis.url())]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_on_one_postgres_inbox_ask_one_replay_per_lost_event() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let url = server.create_database("catch_up_replicas");
    three_replicas_recover(&[("INBOX_URL", &url), ("INBOX_RETRY_DELAY_MS", "50")]).await;
}

/// d. A stale authentic delivery nobody asked for is refused. An event
/// emitted an hour ago is handled by a receiver whose window is 2 h; the
/// receiver restarts with the default 5-minute window; a replay of that
/// delivery, asked through the API (not by catch-up), is answered 401
/// `stale_timestamp`, and catch-up, which knows the event was handled,
/// asks for nothing.
async fn stale_and_unasked_is_refused(store: &[(&str, &str)]) {
    let world = World::start().await;
    let mut env = world.receiver_env(store, "first");
    env.push((
        "COSTKATANA_WEBHOOK_TOLERANCE_SECS".to_owned(),
        "7200".to_owned(),
    ));
    let first = Alerts::start_at(world.port, &as_refs(&env));
    world.clock.set_behind(OUTAGE_MS);
    let old = world.emit("old");
    world.clock.set_behind(0);
    wait_handled(&world, std::slice::from_ref(&old.tag), &[&first]).await;
    world.sandbox.settled().await;
    first.stop();

    let alerts = world.receiver(store, "second");
    let original = old.delivery_id.clone().expect("a record");
    let replay = world.client.replay(&original).await.expect("replayed");
    world.sandbox.settled().await;
    let record = world.record(&replay.delivery_id).await;
    let response = record.response.as_ref().expect("answered");
    assert_eq!(response.status_code, Some(401), "{record:#?}");
    assert!(
        response
            .body
            .as_deref()
            .is_some_and(|body| body.contains("stale_timestamp")),
        "{record:#?}"
    );
    let stale = metric(
        &alerts,
        r#"costkatana_webhook_requests_total{outcome="stale_timestamp"}"#,
    )
    .await;
    assert_eq!(stale, 1.0);
    wait_two_quiet_passes(&[&alerts]).await;

    // Catch-up saw the refused replay and asked for nothing: the event was
    // handled. Still one message, and the one replay is the test's.
    world.assert_handled_once(&[old]);
    let replays = world.replays().await;
    assert_eq!(replays.len(), 1, "{replays:#?}");
    assert_eq!(replays[&original].len(), 1, "{replays:#?}");
    let received = metric(&alerts, "costkatana_webhook_replays_received_total").await;
    assert_eq!(received, 0.0);
    alerts.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_delivery_nobody_asked_for_is_401_stale_timestamp_on_redis() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    stale_and_unasked_is_refused(&[("REDIS_URL", &redis.url())]).await;
}

/// a and d on a SQLite inbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_sent_while_down_are_replayed_and_handled_once_on_sqlite() {
    let dir = TempDir::new("catch-up-sqlite");
    down_then_recovered(&[("INBOX_URL", &dir.sqlite_url())]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_delivery_nobody_asked_for_is_401_stale_timestamp_on_sqlite() {
    let dir = TempDir::new("catch-up-stale-sqlite");
    stale_and_unasked_is_refused(&[("INBOX_URL", &dir.sqlite_url())]).await;
}

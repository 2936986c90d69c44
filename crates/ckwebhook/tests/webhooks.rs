//! `ckwebhook webhooks`, the real binary, against a sandbox (the local Cost
//! Katana: management API and delivery engine) started in the test on
//! 127.0.0.1, over real HTTP. Receivers are a local server answering 200,
//! or a port nothing listens on (the sender then fails at once with a
//! refused connection); catch-up's store is a real Redis server or SQLite
//! inbox. Every process and wait is bounded; servers stop with the test.

mod support;

use std::net::TcpListener;
use std::time::Duration;

use costkatana_webhooks::receiver::DeliveryKey;
use costkatana_webhooks::{EventType, Payload, Receiver};
use costkatana_webhooks_api::Client;
use costkatana_webhooks_inbox::Inbox;
use costkatana_webhooks_redis::testing::RedisServer;
use costkatana_webhooks_redis::RedisStore;
use costkatana_webhooks_sandbox::{Emission, RunningSandbox, Sandbox};
use serde_json::{json, Value};
use support::ckwebhook;

/// The receiver's secret in the catch-up tests.
const SECRET: &str = "whsec_catch_up_cli";

/// A sandbox on 127.0.0.1 and the runtime serving it (and any receiver).
struct Local {
    sandbox: RunningSandbox,
    runtime: tokio::runtime::Runtime,
}

impl Local {
    /// A sandbox whose retry waits are 1000 times shorter than live.
    fn start() -> Local {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let sandbox = runtime
            .block_on(Sandbox::builder().speed(1000.0).start())
            .unwrap();
        Local { sandbox, runtime }
    }

    /// `ckwebhook webhooks`, pointed at the sandbox by the environment.
    fn cli(&self) -> assert_cmd::Command {
        let mut cmd = ckwebhook();
        cmd.env("COSTKATANA_API_URL", self.sandbox.url())
            .env("COSTKATANA_API_KEY", self.sandbox.api_key().expose())
            .env_remove("INBOX_URL")
            .env_remove("REDIS_URL")
            .arg("webhooks");
        cmd
    }

    /// Runs a verb that must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.cli().args(args).assert().success();
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    }

    /// Runs a verb with `--json` that must succeed; its stdout as JSON.
    fn json(&self, args: &[&str]) -> Value {
        let text = self.ok(&[args, &["--json"]].concat());
        serde_json::from_str(&text).unwrap_or_else(|err| panic!("{err}: {text}"))
    }

    /// Runs a verb that must fail with `code`; its stderr.
    fn fails(&self, code: i32, args: &[&str]) -> String {
        let out = self.cli().args(args).assert().code(code);
        String::from_utf8(out.get_output().stderr.clone()).unwrap()
    }

    /// Creates a webhook for `events` delivering to `url`; its id.
    fn create(&self, url: &str, events: &str) -> String {
        let created = self.json(&["create", "--name", "Test", "--url", url, "--events", events]);
        created["id"].as_str().unwrap().to_owned()
    }

    /// Emits `n` events of `event_type`; their ids.
    fn emit(&self, event_type: EventType, n: usize) -> Vec<String> {
        (0..n)
            .map(|_| {
                let emission = Emission::new(event_type.clone());
                self.sandbox.emit(emission).unwrap().event_id
            })
            .collect()
    }

    /// Waits until no delivery is pending.
    fn settle(&self) {
        self.runtime.block_on(async {
            tokio::time::timeout(Duration::from_secs(60), self.sandbox.settled())
                .await
                .expect("the sandbox settles within 60 s");
        });
    }

    /// The API's typed client, to look behind the CLI's back.
    fn client(&self) -> Client {
        Client::builder()
            .base_url(self.sandbox.url())
            .api_key(self.sandbox.api_key().expose())
            .build()
            .unwrap()
    }

    /// A receiver on 127.0.0.1 answering 200 to everything, served until
    /// the test ends; its URL.
    fn receiver_up(&self) -> String {
        let listener = self
            .runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().fallback(|| async { "ok" });
        self.runtime
            .spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/webhooks/costkatana")
    }
}

/// A URL on 127.0.0.1 where nothing listens: a receiver that is down.
fn receiver_down() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}/webhooks/costkatana")
}

/// The line of `text` whose first column is `name`.
fn line<'a>(text: &'a str, name: &str) -> &'a str {
    text.lines()
        .find(|line| line.starts_with(name))
        .unwrap_or_else(|| panic!("no line starting {name:?} in:\n{text}"))
}

/// The rows of a table printed by the CLI (the lines under its heading).
fn rows(text: &str) -> Vec<&str> {
    text.lines().skip(1).filter(|l| !l.is_empty()).collect()
}

#[test]
fn create_get_update_list_and_delete() {
    let local = Local::start();
    let url = receiver_down();
    let created = local.json(&[
        "create",
        "--name",
        "Alerts",
        "--url",
        &url,
        "--events",
        "savings.milestone_reached,usage.spike_detected,cost.alert",
        "--description",
        "production",
        "--timeout",
        "30s",
        "--max-retries",
        "5",
        "--initial-delay",
        "1s",
        "--backoff-multiplier",
        "1.5",
    ]);
    // The guide's spellings went out as the API spells them.
    assert_eq!(
        created["events"],
        json!(["savings.milestone", "usage.spike", "cost.alert"])
    );
    assert_eq!(
        created["retryConfig"],
        json!({"maxRetries": 5, "backoffMultiplier": 1.5, "initialDelay": 1000})
    );
    assert!(created["secret"].as_str().unwrap().starts_with("****"));
    let id = created["id"].as_str().unwrap().to_owned();

    let got = local.json(&["get", &id]);
    assert_eq!(got["timeout"], 30000, "30s is sent as 30000 ms");
    assert_eq!(got["description"], "production");
    assert_eq!(got["active"], true);
    let shown = local.ok(&["get", &id]);
    assert!(
        line(&shown, "timeout").ends_with("30000 ms (30s)"),
        "{shown}"
    );
    assert!(
        line(&shown, "events").ends_with("savings.milestone, usage.spike, cost.alert"),
        "{shown}"
    );
    assert!(
        line(&shown, "retries").ends_with("5 after 1000 ms (1s), times 1.5"),
        "{shown}"
    );

    // Human output says where the secret is: the sandbox's dashboard route.
    let out = local
        .cli()
        .args([
            "create",
            "--name",
            "Second",
            "--url",
            &url,
            "--events",
            "budget.exceeded",
        ])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let second = line(&text, "created webhook")
        .strip_prefix("created webhook ")
        .unwrap()
        .to_owned();
    assert!(
        text.contains(&format!(
            "{}/sandbox/webhooks/{second}/secret",
            local.sandbox.url()
        )),
        "{text}"
    );
    assert!(text.contains("never returns the secret"), "{text}");

    let listed = local.ok(&["list"]);
    assert!(listed.starts_with("ID"), "{listed}");
    assert_eq!(rows(&listed).len(), 2, "{listed}");
    let row = line(&listed, &id);
    assert!(
        row.contains(" Alerts ") && row.contains(" yes ") && row.contains(&url),
        "{row}"
    );
    assert!(row.contains("savings.milestone,usage.spike +1"), "{row}");

    // Update: a retry setting alone keeps the other two.
    let updated = local.json(&[
        "update",
        &id,
        "--name",
        "Renamed",
        "--events",
        "budget.exceeded",
        "--initial-delay",
        "2s",
        "--inactive",
    ]);
    assert_eq!(updated["name"], "Renamed");
    assert_eq!(updated["events"], json!(["budget.exceeded"]));
    assert_eq!(updated["active"], false);
    assert_eq!(
        updated["retryConfig"],
        json!({"maxRetries": 5, "backoffMultiplier": 1.5, "initialDelay": 2000})
    );
    let inactive = local.json(&["list", "--inactive"]);
    assert_eq!(inactive.as_array().unwrap().len(), 1);
    assert_eq!(inactive[0]["id"], id.as_str());
    let active = local.json(&["list", "--active"]);
    assert_eq!(active[0]["id"], second.as_str());
    let receiving = local.json(&["list", "--events", "budget.exceeded"]);
    assert_eq!(receiving.as_array().unwrap().len(), 2);

    // An unknown name is refused before anything is sent, the closest named.
    let err = local.fails(
        2,
        &[
            "create",
            "--name",
            "X",
            "--url",
            &url,
            "--events",
            "cost.alert,budget.exceded",
        ],
    );
    assert!(err.contains("\"budget.exceded\""), "{err}");
    assert!(err.contains("did you mean budget.exceeded"), "{err}");
    let err = local.fails(2, &["update", &id, "--events", "usage.spikes"]);
    assert!(err.contains("usage.spike"), "{err}");
    assert_eq!(local.json(&["list"]).as_array().unwrap().len(), 2);
    let err = local.fails(2, &["update", &id]);
    assert!(err.contains("nothing to change"), "{err}");

    let deleted = local.ok(&["delete", &id]);
    assert!(
        deleted.starts_with(&format!("deleted webhook {id}")),
        "{deleted}"
    );
    let err = local.fails(1, &["get", &id]);
    assert!(
        err.contains(&format!("get webhook {id}: Webhook not found")),
        "{err}"
    );
    assert!(err.contains(local.sandbox.url()), "{err}");
    assert!(err.contains("`ckwebhook webhooks list`"), "{err}");
    assert_eq!(
        local.json(&["delete", &second]),
        json!({"message": "Webhook deleted successfully"})
    );
    assert_eq!(
        local.ok(&["list"]).trim(),
        format!("no webhooks at {}", local.sandbox.url())
    );
}

#[test]
fn the_apis_validation_errors_are_printed_field_by_field() {
    let local = Local::start();
    let err = local.fails(
        2,
        &[
            "create",
            "--name",
            "Fast",
            "--url",
            &receiver_down(),
            "--events",
            "cost.alert",
            "--timeout",
            "1s",
            "--max-retries",
            "11",
        ],
    );
    assert!(
        err.contains(&format!(
            "{} answered 400 to create a webhook: Validation failed",
            local.sandbox.url()
        )),
        "{err}"
    );
    assert!(err.contains("\n  timeout: "), "{err}");
    assert!(err.contains("\n  retryConfig.maxRetries: "), "{err}");
    // An id that is not 24 hex characters is the API's validation error too.
    let err = local.fails(2, &["get", "not-an-id"]);
    assert!(err.contains("\n  id: Invalid webhook ID format"), "{err}");
}

#[test]
fn stats_shows_the_counters_beside_the_aggregate_that_reads_zero() {
    let local = Local::start();
    let id = local.create(&receiver_down(), "cost.alert");
    local.emit(EventType::CostAlert, 2);
    local.settle();

    let text = local.ok(&["stats", &id]);
    let counters = text
        .find("Its own counters (GET /api/webhooks/:id")
        .expect(&text);
    let aggregate = text
        .find("The stats route's aggregate (GET /api/webhooks/:id/stats)")
        .expect(&text);
    assert!(counters < aggregate, "{text}");
    assert!(line(&text, "  deliveries").ends_with(" 2"), "{text}");
    assert!(line(&text, "  failed").ends_with(" 2"), "{text}");
    assert!(line(&text, "  delivered").ends_with(" 0"), "{text}");
    let overall = line(&text, "  overall");
    assert_eq!(
        overall.split_whitespace().take(4).collect::<Vec<_>>(),
        ["overall", "0", "0", "0"],
        "{text}"
    );
    assert!(text.contains("reads zero on the live service"), "{text}");
    assert!(
        text.contains("Here it reads 0 deliveries while the counters read 2."),
        "{text}"
    );

    let both = local.json(&["stats", &id]);
    assert_eq!(both["id"], id.as_str());
    assert_eq!(both["counters"]["totalDeliveries"], 2);
    assert_eq!(both["counters"]["failedDeliveries"], 2);
    assert_eq!(both["aggregate"]["overall"]["total"], 0);
    assert_eq!(both["aggregate"]["last24h"]["total"], 0);
    assert!(both["note"].as_str().unwrap().contains("reads zero"));
}

#[test]
fn deliveries_are_listed_filtered_and_shown_with_the_signature_redacted() {
    let local = Local::start();
    let id = local.create(&local.receiver_up(), "cost.alert,budget.exceeded");
    local.emit(EventType::CostAlert, 2);
    let budget = local
        .sandbox
        .emit(Emission::new(EventType::BudgetExceeded))
        .unwrap();
    local.settle();

    let listed = local.ok(&["deliveries", &id]);
    assert!(listed.starts_with("DELIVERY ID"), "{listed}");
    assert_eq!(rows(&listed).len(), 3, "{listed}");
    assert!(
        rows(&listed).iter().all(|row| row.contains(" success ")),
        "{listed}"
    );
    let newest = rows(&listed)[0];
    assert!(
        newest.starts_with(&budget.delivery_ids[0]),
        "newest first: {listed}"
    );
    assert!(newest.contains(&budget.event_id), "{newest}");

    let of_type = local.json(&["deliveries", &id, "--type", "budget.exceeded"]);
    assert_eq!(of_type.as_array().unwrap().len(), 1);
    assert_eq!(of_type[0]["eventType"], "budget.exceeded");
    let none = local.ok(&["deliveries", &id, "--status", "failed"]);
    assert_eq!(none.trim(), "no delivery records matching status failed");
    let one = local.ok(&["deliveries", &id, "--limit", "1"]);
    assert_eq!(rows(&one).len(), 2, "one row and the note: {one}");
    assert!(
        one.contains("(2 older not shown, 3 in all: raise --limit, or --all)"),
        "{one}"
    );
    let all = local.json(&["deliveries", &id, "--all"]);
    assert_eq!(all.as_array().unwrap().len(), 3);

    // The record in full, its signature never shown.
    let delivery_id = &budget.delivery_ids[0];
    let record = local
        .runtime
        .block_on(local.client().delivery(delivery_id))
        .unwrap();
    let signature = record.sent_signature().unwrap().to_owned();
    assert_eq!(signature.len(), 64);
    let shown = local.ok(&["delivery", delivery_id]);
    assert!(!shown.contains(&signature), "{shown}");
    let header = shown
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("  x-webhook-signature:"))
        .expect(&shown);
    assert!(header.ends_with(": [redacted]"), "{header}");
    assert!(line(&shown, "signature").ends_with("[redacted]"), "{shown}");
    assert!(line(&shown, "status").ends_with("success"), "{shown}");
    assert!(line(&shown, "answer ").contains("HTTP 200"), "{shown}");
    assert!(
        shown.contains(&format!("\"{}\"", budget.event_id)),
        "the body: {shown}"
    );
    let as_json = local.json(&["delivery", delivery_id]);
    assert!(!as_json.to_string().contains(&signature), "{as_json}");
    assert_eq!(as_json["signature"], "[redacted]");
    assert_eq!(as_json["eventId"], budget.event_id.as_str());
}

#[test]
fn test_and_replay_queue_deliveries() {
    let local = Local::start();
    let id = local.create(&local.receiver_up(), "cost.alert");

    let ack = local.json(&["test", &id]);
    let test_id = ack["deliveryId"].as_str().unwrap().to_owned();
    local.settle();
    let record = local.json(&["delivery", &test_id]);
    assert_eq!(record["eventType"], "system.error");
    assert_eq!(record["status"], "success");
    assert!(
        record["request"]["body"]
            .as_str()
            .unwrap()
            .contains("Webhook Test"),
        "{record}"
    );

    let text = local.ok(&["replay", &test_id]);
    let queued = line(&text, "replay of");
    assert!(
        queued.starts_with(&format!("replay of {test_id} queued as delivery ")),
        "{text}"
    );
    let replay_id = queued
        .split_whitespace()
        .nth(6)
        .unwrap()
        .trim_end_matches(':')
        .to_owned();
    local.settle();
    let replayed = local.ok(&["delivery", &replay_id]);
    assert!(
        line(&replayed, "replay of").ends_with(&test_id),
        "{replayed}"
    );
    assert!(line(&replayed, "status").ends_with("success"), "{replayed}");
    let again = local.json(&["replay", &test_id]);
    assert_ne!(again["deliveryId"], replay_id.as_str());

    let missing = "65f0c0ffee0000000000beef";
    let err = local.fails(1, &["replay", missing]);
    assert!(
        err.contains(&format!("replay delivery {missing}: Delivery not found")),
        "{err}"
    );
    assert!(
        err.contains("`ckwebhook webhooks deliveries <webhook id>`"),
        "{err}"
    );

    local.ok(&["update", &id, "--inactive"]);
    let err = local.fails(1, &["test", &id]);
    assert!(err.contains("Webhook is not active"), "{err}");
    assert!(err.contains("update <id> --active"), "{err}");
}

#[test]
fn events_lists_the_57_types() {
    let local = Local::start();
    let text = local.ok(&["events"]);
    let table: Vec<&str> = text.split("\n\n").next().unwrap().lines().collect();
    assert!(table[0].starts_with("TYPE"), "{text}");
    assert_eq!(table.len(), 58, "{text}");
    assert!(
        line(&text, "usage.spike ").ends_with("usage.spike_detected"),
        "{text}"
    );
    assert!(text.contains("57 event types in 21 categories"), "{text}");
    let catalog = local.json(&["events"]);
    assert_eq!(catalog["total"], 57);
    assert_eq!(catalog["events"].as_array().unwrap().len(), 57);
}

#[test]
fn catch_up_dry_run_lists_what_a_down_receiver_lost() {
    let local = Local::start();
    let id = local.create(&receiver_down(), "cost.alert");
    let lost = local.emit(EventType::CostAlert, 3);
    local.settle();
    let records = local.json(&["deliveries", &id, "--status", "failed"]);
    assert_eq!(records.as_array().unwrap().len(), 3);
    assert!(records
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["error"]["code"] == "ECONNREFUSED"));

    // Without the receiver's store, only a dry run.
    let err = local.fails(2, &["catch-up", &id]);
    assert!(err.contains("needs the receiver's store"), "{err}");
    assert!(
        err.contains("--redis-url") && err.contains("--dry-run"),
        "{err}"
    );

    let text = local.ok(&["catch-up", &id, "--dry-run"]);
    assert!(text.contains(": dry run, nothing changed"), "{text}");
    assert!(text.contains("store: none given"), "{text}");
    assert!(line(&text, "lost").ends_with(" 3"), "{text}");
    assert!(line(&text, "replays asked").ends_with(" 0"), "{text}");
    for event_id in &lost {
        let row = line(&text, event_id);
        assert!(
            row.contains("network_error") && row.ends_with("not asked (no store)"),
            "{row}"
        );
    }
    let report = local.json(&["catch-up", &id, "--dry-run", "--since", "1h"]);
    assert_eq!(report["lost"].as_array().unwrap().len(), 3);
    assert_eq!(report["replaysAsked"], 0);
    assert_eq!(report["complete"], true);
    // Nothing was replayed.
    assert_eq!(
        local.json(&["deliveries", &id]).as_array().unwrap().len(),
        3
    );
}

/// A receiver's ledger on `store`, keyed by `secret`, as a receiver would
/// build it.
async fn ledger(url: &str, secret: &str) -> costkatana_webhooks::receiver::ReplayLedger {
    let store = RedisStore::connect(url).await.unwrap();
    Receiver::builder()
        .secret(secret)
        .store(store)
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .unwrap()
        .replay_ledger()
}

#[test]
fn catch_up_with_redis_asks_one_replay_per_lost_event_once() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let local = Local::start();
    let id = local.create(&receiver_down(), "cost.alert");
    let lost = local.emit(EventType::CostAlert, 3);
    local.settle();
    let store = ["--redis-url", &redis.url(), "--secret", SECRET];

    let report = local.json(&[&["catch-up", &id][..], &store].concat());
    assert_eq!(report["replaysAsked"], 3, "{report}");
    assert_eq!(report["complete"], true);
    let events = report["lost"].as_array().unwrap();
    assert_eq!(events.len(), 3);
    assert!(events.iter().all(|e| e["replayAsked"] == true), "{report}");
    local.settle();
    // The replays went out (and failed again: the receiver is still down).
    assert_eq!(
        local.json(&["deliveries", &id]).as_array().unwrap().len(),
        6
    );

    // The receiver, on the same store with the same secret, expects them.
    local.runtime.block_on(async {
        let receivers = ledger(&redis.url(), SECRET).await;
        let another = ledger(&redis.url(), "whsec_another_endpoint").await;
        for event_id in &lost {
            let key = DeliveryKey::EventId(event_id);
            let window = Duration::from_secs(3600);
            assert!(
                !receivers.expect_replay(key, window).await.unwrap(),
                "recorded"
            );
            assert!(
                another.expect_replay(key, window).await.unwrap(),
                "not its keys"
            );
        }
    });

    // A second pass asks none: already asked.
    let again = local.json(&[&["catch-up", &id][..], &store].concat());
    assert_eq!(again["replaysAsked"], 0, "{again}");
    assert_eq!(again["alreadyAsked"], 3, "{again}");
    local.settle();
    assert_eq!(
        local.json(&["deliveries", &id]).as_array().unwrap().len(),
        6
    );
    let text = local.ok(&[&["catch-up", &id][..], &store].concat());
    assert!(text.contains("store: the receiver's Redis store"), "{text}");
    assert!(line(&text, "replays asked").ends_with(" 0"), "{text}");
    for event_id in &lost {
        assert!(line(&text, event_id).ends_with("already asked"), "{text}");
    }
    assert!(!text.contains(SECRET), "{text}");
}

#[test]
fn catch_up_reactivates_a_webhook_the_sender_deactivated() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let local = Local::start();
    let id = local.create(&receiver_down(), "cost.alert");
    // More than 50 failures in 24 h deactivate it.
    local.emit(EventType::CostAlert, 51);
    local.settle();
    assert_eq!(local.json(&["get", &id])["active"], false);

    let dry = local.ok(&["catch-up", &id, "--dry-run"]);
    assert!(
        line(&dry, "webhook").contains("a pass without --dry-run re-activates it"),
        "{dry}"
    );
    assert_eq!(
        local.json(&["get", &id])["active"],
        false,
        "a dry run changes nothing"
    );

    let report = local.json(&[
        "catch-up",
        &id,
        "--redis-url",
        &redis.url(),
        "--secret",
        SECRET,
        "--replays-per-second",
        "1000",
    ]);
    assert_eq!(report["wasInactive"], true, "{report}");
    assert_eq!(report["reactivated"], true, "{report}");
    assert_eq!(report["replaysAsked"], 51, "{report}");
    local.settle();
}

#[test]
fn catch_up_with_a_sqlite_inbox() {
    let local = Local::start();
    let dir = std::env::temp_dir().join(format!("ckwebhook-catch-up-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let inbox = format!("sqlite:{}", dir.join("inbox.db").display());
    // The receiver creates its inbox when it starts.
    drop(local.runtime.block_on(Inbox::open(&inbox)).unwrap());
    let id = local.create(&receiver_down(), "cost.alert");
    local.emit(EventType::CostAlert, 2);
    local.settle();
    let store = ["--inbox-url", &inbox, "--secret", SECRET];

    let dry = local.json(&[&["catch-up", &id, "--dry-run"][..], &store].concat());
    assert_eq!(dry["lost"].as_array().unwrap().len(), 2, "{dry}");
    let text = local.ok(&[&["catch-up", &id, "--dry-run"][..], &store].concat());
    assert!(
        text.contains(&format!("store: the inbox at {inbox}")),
        "{text}"
    );

    let out = local
        .cli()
        .args([&["catch-up", &id, "--json"][..], &store].concat())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        // An inbox that records the replays it is told to expect.
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["replaysAsked"], 2, "{report}");
        local.settle();
        let again = local.json(&[&["catch-up", &id][..], &store].concat());
        assert_eq!(
            (&again["replaysAsked"], &again["alreadyAsked"]),
            (&json!(0), &json!(2))
        );
    } else {
        // An inbox that keeps no such record: the pass stops, saying why,
        // before asking any replay the receiver would refuse.
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("the pass did not finish"), "{stderr}");
        assert!(
            stderr.contains("keeps no record of the replays"),
            "{stderr}"
        );
        assert_eq!(
            local.json(&["deliveries", &id]).as_array().unwrap().len(),
            2
        );
    }

    let missing = format!("sqlite:{}", dir.join("missing.db").display());
    let err = local.fails(
        2,
        &["catch-up", &id, "--inbox-url", &missing, "--secret", SECRET],
    );
    assert!(err.contains("there is no inbox file at"), "{err}");
    let err = local.fails(2, &["catch-up", &id, "--inbox-url", &inbox]);
    assert!(err.contains("--secret"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_refused_key_exits_1_naming_only_its_prefix() {
    let local = Local::start();
    for args in [&["list"][..], &["list", "--json"], &["events"]] {
        let out = local
            .cli()
            .env("COSTKATANA_API_KEY", "dak_0123456789abcdef_notshown")
            .args(args)
            .assert()
            .code(1);
        let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(err.contains("answered 401"), "{err}");
        assert!(err.contains(local.sandbox.url()), "{err}");
        assert!(
            err.contains("dak_…") && err.contains("COSTKATANA_API_KEY"),
            "{err}"
        );
        assert!(
            !err.contains("notshown") && !err.contains("0123456789"),
            "{err}"
        );
        assert!(out.get_output().stdout.is_empty());
    }
    let out = local
        .cli()
        .args(["list", "--api-key", "ck_legacy_notshown"])
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("ck_…") && !err.contains("notshown"), "{err}");
}

#[test]
fn an_unreachable_api_exits_1_naming_its_url() {
    let url = receiver_down();
    let base = url.trim_end_matches("/webhooks/costkatana");
    let out = ckwebhook()
        .env("COSTKATANA_API_KEY", "dak_unused")
        .args(["webhooks", "list", "--api-url", base])
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains(&format!("cannot connect to {base}")), "{err}");
    assert!(err.contains("--api-url (COSTKATANA_API_URL)"), "{err}");

    let out = ckwebhook()
        .env("COSTKATANA_API_KEY", "dak_unused")
        .args(["webhooks", "events", "--api-url", "ftp://example.com"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("not an http(s) URL"), "{err}");

    let out = ckwebhook()
        .env_remove("COSTKATANA_API_KEY")
        .args(["webhooks", "list", "--api-url", base])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        err.contains("no API key") && err.contains("COSTKATANA_API_KEY"),
        "{err}"
    );
}

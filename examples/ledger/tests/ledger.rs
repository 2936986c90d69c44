//! The ledger binary over HTTP, on SQLite and on a real Postgres: every
//! event recorded once in `handled_events` (duplicates not), bodies with
//! no event id recorded by their dedupe key, the table created at start
//! and kept across restarts, a write that fails retried until it lands
//! once; and its refusals: no `INBOX_URL`, a bad `HANDLER_DELAY_MS`, an
//! inbox it cannot open, deliveries that do not verify.

mod support;

use std::time::Duration;

use costkatana_webhooks::EventType;
use costkatana_webhooks_inbox::testing::PostgresServer;
use support::{client, command, event, now_ms, poll, wait_exit, Db, Delivery, Ledger, TempDir};

/// Runs the binary with `env` until it exits; its status and stderr.
fn refused(env: &[(&str, &str)]) -> (i32, String) {
    let mut child = command(env)
        .env("ADDR", format!("127.0.0.1:{}", support::free_port()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("example-ledger starts");
    let status = wait_exit(&mut child);
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("stderr");
    (status.code().expect("an exit code"), stderr)
}

#[test]
fn refuses_to_start_without_an_inbox_url() {
    for env in [vec![], vec![("INBOX_URL", "")]] {
        let (code, stderr) = refused(&env);
        assert_eq!(code, 2, "{stderr}");
        assert!(
            stderr.contains("example-ledger: INBOX_URL is required")
                && stderr.contains("sqlite:<path> or postgres://"),
            "{stderr}"
        );
    }
}

#[test]
fn refuses_a_handler_delay_that_is_not_whole_milliseconds() {
    let dir = TempDir::new("bad-delay");
    for delay in ["fast", "-5", "1.5"] {
        let (code, stderr) = refused(&[
            ("INBOX_URL", &dir.sqlite_url()),
            ("HANDLER_DELAY_MS", delay),
        ]);
        assert_eq!(code, 2, "{stderr}");
        assert!(
            stderr.contains("HANDLER_DELAY_MS must be a whole number of milliseconds"),
            "{stderr}"
        );
    }
}

#[test]
fn refuses_an_inbox_it_cannot_open_with_status_1() {
    let dir = TempDir::new("bad-inbox");
    let missing_dir = format!("sqlite:{}", dir.0.join("no/such/dir/inbox.db").display());
    for (url, says) in [
        ("mysql://db/inbox", "INBOX_URL: "),
        (missing_dir.as_str(), "does not exist"),
    ] {
        let (code, stderr) = refused(&[("INBOX_URL", url)]);
        assert_eq!(code, 1, "{stderr}");
        assert!(stderr.contains(says), "{url}: {stderr}");
    }
}

/// Events of three types and a template body, each sent twice: one row
/// each; refusals; then a restart keeps the table and its rows.
async fn records_every_event_once(url: &str) {
    let db = Db::of(url);
    let env = [("INBOX_URL", url)];
    let ledger = Ledger::start(&env);
    let client = client();
    let sent = [
        (EventType::CostAlert, "evt_ledger_cost"),
        (EventType::BudgetExceeded, "evt_ledger_budget"),
        (EventType::SecurityAlert, "evt_ledger_security"),
    ];
    let started = now_ms();
    for (event_type, id) in &sent {
        let delivery = Delivery::new(event(event_type, id));
        let (status, answer) = delivery.send(&client, &ledger.webhook_url()).await;
        assert_eq!(status, 200, "{answer}");
        assert!(answer.contains(r#""stored":true"#), "{answer}");
        let (status, answer) = delivery.send(&client, &ledger.webhook_url()).await;
        assert_eq!(status, 200, "{answer}");
        assert!(answer.contains(r#""duplicate":true"#), "{answer}");
    }
    // A template body: a JSON string literal, with no event id.
    let template = Delivery::new(r#""{\"text\": \"Budget at 91%\"}""#.to_owned());
    let (status, answer) = template.send(&client, &ledger.webhook_url()).await;
    assert_eq!(status, 200, "{answer}");

    let rows = poll(
        "four rows in handled_events",
        Duration::from_secs(30),
        || {
            let db = db.clone();
            async move { Some(db.handled().await).filter(|rows| rows.len() >= 4) }
        },
    )
    .await;
    assert_eq!(rows.len(), 4, "{rows:#?}");
    for (event_type, id) in &sent {
        let row = rows
            .iter()
            .find(|row| row.0 == *id)
            .expect("a row per event");
        assert_eq!(row.1.as_deref(), Some(event_type.as_str()), "{row:?}");
        assert!((started..=now_ms()).contains(&row.2), "{row:?}");
    }
    let other = rows
        .iter()
        .find(|row| !row.0.starts_with("evt_ledger_"))
        .expect("the template's row");
    assert_eq!(other.1, None, "{other:?}");
    assert!(!other.0.is_empty());

    // What does not verify is refused, and recorded nowhere.
    let forged = Delivery::signed_with(event(&EventType::CostAlert, "evt_forged"), "whsec_other");
    let (status, answer) = forged.send(&client, &ledger.webhook_url()).await;
    assert_eq!(status, 401, "{answer}");
    assert!(answer.contains("invalid_signature"), "{answer}");
    let unsigned = client
        .post(ledger.webhook_url())
        .body(event(&EventType::CostAlert, "evt_unsigned"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(unsigned.status(), 400);

    let health = client
        .get(ledger.url("/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.expect("body"), "ok");
    let metrics = ledger.metrics().await;
    for line in [
        r#"costkatana_webhook_inbox_attempts_total{result="done"} 4"#,
        r#"costkatana_webhook_requests_total{outcome="invalid_signature"} 1"#,
        r#"costkatana_webhook_requests_total{outcome="missing_signature"} 1"#,
    ] {
        assert!(metrics.contains(line), "{line:?} missing from:\n{metrics}");
    }
    ledger.stop();

    // A restart finds the table, keeps its rows, and adds to them.
    let ledger = Ledger::start(&env);
    let (status, answer) = Delivery::new(event(&EventType::BudgetWarning, "evt_after"))
        .send(&client, &ledger.webhook_url())
        .await;
    assert_eq!(status, 200, "{answer}");
    poll(
        "the row of the event after the restart",
        Duration::from_secs(30),
        || {
            let db = db.clone();
            async move { db.counts().await.contains_key("evt_after").then_some(()) }
        },
    )
    .await;
    ledger.stop();
    let counts = db.counts().await;
    assert_eq!(counts.len(), 5, "{counts:?}");
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
}

/// A write that fails (the table is gone) fails the attempt; the inbox
/// retries it, and once the table is back the event is recorded once.
async fn a_failed_write_is_retried_and_lands_once(url: &str) {
    let db = Db::of(url);
    let ledger = Ledger::start(&[("INBOX_URL", url), ("INBOX_RETRY_DELAY_MS", "100")]);
    db.execute("DROP TABLE handled_events").await;
    let (status, answer) = Delivery::new(event(&EventType::CostAlert, "evt_no_table"))
        .send(&client(), &ledger.webhook_url())
        .await;
    assert_eq!(status, 200, "{answer}");
    let failed = ledger.wait_for_log("handler failed; retrying later").await;
    assert!(failed.contains("handled_events"), "{failed}");
    db.execute(example_ledger::CREATE_TABLE).await;
    poll(
        "the event recorded once the table is back",
        Duration::from_secs(30),
        || {
            let db = db.clone();
            async move { db.counts().await.get("evt_no_table").copied() }
        },
    )
    .await;
    ledger.stop();
    assert_eq!(db.counts().await.get("evt_no_table"), Some(&1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_records_every_event_once() {
    let dir = TempDir::new("records");
    records_every_event_once(&dir.sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_failed_write_is_retried_and_lands_once() {
    let dir = TempDir::new("failed-write");
    a_failed_write_is_retried_and_lands_once(&dir.sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    records_every_event_once(&server.create_database("ledger_records")).await;
    a_failed_write_is_retried_and_lands_once(&server.create_database("ledger_failed_write")).await;
}

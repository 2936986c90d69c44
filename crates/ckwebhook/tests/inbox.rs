//! `ckwebhook inbox` against real inboxes: a SQLite file, and a Postgres
//! server started for the test. A real receiver fills each inbox with
//! signed deliveries (some handled, some refused, some failing), then the
//! binary lists, shows, retries and purges them.

mod support;

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use costkatana_webhooks::inbox::{EntryState, RetryPolicy};
use costkatana_webhooks::signing::sign;
use costkatana_webhooks::testing::{iso8601, sample_event, Shape};
use costkatana_webhooks::{EventType, HandlerError, Payload, Receiver, Scheme};
use costkatana_webhooks_inbox::testing::PostgresServer;
use costkatana_webhooks_inbox::{Entry, EntryQuery, EntrySummary, Inbox};
use predicates::prelude::*;
use support::ckwebhook;
use tokio::sync::Semaphore;

const SECRET: &str = "whsec_inbox_cli";
const TOKEN: &str = "secret-token";
/// Sent in this order: two handled, one refused, one failing its only attempt.
const EVENTS: [(&str, EntryState); 4] = [
    ("evt_ok_1", EntryState::Done),
    ("evt_refuse_1", EntryState::Dead),
    ("evt_ok_2", EntryState::Done),
    ("evt_fail_1", EntryState::Dead),
];

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn block_on<T>(future: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// `ckwebhook inbox --url <url>`, with no inbox URL in its environment.
fn inbox_cli(url: &str) -> assert_cmd::Command {
    let mut cmd = ckwebhook();
    cmd.env_remove("INBOX_URL").args(["inbox", "--url", url]);
    cmd
}

/// Runs `ckwebhook inbox --url <url> <args>`, expecting success; its stdout.
fn run_ok(url: &str, args: &[&str]) -> String {
    let out = inbox_cli(url).args(args).assert().success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

/// The line of `text` that mentions `needle` as a whole column.
fn line_with<'a>(text: &'a str, needle: &str) -> &'a str {
    text.lines()
        .find(|line| line.split_whitespace().any(|cell| cell == needle))
        .unwrap_or_else(|| panic!("no line with {needle} in:\n{text}"))
}

/// A SQLite inbox file in its own directory, deleted when dropped.
struct SqliteFile(PathBuf);

impl SqliteFile {
    fn new(name: &str) -> SqliteFile {
        let dir =
            std::env::temp_dir().join(format!("ckwebhook-inbox-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        SqliteFile(dir)
    }

    fn url(&self) -> String {
        format!("sqlite:{}", self.0.join("inbox.db").display())
    }
}

impl Drop for SqliteFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A signed delivery of a cost alert with id `id`, with a bearer token.
fn delivery(id: &str) -> (Vec<(String, String)>, bytes::Bytes) {
    let body = sample_event(&EventType::CostAlert, Shape::Camel, id, now_ms()).into_bytes();
    let mut headers = sign(Scheme::Current, SECRET, now_ms(), &body);
    headers.push(("Authorization".into(), format!("Bearer {TOKEN}")));
    (headers, body.into())
}

/// A receiver on `inbox` whose handler refuses `*refuse*` ids, fails
/// `*fail*` ids (one attempt: a dead letter at once), waits for a permit
/// from `gate` for `*hold*` ids, and handles the rest; started.
async fn receiver(inbox: &Inbox, gate: Arc<Semaphore>) -> Receiver {
    let receiver = Receiver::builder()
        .secret(SECRET)
        .inbox(inbox.clone())
        .retry_policy(RetryPolicy::default().max_attempts(1))
        .fallback(move |payload: Payload| {
            let gate = gate.clone();
            async move {
                let id = payload.event_id().unwrap_or_default().to_owned();
                if id.contains("refuse") {
                    return Err(HandlerError::refuse("not for us"));
                }
                if id.contains("fail") {
                    return Err(HandlerError::from("downstream answered 500"));
                }
                if id.contains("hold") {
                    gate.acquire().await.unwrap().forget();
                }
                Ok(())
            }
        })
        .build()
        .unwrap();
    receiver.start().await.unwrap();
    receiver
}

/// Polls the inbox (every 10 ms, up to 20 s) until every event id has
/// reached its state; returns the rows by event id.
async fn wait_for(inbox: &Inbox, states: &[(&str, EntryState)]) -> HashMap<String, Entry> {
    for _ in 0..2000 {
        let rows: HashMap<String, EntrySummary> = inbox
            .list(&EntryQuery::new().limit(1000))
            .await
            .unwrap()
            .into_iter()
            .filter_map(|row| Some((row.event_id.clone()?, row)))
            .collect();
        let reached = states
            .iter()
            .all(|(id, state)| rows.get(*id).map(|row| row.state) == Some(*state));
        if reached {
            let mut whole = HashMap::new();
            for (event_id, row) in rows {
                whole.insert(event_id, inbox.get(row.id).await.unwrap());
            }
            return whole;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the rows never reached {states:?}");
}

/// An inbox filled with [`EVENTS`], its receiver shut down.
struct Filled {
    rows: HashMap<String, Entry>,
    /// The signature hex of every delivery sent.
    signatures: Vec<String>,
}

impl Filled {
    fn id(&self, event_id: &str) -> String {
        self.rows[event_id].id.to_string()
    }
}

/// [`fill_with`] an inbox that keeps done rows' bodies, so they can be
/// shown and replayed.
fn fill(url: &str) -> Filled {
    fill_with(url, true)
}

/// Fills the inbox at `url` through a receiver whose inbox keeps done
/// rows' bodies or not (the default).
fn fill_with(url: &str, keep_done_bodies: bool) -> Filled {
    block_on(async {
        let inbox = Inbox::builder(url)
            .keep_done_bodies(keep_done_bodies)
            .open()
            .await
            .unwrap();
        let receiver = receiver(&inbox, Arc::new(Semaphore::new(0))).await;
        let mut signatures = Vec::new();
        for (id, _) in EVENTS {
            let (headers, body) = delivery(id);
            let signature = headers.iter().find(|(n, _)| n == "X-Webhook-Signature");
            signatures.push(signature.unwrap().1.clone());
            let outcome = receiver.receive("POST", &headers, body).await;
            assert_eq!(outcome.label(), "stored", "{id}");
        }
        let rows = wait_for(&inbox, &EVENTS).await;
        assert_eq!(receiver.shutdown(Duration::from_secs(10)).await, 0);
        assert!(signatures.iter().all(|s| s.len() == 64), "{signatures:?}");
        Filled { rows, signatures }
    })
}

// The behaviours, each on a freshly filled inbox of either backend.

fn lists_counts_and_filters(url: &str) {
    let filled = fill(url);
    let all = run_ok(url, &["list"]);
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(lines[0], "pending 0  running 0  done 2  dead 2", "{all}");
    assert!(
        lines[1].starts_with("ID ") && lines[1].contains("LAST ERROR"),
        "{all}"
    );
    assert_eq!(lines.len(), 2 + EVENTS.len(), "{all}");
    // Newest first: the reverse of the sending order.
    let listed: Vec<&str> = lines[2..]
        .iter()
        .map(|line| line.split_whitespace().next().unwrap())
        .collect();
    let expected: Vec<String> = EVENTS.iter().rev().map(|(id, _)| filled.id(id)).collect();
    assert_eq!(listed, expected, "{all}");
    for (event_id, state) in EVENTS {
        let row = &filled.rows[event_id];
        let cells: Vec<&str> = line_with(&all, event_id).split_whitespace().collect();
        assert_eq!(
            cells[..6],
            [
                row.id.to_string().as_str(),
                state.as_str(),
                "1",
                "cost.alert",
                event_id,
                iso8601(row.received_at_ms).as_str(),
            ]
        );
    }
    assert!(
        line_with(&all, "evt_refuse_1").ends_with("refused: not for us"),
        "{all}"
    );
    assert!(
        line_with(&all, "evt_fail_1").contains("downstream answered 500"),
        "{all}"
    );
    assert!(!line_with(&all, "evt_ok_1").contains("refused"), "{all}");

    // The URL from the environment; only dead rows.
    let dead = ckwebhook()
        .env("INBOX_URL", url)
        .args(["inbox", "list", "--state", "dead"])
        .assert()
        .success();
    let dead = String::from_utf8(dead.get_output().stdout.clone()).unwrap();
    assert_eq!(dead.lines().count(), 4, "{dead}");
    for id in ["evt_refuse_1", "evt_fail_1"] {
        line_with(&dead, id);
    }
    assert!(!dead.contains("evt_ok_"), "{dead}");

    assert!(run_ok(url, &["list", "--state", "pending"]).ends_with("\nno pending rows\n"));
    let newest = run_ok(url, &["list", "--limit", "1"]);
    assert_eq!(newest.lines().count(), 4, "{newest}");
    line_with(&newest, "evt_fail_1");
    assert!(
        newest.ends_with("(3 older not shown: raise --limit)\n"),
        "{newest}"
    );
}

fn shows_a_row_with_credentials_redacted(url: &str) {
    let filled = fill(url);
    let row = &filled.rows["evt_refuse_1"];
    let shown = run_ok(url, &["show", &filled.id("evt_refuse_1")]);
    assert!(!shown.contains(TOKEN), "{shown}");
    for signature in &filled.signatures {
        assert!(!shown.contains(signature.as_str()), "{shown}");
    }
    for expected in [
        format!("id          {}", row.id),
        "state       dead".to_owned(),
        "attempts    1".to_owned(),
        "event type  cost.alert".to_owned(),
        "event id    evt_refuse_1".to_owned(),
        format!("dedupe key  {}", row.dedupe_key),
        format!("received    {}", iso8601(row.received_at_ms)),
        format!("settled     {}", iso8601(row.settled_at_ms.unwrap())),
        "last error  refused: not for us".to_owned(),
        "  authorization: [redacted]".to_owned(),
        "  x-webhook-signature: [redacted]".to_owned(),
        format!("body ({} bytes)", row.body.len()),
    ] {
        assert!(
            shown.lines().any(|line| line == expected),
            "{expected:?} in:\n{shown}"
        );
    }
    let timestamp = line_with(&shown, "x-webhook-timestamp:");
    assert!(
        timestamp.trim_start().len() > "x-webhook-timestamp: ".len(),
        "{shown}"
    );
    // The body, pretty-printed: the same JSON value as stored.
    let body_at = shown.find("body (").unwrap();
    let body_text = shown[body_at..].split_once('\n').unwrap().1;
    assert!(body_text.starts_with("{\n  \""), "{shown}");
    let printed: serde_json::Value = serde_json::from_str(body_text).unwrap();
    let stored: serde_json::Value = serde_json::from_slice(&row.body).unwrap();
    assert_eq!(printed, stored);
}

fn retries_one_row(url: &str) {
    let filled = fill(url);
    let id = filled.id("evt_fail_1");
    let out = run_ok(url, &["retry", &id]);
    assert_eq!(
        out,
        format!("row {id} queued again: was dead after 1 attempt(s), cost.alert evt_fail_1\n")
    );
    // No worker runs now: the row waits, its attempts from zero.
    let shown = run_ok(url, &["show", &id]);
    assert!(shown.lines().any(|l| l == "state       pending"), "{shown}");
    assert!(shown.lines().any(|l| l == "attempts    0"), "{shown}");
    let list = run_ok(url, &["list"]);
    assert!(
        list.starts_with("pending 1  running 0  done 2  dead 1  (oldest pending "),
        "{list}"
    );
    // A done row can be replayed too.
    let done = filled.id("evt_ok_1");
    assert!(run_ok(url, &["retry", &done, "--force"]).contains("was done after 1 attempt(s)"));
}

fn retries_every_dead_letter(url: &str) {
    fill(url);
    assert_eq!(
        run_ok(url, &["retry", "--dead"]),
        "queueing 2 dead row(s) again, at most 100 a second\n2 dead row(s) queued again\n"
    );
    let list = run_ok(url, &["list"]);
    assert!(
        list.starts_with("pending 2  running 0  done 2  dead 0"),
        "{list}"
    );
    assert!(run_ok(url, &["list", "--state", "dead"]).ends_with("\nno dead rows\n"));
    assert!(run_ok(url, &["retry", "--dead"]).ends_with("\n0 dead row(s) queued again\n"));
}

fn retries_by_filter_after_a_dry_run(url: &str) {
    let filled = fill(url);
    // What a filter matches, counted first and changed in nothing.
    assert_eq!(
        run_ok(
            url,
            &["retry", "--dead", "--id-prefix", "evt_fail", "--dry-run"]
        ),
        "1 dead row(s) with an event id starting evt_fail would be queued again (dry run: \
         nothing queued)\n"
    );
    assert!(run_ok(url, &["list"]).starts_with("pending 0  running 0  done 2  dead 2"));
    let out = run_ok(
        url,
        &[
            "retry",
            "--dead",
            "--type",
            "cost.alert",
            "--since",
            "1h",
            "--id-prefix",
            "evt_fail",
            "--per-second",
            "5",
        ],
    );
    assert_eq!(
        out,
        "queueing 1 dead row(s) of type cost.alert, with an event id starting evt_fail and \
         received within 1h again, at most 5 a second\n1 dead row(s) of type cost.alert, with an \
         event id starting evt_fail and received within 1h queued again\n"
    );
    let shown = run_ok(url, &["show", &filled.id("evt_fail_1")]);
    assert!(shown.lines().any(|l| l == "state       pending"), "{shown}");
    // Done rows only with --force; then both are queued.
    inbox_cli(url)
        .args(["retry", "--done"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--force"));
    assert!(
        run_ok(url, &["retry", "--done", "--force"]).ends_with("\n2 done row(s) queued again\n")
    );
    assert!(run_ok(url, &["list"]).starts_with("pending 3  running 0  done 0  dead 1"));
    // A filter beside a row id, or a rate of 0, is refused.
    inbox_cli(url)
        .args(["retry", "1", "--type", "cost.alert"])
        .assert()
        .code(2);
    inbox_cli(url)
        .args(["retry", "--dead", "--per-second", "0"])
        .assert()
        .code(2);
}

fn shows_a_rows_attempts(url: &str) {
    let filled = fill(url);
    let shown = run_ok(url, &["show", &filled.id("evt_fail_1")]);
    let attempts = &shown[shown.find("attempts (").expect("an attempts section")..];
    let mut lines = attempts.lines();
    assert_eq!(lines.next(), Some("attempts (1)"), "{shown}");
    let attempt = lines.next().unwrap();
    assert!(attempt.starts_with("  #1 "), "{attempt}");
    assert!(attempt.contains(" ms dead on "), "{attempt}");
    assert!(
        attempt.ends_with(": attempt 1 of 1 failed: downstream answered 500"),
        "{attempt}"
    );
    let done = run_ok(url, &["show", &filled.id("evt_ok_1")]);
    let attempt = line_with(&done, "#1");
    assert!(attempt.ends_with(" ms done"), "{done}");
}

fn purges_old_done_rows(url: &str) {
    fill(url);
    assert_eq!(
        run_ok(url, &["purge", "--older-than", "1h"]),
        "0 done row(s) settled more than 1h ago deleted\n"
    );
    assert!(run_ok(url, &["list"]).starts_with("pending 0  running 0  done 2  dead 2"));
    // Both settled before this sleep, so both are older than 1 ms.
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(
        run_ok(url, &["purge", "--older-than", "1ms"]),
        "2 done row(s) settled more than 1ms ago deleted\n"
    );
    let list = run_ok(url, &["list"]);
    assert!(
        list.starts_with("pending 0  running 0  done 0  dead 2"),
        "{list}"
    );
    assert!(!list.contains("evt_ok_"), "{list}");
}

fn unknown_ids_exit_1(url: &str) {
    fill(url);
    for command in ["show", "retry"] {
        inbox_cli(url)
            .args([command, "999999"])
            .assert()
            .code(1)
            .stdout("")
            .stderr("error: there is no inbox row with id 999999 (see `ckwebhook inbox list`)\n");
    }
}

/// A running row cannot be retried; it can once its handler finishes.
fn running_rows_are_not_retried(url: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let gate = Arc::new(Semaphore::new(0));
    let (inbox, receiver, id) = runtime.block_on(async {
        let inbox = Inbox::builder(url)
            .keep_done_bodies(true)
            .open()
            .await
            .unwrap();
        let receiver = receiver(&inbox, gate.clone()).await;
        let (headers, body) = delivery("evt_hold_1");
        assert_eq!(
            receiver.receive("POST", &headers, body).await.label(),
            "stored"
        );
        let rows = wait_for(&inbox, &[("evt_hold_1", EntryState::Running)]).await;
        (inbox, receiver, rows["evt_hold_1"].id.to_string())
    });
    // The handler waits on the gate while the binary runs.
    inbox_cli(url)
        .args(["retry", &id])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(format!("row {id} is running")));
    gate.add_permits(1);
    runtime.block_on(async {
        wait_for(&inbox, &[("evt_hold_1", EntryState::Done)]).await;
        receiver.shutdown(Duration::from_secs(10)).await;
    });
    assert!(run_ok(url, &["retry", &id, "--force"]).contains("was done after 1 attempt(s)"));
}

/// A done row's event was handled: retrying it needs --force.
fn a_done_row_is_retried_only_with_force(url: &str) {
    let filled = fill(url);
    let id = filled.id("evt_ok_2");
    inbox_cli(url)
        .args(["retry", &id])
        .assert()
        .code(1)
        .stdout("")
        .stderr(
            predicates::str::contains(format!(
                "row {id} is done: its event (cost.alert evt_ok_2) was already handled at "
            ))
            .and(predicates::str::contains("pass --force to run it again")),
        );
    let shown = run_ok(url, &["show", &id]);
    assert!(shown.lines().any(|l| l == "state       done"), "{shown}");
    let out = run_ok(url, &["retry", &id, "--force"]);
    assert_eq!(
        out,
        format!(
            "row {id} queued again: was done after 1 attempt(s), cost.alert evt_ok_2 (its \
             event was already handled: it runs again)\n"
        )
    );
}

/// By default a done row keeps only what dedupe needs: `show` says its
/// body was not kept, and it cannot be replayed.
fn a_done_row_without_its_body_says_so(url: &str) {
    let filled = fill_with(url, false);
    let id = filled.id("evt_ok_1");
    let shown = run_ok(url, &["show", &id]);
    for expected in [
        "state       done",
        "headers     (not kept: a done row keeps only what dedupe needs (the inbox's \
         keep_done_bodies setting keeps it))",
        "body        (not kept: a done row keeps only what dedupe needs (the inbox's \
         keep_done_bodies setting keeps it))",
    ] {
        assert!(
            shown.lines().any(|l| l == expected),
            "{expected:?} in:\n{shown}"
        );
    }
    assert!(!shown.contains("eventId"), "{shown}");
    let dead = run_ok(url, &["show", &filled.id("evt_refuse_1")]);
    assert!(dead.contains("\nbody ("), "{dead}");
    inbox_cli(url)
        .args(["retry", &id, "--force"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("its body was not kept"));
}

/// A body without an event id is keyed by its signature: `show` redacts it.
fn a_signature_key_is_redacted(url: &str) {
    let (id, signature) = block_on(async {
        let inbox = Inbox::open(url).await.unwrap();
        let receiver = receiver(&inbox, Arc::new(Semaphore::new(0))).await;
        let body = bytes::Bytes::from_static(b"Budget at 91%: a template body, no event id");
        let mut headers = sign(Scheme::Current, SECRET, now_ms(), &body);
        headers.push(("Authorization".into(), format!("Bearer {TOKEN}")));
        let signature = headers
            .iter()
            .find(|(n, _)| n == "X-Webhook-Signature")
            .unwrap()
            .1
            .clone();
        assert_eq!(
            receiver.receive("POST", &headers, body).await.label(),
            "stored"
        );
        receiver.shutdown(Duration::from_secs(10)).await;
        let row = inbox.list(&EntryQuery::new()).await.unwrap().remove(0);
        (row.id.to_string(), signature)
    });
    let shown = run_ok(url, &["show", &id]);
    assert!(!shown.contains(&signature), "{shown}");
    let key = line_with(&shown, "key");
    assert!(key.ends_with(":signature:[redacted]"), "{shown}");
}

/// Dead rows are purged by state, type and age; a dry run only counts.
fn purges_dead_rows_by_type_and_age(url: &str) {
    fill(url);
    // Every row settled before this sleep, so all are older than 1 ms.
    std::thread::sleep(Duration::from_millis(20));
    let dead = |more: &[&str]| {
        let mut args = vec!["purge", "--state", "dead", "--older-than", "1ms"];
        args.extend_from_slice(more);
        run_ok(url, &args)
    };
    assert_eq!(
        dead(&["--type", "budget.exceeded"]),
        "0 dead row(s) of type budget.exceeded settled more than 1ms ago deleted\n"
    );
    assert_eq!(
        dead(&["--dry-run"]),
        "2 dead row(s) settled more than 1ms ago would be deleted (dry run: nothing deleted)\n"
    );
    assert!(run_ok(url, &["list"]).starts_with("pending 0  running 0  done 2  dead 2"));
    assert_eq!(
        run_ok(url, &["purge", "--state", "dead", "--older-than", "1h"]),
        "0 dead row(s) settled more than 1h ago deleted\n"
    );
    // Text anywhere in the row: the failing handler's error names its downstream.
    assert_eq!(
        dead(&[
            "--text",
            "answered 500",
            "--id-prefix",
            "evt_fail_1",
            "--dry-run"
        ]),
        "1 dead row(s) with an event id starting evt_fail_1 and containing answered 500 \
         settled more than 1ms ago would be deleted (dry run: nothing deleted)\n"
    );
    assert_eq!(
        dead(&["--text", "no such text"]),
        "0 dead row(s) containing no such text settled more than 1ms ago deleted\n"
    );
    assert_eq!(
        dead(&["--type", "cost.alert"]),
        "2 dead row(s) of type cost.alert settled more than 1ms ago deleted\n"
    );
    let list = run_ok(url, &["list"]);
    assert!(
        list.starts_with("pending 0  running 0  done 2  dead 0"),
        "{list}"
    );
    inbox_cli(url)
        .args(["purge", "--state", "pending", "--older-than", "1d"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--state"));
}

/// A stored value cannot reorder what the terminal shows.
fn escapes_bidirectional_characters(url: &str) {
    let id = "evt_\u{202E}gnirts\u{2066}x\u{2069}\u{200F}";
    block_on(async {
        let inbox = Inbox::open(url).await.unwrap();
        let receiver = receiver(&inbox, Arc::new(Semaphore::new(0))).await;
        let (headers, body) = delivery(id);
        assert_eq!(
            receiver.receive("POST", &headers, body).await.label(),
            "stored"
        );
        wait_for(&inbox, &[(id, EntryState::Done)]).await;
        receiver.shutdown(Duration::from_secs(10)).await;
    });
    let escaped = "evt_\\u{202e}gnirts\\u{2066}x\\u{2069}\\u{200f}";
    let list = run_ok(url, &["list"]);
    let line = line_with(&list, escaped);
    let row_id = line.split_whitespace().next().unwrap().to_owned();
    let shown = run_ok(url, &["show", &row_id]);
    for text in [&list, &shown] {
        for c in ['\u{202E}', '\u{2066}', '\u{2069}', '\u{200F}'] {
            assert!(!text.contains(c), "{c:?} shown raw in:\n{text}");
        }
    }
    assert!(shown.contains(&format!("event id    {escaped}")), "{shown}");
}

#[test]
fn sqlite_list_counts_and_filters() {
    lists_counts_and_filters(&SqliteFile::new("list").url());
}

#[test]
fn sqlite_show_redacts_credentials() {
    shows_a_row_with_credentials_redacted(&SqliteFile::new("show").url());
}

#[test]
fn sqlite_retry_one_row() {
    retries_one_row(&SqliteFile::new("retry").url());
}

#[test]
fn sqlite_retry_dead_letters() {
    retries_every_dead_letter(&SqliteFile::new("retry-dead").url());
}

#[test]
fn sqlite_retry_by_filter() {
    retries_by_filter_after_a_dry_run(&SqliteFile::new("retry-filter").url());
}

#[test]
fn sqlite_show_attempts() {
    shows_a_rows_attempts(&SqliteFile::new("attempts").url());
}

#[test]
fn sqlite_purge_older_than() {
    purges_old_done_rows(&SqliteFile::new("purge").url());
}

#[test]
fn sqlite_unknown_id_exits_1() {
    unknown_ids_exit_1(&SqliteFile::new("unknown").url());
}

#[test]
fn sqlite_running_row_is_not_retried() {
    running_rows_are_not_retried(&SqliteFile::new("running").url());
}

#[test]
fn sqlite_retry_of_a_done_row_needs_force() {
    a_done_row_is_retried_only_with_force(&SqliteFile::new("force").url());
}

#[test]
fn sqlite_show_says_a_done_body_was_not_kept() {
    a_done_row_without_its_body_says_so(&SqliteFile::new("not-kept").url());
}

#[test]
fn sqlite_show_redacts_a_signature_key() {
    a_signature_key_is_redacted(&SqliteFile::new("signature-key").url());
}

#[test]
fn sqlite_purge_dead_rows() {
    purges_dead_rows_by_type_and_age(&SqliteFile::new("purge-dead").url());
}

#[test]
fn sqlite_escapes_bidirectional_characters() {
    escapes_bidirectional_characters(&SqliteFile::new("bidi").url());
}

/// One behaviour, run on an inbox URL.
type Check = fn(&str);

#[test]
fn postgres_list_show_retry_purge() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let checks: [(&str, Check); 14] = [
        ("list", lists_counts_and_filters),
        ("show", shows_a_row_with_credentials_redacted),
        ("retry", retries_one_row),
        ("retry_dead", retries_every_dead_letter),
        ("retry_filter", retries_by_filter_after_a_dry_run),
        ("attempts", shows_a_rows_attempts),
        ("purge", purges_old_done_rows),
        ("unknown", unknown_ids_exit_1),
        ("running", running_rows_are_not_retried),
        ("force", a_done_row_is_retried_only_with_force),
        ("not_kept", a_done_row_without_its_body_says_so),
        ("signature_key", a_signature_key_is_redacted),
        ("purge_dead", purges_dead_rows_by_type_and_age),
        ("bidi", escapes_bidirectional_characters),
    ];
    for (name, check) in checks {
        check(&server.create_database(name));
    }
}

#[test]
fn bad_urls_exit_2_and_unreachable_inboxes_exit_1() {
    inbox_cli("mysql://db/inbox")
        .arg("list")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("sqlite:<path> or postgres://"));
    inbox_cli("sqlite:inbox.db")
        .args(["list", "--limit", "0"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--limit"));
    // A missing SQLite file is refused, not created empty.
    let dir = SqliteFile::new("missing");
    let path = dir.0.join("typo.db");
    inbox_cli(&format!("sqlite:{}", path.display()))
        .arg("list")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("there is no inbox file at"));
    assert!(!path.exists());
    // Nothing listens on a port just released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    inbox_cli(&format!(
        "postgres://postgres:hunter2@127.0.0.1:{port}/inbox"
    ))
    .arg("list")
    .assert()
    .code(1)
    .stdout("")
    .stderr(
        predicates::str::contains("could not connect")
            .and(predicates::str::contains("hunter2").not()),
    );
}

/// The error names the server and the cause in one line, the pool's and
/// the driver's empty wrappers left out.
#[test]
fn connection_errors_name_the_server_and_the_cause() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    inbox_cli(&format!(
        "postgres://postgres:hunter2@127.0.0.1:{port}/inbox"
    ))
    .arg("list")
    .assert()
    .code(1)
    .stderr(format!(
        "error: Postgres inbox postgres://127.0.0.1:{port}/inbox: could not connect: error \
             connecting to server: Connection refused (os error 111)\n"
    ));
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let port = server.port();
    // A database that does not exist, and a role that does not.
    inbox_cli(&format!(
        "postgres://postgres:hunter2@127.0.0.1:{port}/nope"
    ))
    .arg("list")
    .assert()
    .code(1)
    .stderr(format!(
        "error: Postgres inbox postgres://127.0.0.1:{port}/nope: could not connect: FATAL: \
             database \"nope\" does not exist (SQLSTATE 3D000)\n"
    ));
    inbox_cli(&format!(
        "postgres://nobody:hunter2@127.0.0.1:{port}/postgres"
    ))
    .arg("list")
    .assert()
    .code(1)
    .stderr(format!(
        "error: Postgres inbox postgres://127.0.0.1:{port}/postgres: could not connect: FATAL: \
             role \"nobody\" does not exist (SQLSTATE 28000)\n"
    ));
}

/// The CLI never creates or migrates a schema: a file or database with no
/// inbox table is refused, and left as it was.
#[test]
fn a_database_without_an_inbox_is_refused_and_left_unchanged() {
    let dir = SqliteFile::new("no-table");
    let path = dir.0.join("inbox.db");
    std::fs::write(&path, b"").unwrap(); // an empty file is an empty SQLite database
    for args in [
        &["list"][..],
        &["show", "1"],
        &["purge", "--older-than", "1d"],
    ] {
        inbox_cli(&dir.url())
            .args(args)
            .assert()
            .code(1)
            .stderr(predicates::str::contains("has no inbox table"));
    }
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        0,
        "no table was created"
    );
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let url = server.create_database("empty");
    inbox_cli(&url)
        .arg("list")
        .assert()
        .code(1)
        .stderr(predicates::str::contains("has no inbox table"));
    let tables = block_on(async {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        let row = client
            .query_one(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
                &[],
            )
            .await
            .unwrap();
        row.get::<_, i64>(0)
    });
    assert_eq!(tables, 0, "no table was created");
}

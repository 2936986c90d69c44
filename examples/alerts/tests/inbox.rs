//! The alerts example in inbox mode (`INBOX_URL`), as a real process: a
//! `budget.exceeded` delivery is answered 200 as soon as it is stored,
//! before Slack has accepted anything; the inbox retries the Slack message
//! until Slack accepts it, exactly once; a duplicate is answered 200
//! `duplicate` and sends nothing.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use costkatana_webhooks_inbox::{EntryQuery, Inbox};
use support::{budget_event, client, Alerts, Delivery, Reply, Slack, TempDir};

/// Slack's failures before the test lets it accept.
const FAILURES: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_then_answers_200_and_retries_slack_until_it_accepts_once() {
    // Slack answers 500 to the event until it has failed FAILURES times
    // and the test has seen the delivery's 200; then it accepts (and it
    // accepts any other event at once).
    let open = Arc::new(AtomicBool::new(false));
    let gate = Arc::clone(&open);
    let slack = Slack::start(move |_lane, id, before| {
        if id != "evt_inbox_budget" || (before >= FAILURES && gate.load(Ordering::SeqCst)) {
            Reply::Status(200)
        } else {
            Reply::Status(500)
        }
    })
    .await;
    let dir = TempDir::new("alerts-inbox");
    let alerts = Alerts::start(&[
        ("INBOX_URL", &dir.sqlite_url()),
        ("INBOX_RETRY_DELAY_MS", "50"),
        ("SLACK_WEBHOOK_URL", &slack.url("main")),
    ]);
    let client = client();

    let delivery = Delivery::new(budget_event("evt_inbox_budget", 0));
    let (status, answer) = delivery.send(&client, &alerts.webhook_url()).await;
    assert_eq!(
        (status, answer.as_str()),
        (
            200,
            r#"{"event_id":"evt_inbox_budget","received":true,"stored":true}"#
        )
    );
    // Acknowledged before Slack accepted anything (it cannot have: the
    // gate opens only now).
    assert_eq!(slack.accepted("evt_inbox_budget"), 0, "{:#?}", slack.hits());
    open.store(true, Ordering::SeqCst);

    slack
        .wait_until("the message accepted", |hits| {
            hits.iter()
                .any(|h| h.event_id == "evt_inbox_budget" && h.reply == Reply::Status(200))
        })
        .await;
    let hits = slack.hits();
    let text_hits: Vec<_> = hits
        .iter()
        .filter(|h| h.event_id == "evt_inbox_budget")
        .collect();
    assert!(
        text_hits.len() > FAILURES,
        "retried after each of the {FAILURES} failures: {hits:#?}"
    );
    assert_eq!(slack.accepted("evt_inbox_budget"), 1, "{hits:#?}");

    // The same delivery again: a duplicate, answered 200, no new row.
    let (status, answer) = delivery.send(&client, &alerts.webhook_url()).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains(r#""duplicate":true"#), "{answer}");

    // A later event goes through the same workers; once the process has
    // stopped (SIGTERM: running handlers finish), the inbox holds one row
    // for the event, done, with one attempt per Slack request: the
    // duplicate made neither a row nor an attempt.
    let after = Delivery::new(budget_event("evt_inbox_after", 0));
    let (status, answer) = after.send(&client, &alerts.webhook_url()).await;
    assert_eq!(status, 200, "{answer}");
    slack
        .wait_until("the later message accepted", |hits| {
            hits.iter()
                .any(|h| h.event_id == "evt_inbox_after" && h.reply == Reply::Status(200))
        })
        .await;
    alerts.stop();

    let inbox = Inbox::open(&dir.sqlite_url())
        .await
        .expect("the inbox opens");
    let rows = inbox
        .list(&EntryQuery::new().limit(100))
        .await
        .expect("rows");
    let budget: Vec<_> = rows
        .iter()
        .filter(|r| r.event_id.as_deref() == Some("evt_inbox_budget"))
        .collect();
    assert_eq!(budget.len(), 1, "{rows:#?}");
    assert_eq!(
        budget[0].state,
        costkatana_webhooks::inbox::EntryState::Done
    );
    assert_eq!(
        budget[0].attempts as usize,
        slack.arrived("evt_inbox_budget"),
        "one attempt per Slack request"
    );
    assert_eq!(slack.accepted("evt_inbox_budget"), 1);
    assert_eq!(slack.arrived("evt_inbox_after"), 1);
}

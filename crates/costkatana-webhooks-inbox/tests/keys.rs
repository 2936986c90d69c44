//! An authentic delivery is stored and handled whatever its event id holds
//! (a NUL, thousands of characters), without failing the deliveries stored
//! beside it; and whatever a settlement's error text holds.

#[allow(dead_code, unreachable_pub)]
#[path = "schema/db.rs"]
mod db;
#[path = "suite/support.rs"]
mod support;
#[macro_use]
mod both;

use std::time::Duration;

use costkatana_webhooks::dedupe::Completion;
use costkatana_webhooks::inbox::{EntryQuery, EntryState, InboxStore, RetryPolicy, Settlement};
use costkatana_webhooks::{Payload, Receiver};
use costkatana_webhooks_inbox::Inbox;
use db::Db;
use support::{entry, eventually, now_ms, Request, Runs, SECRET};

/// An id of `len` characters that does not compress (a btree entry holds
/// about 2.7 KB after compression).
fn long_id(len: usize) -> String {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                    [(state % 64) as usize],
            )
        })
        .collect()
}

/// Ids that are hard to store as they are, and that must come back exact.
fn odd_ids() -> Vec<String> {
    vec![
        "evt_nul\u{0}inside".to_owned(),
        format!("evt_long_{}", long_id(6000)),
        "\u{FFFF}evt_starts_with_a_noncharacter".to_owned(),
        "evt_back\\slash\\0_and_\\\\".to_owned(),
        "évt_ünïcode_\u{202E}rtl".to_owned(),
    ]
}

fn receiver(inbox: &Inbox, runs: &Runs) -> Receiver {
    let runs = runs.clone();
    Receiver::builder()
        .secret(SECRET)
        .inbox(inbox.clone())
        .retry_policy(RetryPolicy::default().first_delay(Duration::from_millis(20)))
        .fallback(move |payload: Payload| {
            let runs = runs.clone();
            async move {
                runs.record(payload.event_id().unwrap_or_default());
                Ok(())
            }
        })
        .build()
        .unwrap()
}

/// Sends every request at once (so they share batches); their labels.
async fn send_all(receiver: &Receiver, requests: &[Request]) -> Vec<&'static str> {
    let sends: Vec<_> = requests
        .iter()
        .map(|request| {
            let (request, receiver) = (request.clone(), receiver.clone());
            tokio::spawn(async move { request.send(&receiver).await.label() })
        })
        .collect();
    let mut labels = Vec::new();
    for send in sends {
        labels.push(send.await.unwrap());
    }
    labels
}

async fn any_event_id_is_stored_and_handled_beside_the_others(db: &Db) {
    let inbox = Inbox::open(&db.url()).await.unwrap();
    let runs = Runs::default();
    let receiver = receiver(&inbox, &runs);
    let odd = odd_ids();
    let mut ids: Vec<String> = (0..40).map(|i| format!("evt_good_{i}")).collect();
    for (i, id) in odd.iter().enumerate() {
        ids.insert(i * 8 + 3, id.clone());
    }
    let requests: Vec<Request> = ids.iter().map(|id| Request::event(id)).collect();
    let labels = send_all(&receiver, &requests).await;
    for (id, label) in ids.iter().zip(&labels) {
        assert_eq!(*label, "stored", "{:.40}", id.escape_debug());
    }

    // Each comes back exact, from the listing and from the row.
    let listed = inbox.list(&EntryQuery::new().limit(1000)).await.unwrap();
    for id in &odd {
        let row = listed
            .iter()
            .find(|row| row.event_id.as_deref() == Some(id.as_str()))
            .unwrap_or_else(|| panic!("{:.40} listed as it is", id.escape_debug()));
        let whole = inbox.get(row.id).await.unwrap();
        assert_eq!(whole.event_id.as_deref(), Some(id.as_str()));
        assert!(whole.dedupe_key.ends_with(&format!(":event:{id}")));
    }
    let by_prefix = inbox
        .list(&EntryQuery::new().event_id_prefix("evt_long_"))
        .await
        .unwrap();
    assert_eq!(by_prefix.len(), 1);
    assert_eq!(by_prefix[0].event_id.as_deref(), Some(odd[1].as_str()));

    // Handled once each, then duplicates.
    receiver.start().await.unwrap();
    eventually("every delivery handled", || runs.total() == ids.len()).await;
    for id in &ids {
        assert_eq!(runs.of(id), 1, "{:.40}", id.escape_debug());
    }
    let odd_requests: Vec<Request> = odd.iter().map(|id| Request::event(id)).collect();
    assert!(send_all(&receiver, &odd_requests)
        .await
        .iter()
        .all(|label| *label == "duplicate"));
    receiver.shutdown(Duration::from_secs(5)).await;
}

async fn an_error_text_holding_a_nul_is_written(db: &Db) {
    let inbox = Inbox::open(&db.url()).await.unwrap();
    inbox
        .enqueue(entry(Some("evt_error"), "cost.alert", now_ms()))
        .await
        .unwrap();
    let job = inbox
        .take(now_ms(), Duration::from_secs(60), 1)
        .await
        .unwrap()
        .remove(0);
    let error = "downstream answered \u{0}500\u{0}".to_owned();
    let retry = Settlement::Retry {
        at_ms: now_ms(),
        error: error.clone(),
    };
    assert_eq!(
        inbox.settle(&job, retry, now_ms()).await.unwrap(),
        Completion::Recorded
    );
    let row = inbox.get(job.id).await.unwrap();
    assert_eq!(
        (row.state, row.last_error.as_deref()),
        (EntryState::Pending, Some(error.as_str()))
    );
    let job = inbox
        .take(now_ms(), Duration::from_secs(60), 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(job.attempt, 2, "settled, not left running");
    let dead = Settlement::Dead {
        error: format!("refused: {error}"),
    };
    assert_eq!(
        inbox.settle(&job, dead, now_ms()).await.unwrap(),
        Completion::Recorded
    );
    let listed = inbox.list(&EntryQuery::new()).await.unwrap();
    assert_eq!(listed[0].state, EntryState::Dead);
    assert_eq!(
        listed[0].last_error.as_deref(),
        Some(format!("refused: {error}").as_str())
    );
}

on_both!(
    any_event_id_is_stored_and_handled_beside_the_others,
    an_error_text_holding_a_nul_is_written,
);

/// A row the database refuses (here a constraint added by hand) fails
/// alone: the deliveries batched with it are stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_postgres_refuses_fails_alone_and_its_batch_is_stored() {
    let Some(server) = costkatana_webhooks_inbox::testing::PostgresServer::start() else {
        return;
    };
    let db = Db::Postgres(server.create_database("poison"));
    let inbox = Inbox::open(&db.url()).await.unwrap();
    db.execute(
        "ALTER TABLE costkatana_webhook_inbox ADD CONSTRAINT no_poison \
         CHECK (event_id IS DISTINCT FROM 'evt_poison')",
    )
    .await;
    let receiver = receiver(&inbox, &Runs::default());
    let mut ids: Vec<String> = (0..60).map(|i| format!("evt_fine_{i}")).collect();
    ids.insert(30, "evt_poison".to_owned());
    let requests: Vec<Request> = ids.iter().map(|id| Request::event(id)).collect();
    let labels = send_all(&receiver, &requests).await;
    for (id, label) in ids.iter().zip(&labels) {
        let expected = if id == "evt_poison" {
            "store_unavailable"
        } else {
            "stored"
        };
        assert_eq!(*label, expected, "{id}");
    }
    assert_eq!(inbox.stats().await.unwrap().pending, 60);
}

/// A write the database refuses is told in the database's words all along
/// the error's chain (never a bare "db error"), and its `Debug` shows no
/// row: the server's detail quotes the failing row, headers and body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_write_is_told_in_the_databases_words_and_shows_no_row() {
    let Some(server) = costkatana_webhooks_inbox::testing::PostgresServer::start() else {
        return;
    };
    let db = Db::Postgres(server.create_database("refused"));
    let inbox = Inbox::open(&db.url()).await.unwrap();
    db.execute(
        "ALTER TABLE costkatana_webhook_inbox ADD CONSTRAINT no_poison_error \
         CHECK (last_error IS DISTINCT FROM 'poison')",
    )
    .await;
    let request = Request::event("evt_refused");
    assert_eq!(
        request
            .send(&receiver(&inbox, &Runs::default()))
            .await
            .label(),
        "stored"
    );
    let signature = request
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("x-webhook-signature"))
        .map(|(_, value)| value.clone())
        .unwrap();
    let job = inbox
        .take(now_ms(), Duration::from_secs(60), 1)
        .await
        .unwrap()
        .remove(0);
    let poison = Settlement::Retry {
        at_ms: now_ms(),
        error: "poison".to_owned(),
    };
    let err = inbox.settle(&job, poison, now_ms()).await.unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.contains("violates check constraint \"no_poison_error\" (SQLSTATE 23514)"),
        "{shown}"
    );
    let mut link: Option<&dyn std::error::Error> = Some(&err);
    while let Some(current) = link {
        assert_ne!(current.to_string(), "db error");
        assert!(current.to_string().contains("SQLSTATE 23514"), "{current}");
        let debug = format!("{current:?}");
        for secret in [signature.as_str(), "inbox-suite-token", "65f0c0ffee"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
        link = current.source();
    }
}

//! A SQLite inbox's files: private to their owner, a write-ahead log that
//! does not stay huge after a burst, a clear error for a directory that
//! is not there, and an application's own database left alone.

#[path = "suite/support.rs"]
mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use costkatana_webhooks::inbox::{InboxStore, NewEntry};
use costkatana_webhooks_inbox::Inbox;
use support::now_ms;

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("ckw-inbox-files-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn url(&self) -> String {
        format!("sqlite:{}", self.db().display())
    }

    fn db(&self) -> PathBuf {
        self.0.join("inbox.db")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The database file and its `-wal` and `-shm` files.
fn files(db: &Path) -> [PathBuf; 3] {
    let with = |suffix: &str| PathBuf::from(format!("{}{suffix}", db.display()));
    [db.to_owned(), with("-wal"), with("-shm")]
}

fn big(id: usize, bytes: usize) -> NewEntry {
    NewEntry {
        dedupe_key: format!("5:files:event:evt_{id}"),
        event_id: Some(format!("evt_{id}")),
        event_type: Some("cost.alert".to_owned()),
        headers: vec![("x-webhook-timestamp".to_owned(), "1".to_owned())],
        body: Bytes::from(vec![b'x'; bytes]),
        received_at_ms: now_ms(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_inbox_and_its_journal_files_are_private_to_their_owner() {
    let dir = TempDir::new("new");
    let inbox = Inbox::open(&dir.url()).await.unwrap();
    inbox.enqueue(big(1, 10)).await.unwrap();
    for file in files(&dir.db()) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

/// Every message logged in this test process from now on (the inbox
/// logs on its blocking threads, so the subscriber is the global one).
fn log() -> Arc<Mutex<Vec<String>>> {
    use tracing_subscriber::layer::SubscriberExt;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<String>>>);

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Lines {
        fn on_event(
            &self,
            event: &tracing::Event<'_>,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            struct Text(String);
            impl tracing::field::Visit for Text {
                fn record_debug(
                    &mut self,
                    field: &tracing::field::Field,
                    value: &dyn std::fmt::Debug,
                ) {
                    self.0.push_str(&format!(" {}={value:?}", field.name()));
                }
            }
            let mut text = Text(String::new());
            event.record(&mut text);
            self.0.lock().unwrap().push(text.0);
        }
    }

    static LINES: std::sync::OnceLock<Lines> = std::sync::OnceLock::new();
    let lines = LINES.get_or_init(|| {
        let lines = Lines::default();
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(lines.clone()))
            .expect("no other subscriber in this test process");
        lines
    });
    Arc::clone(&lines.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_inbox_readable_by_others_is_made_private_at_open_and_it_is_logged() {
    let log = log();
    let dir = TempDir::new("existing");
    let inbox = Inbox::open(&dir.url()).await.unwrap();
    inbox.enqueue(big(1, 10)).await.unwrap();
    drop(inbox);
    for file in files(&dir.db()) {
        if file.exists() {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    let _inbox = Inbox::open(&dir.url()).await.unwrap();
    for file in files(&dir.db()) {
        if file.exists() {
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
    }
    let shown = dir.db().display().to_string();
    let lines = log.lock().unwrap().clone();
    assert!(
        lines.iter().any(|line| line.contains(&shown)
            && line.contains("mode 0644")
            && line.contains("made private (mode 0600)")),
        "{lines:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_large_bodies_does_not_leave_a_huge_write_ahead_log() {
    let dir = TempDir::new("wal");
    let inbox = Inbox::open(&dir.url()).await.unwrap();
    // About 48 MiB in a few transactions, then one of 24 MiB: the log holds
    // that transaction whole, and without journal_size_limit it would keep
    // that size (its high-water mark) for ever after.
    let burst: Vec<_> = (0..48)
        .map(|i| {
            let inbox = inbox.clone();
            tokio::spawn(async move { inbox.enqueue(big(i, 1 << 20)).await.unwrap() })
        })
        .collect();
    for write in burst {
        write.await.unwrap();
    }
    inbox.enqueue(big(48, 24 << 20)).await.unwrap();
    let wal = &files(&dir.db())[1];
    // The checkpoint thread copies the log back (at most every 50 ms),
    // and a later write starts the log again from its head, cut back.
    let mut after = std::fs::metadata(wal).unwrap().len();
    for i in 100..400 {
        inbox.enqueue(big(i, 100)).await.unwrap();
        after = std::fs::metadata(wal).unwrap().len();
        if after <= 16 << 20 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        after <= 16 << 20,
        "the log is {after} bytes after the burst"
    );
}

#[tokio::test]
async fn a_missing_directory_is_named_as_such() {
    let err = Inbox::open("sqlite:/no/such/dir/inbox.db")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("the directory /no/such/dir does not exist"),
        "{err}"
    );
}

#[tokio::test]
async fn a_file_holding_other_tables_and_no_inbox_is_refused_and_left_unchanged() {
    let dir = TempDir::new("other-tables");
    let app = dir.0.join("app.db");
    rusqlite::Connection::open(&app)
        .unwrap()
        .execute_batch("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
        .unwrap();
    let before = std::fs::read(&app).unwrap();
    let err = Inbox::open(&format!("sqlite:{}", app.display()))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        costkatana_webhooks_inbox::InboxErrorKind::Schema
    );
    let text = err.to_string();
    assert!(text.contains("holds other tables (orders)"), "{text}");
    assert_eq!(std::fs::read(&app).unwrap(), before, "unchanged");
}

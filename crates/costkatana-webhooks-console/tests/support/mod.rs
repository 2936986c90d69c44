//! A real receiver on a real inbox (SQLite, or a throwaway Postgres) with
//! the console mounted beside it, served over HTTP on 127.0.0.1; signed
//! deliveries; a handler that fails for the event ids it is told to.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashSet;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use costkatana_webhooks::inbox::{EntryQuery, EntryState, RetryPolicy};
use costkatana_webhooks::samples::{sample_event, Shape};
use costkatana_webhooks::signing::sign;
use costkatana_webhooks::{Clock, EventType, Payload, Receiver, Scheme};
use costkatana_webhooks_axum::{serve, WebhookEndpoint};
use costkatana_webhooks_console::Console;
use costkatana_webhooks_inbox::testing::PostgresServer;
use costkatana_webhooks_inbox::Inbox;

pub mod browser;
pub mod http;

pub const SECRET: &str = "whsec_console_suite_secret_value";
pub const TOKEN: &str = "console-suite-token-0123456789abcdef";
/// A credential a sender might add, captured by the receiver and stored.
pub const AUTHORIZATION: &str = "Bearer downstream-credential-abc123";
pub const WEBHOOK_PATH: &str = "/webhooks/costkatana";
/// Every wait in the tests is bounded by this.
pub const WAIT: Duration = Duration::from_secs(30);

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Deletes its directory when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("ckw-console-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What keeps the inbox's storage alive.
enum Storage {
    Sqlite(TempDir),
    Postgres(PostgresServer),
    /// The caller's.
    External,
}

/// Handler runs: which ids succeeded, and which the handler fails for now.
#[derive(Clone, Default)]
pub struct Handlers {
    pub handled: Arc<Mutex<Vec<String>>>,
    pub failing: Arc<Mutex<HashSet<String>>>,
}

impl Handlers {
    pub fn fail(&self, id: &str) {
        self.failing.lock().unwrap().insert(id.to_owned());
    }

    pub fn heal(&self, id: &str) {
        self.failing.lock().unwrap().remove(id);
    }

    pub fn handled(&self, id: &str) -> usize {
        self.handled
            .lock()
            .unwrap()
            .iter()
            .filter(|h| *h == id)
            .count()
    }
}

/// The receiver, its inbox and the console, served.
pub struct Stack {
    pub base: String,
    pub inbox: Inbox,
    pub receiver: Receiver,
    pub handlers: Handlers,
    pub backend: &'static str,
    _storage: Storage,
}

/// Options for the console the stack mounts.
#[derive(Default)]
pub struct Options {
    pub clock: Option<Arc<dyn Clock>>,
}

impl Stack {
    pub async fn sqlite(name: &str) -> Stack {
        Stack::sqlite_with(name, Options::default()).await
    }

    pub async fn sqlite_with(name: &str, options: Options) -> Stack {
        let dir = TempDir::new(name);
        // Done bodies kept: the scenarios replay done deliveries.
        let inbox = Inbox::builder(&format!("sqlite:{}", dir.0.join("inbox.db").display()))
            .keep_done_bodies(true)
            .open()
            .await
            .unwrap();
        Stack::start(inbox, Storage::Sqlite(dir), "sqlite", options, true).await
    }

    /// `None` (said on stderr) where Postgres is not installed; under
    /// `CI=true` that panics instead.
    pub async fn postgres(name: &str) -> Option<Stack> {
        let server = PostgresServer::start()?;
        let url = server.create_database(&name.replace('-', "_"));
        let inbox = Inbox::builder(&url)
            .keep_done_bodies(true)
            .open()
            .await
            .unwrap();
        Some(
            Stack::start(
                inbox,
                Storage::Postgres(server),
                "postgres",
                Options::default(),
                true,
            )
            .await,
        )
    }

    /// A stack on an inbox the caller keeps, its workers not started (so
    /// its rows stay as they are).
    pub async fn on(inbox: Inbox, backend: &'static str) -> Stack {
        Stack::start(inbox, Storage::External, backend, Options::default(), false).await
    }

    async fn start(
        inbox: Inbox,
        storage: Storage,
        backend: &'static str,
        options: Options,
        run_workers: bool,
    ) -> Stack {
        let handlers = Handlers::default();
        let run = handlers.clone();
        let receiver = Receiver::builder()
            .secret(SECRET)
            .inbox(inbox.clone())
            .retry_policy(
                RetryPolicy::default()
                    .first_delay(Duration::from_millis(10))
                    .max_attempts(1),
            )
            .fallback(move |payload: Payload| {
                let run = run.clone();
                async move {
                    let id = match &payload {
                        Payload::Event(event) => event.id.clone().unwrap_or_default(),
                        _ => String::new(),
                    };
                    if run.failing.lock().unwrap().contains(&id) {
                        return Err(format!("downstream answered 500 for {id}").into());
                    }
                    run.handled.lock().unwrap().push(id);
                    Ok(())
                }
            })
            .build()
            .unwrap();
        if run_workers {
            receiver.start().await.unwrap();
        }
        let mut console = Console::builder(inbox.clone())
            .token(TOKEN)
            .receiver(receiver.clone());
        if let Some(clock) = options.clock {
            console = console.clock(clock);
        }
        // A second console as a proxy would see it: forwarded headers believed.
        let proxied = Console::builder(inbox.clone())
            .token(TOKEN)
            .mount_path("/proxied")
            .trust_forwarded_headers(true)
            .build()
            .unwrap();
        let app = axum::Router::new()
            .route_service(WEBHOOK_PATH, WebhookEndpoint::new(receiver.clone()))
            .nest_service("/console", console.build().unwrap())
            .nest_service("/proxied", proxied);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { serve(listener, app).await });
        Stack {
            base,
            inbox,
            receiver,
            handlers,
            backend,
            _storage: storage,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Posts `body` signed with the secret (and the captured credential).
    pub async fn deliver_body(&self, body: &[u8]) -> u16 {
        let client = reqwest::Client::new();
        let mut request = client
            .post(self.url(WEBHOOK_PATH))
            .header("authorization", AUTHORIZATION)
            .body(body.to_vec());
        for (name, value) in sign(Scheme::Current, SECRET, now_ms(), body) {
            request = request.header(name, value);
        }
        request.send().await.unwrap().status().as_u16()
    }

    /// Delivers a `event_type` event with id `id`.
    pub async fn deliver(&self, id: &str, event_type: EventType) -> u16 {
        let body = sample_event(&event_type, Shape::Camel, id, now_ms());
        self.deliver_body(body.as_bytes()).await
    }

    /// Delivers an event whose handler fails, and waits for it to be dead.
    pub async fn dead_letter(&self, id: &str, event_type: EventType) -> i64 {
        self.handlers.fail(id);
        assert_eq!(self.deliver(id, event_type).await, 200);
        self.wait_state(id, EntryState::Dead).await
    }

    /// A request signed over a pretty-printed copy of the body it sends:
    /// refused as invalid_signature, diagnosed as a re-serialised body.
    pub async fn send_reserialised(&self) -> u16 {
        let body = sample_event(
            &EventType::CostAlert,
            Shape::Camel,
            "evt_reserialised",
            now_ms(),
        );
        let value: serde_json::Value = serde_json::from_str(&body).unwrap();
        let pretty = serde_json::to_vec_pretty(&value).unwrap();
        let client = reqwest::Client::new();
        let mut request = client.post(self.url(WEBHOOK_PATH)).body(body.clone());
        for (name, value) in sign(Scheme::Current, SECRET, now_ms(), &pretty) {
            request = request.header(name, value);
        }
        request.send().await.unwrap().status().as_u16()
    }

    /// The entry of event `id`, once it is in `state`; its row id.
    pub async fn wait_state(&self, id: &str, state: EntryState) -> i64 {
        let query = EntryQuery::new().event_id_prefix(id);
        wait_until(&format!("{id} {state}"), || async {
            let rows = self.inbox.list(&query).await.unwrap();
            let row = rows.into_iter().find(|r| r.event_id.as_deref() == Some(id));
            row.filter(|r| r.state == state).map(|r| r.id)
        })
        .await
    }
}

/// Polls `probe` until it gives a value, for at most [`WAIT`].
///
/// # Panics
///
/// Nothing came within the wait: names `what`.
pub async fn wait_until<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(started.elapsed() < WAIT, "waited {WAIT:?} for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

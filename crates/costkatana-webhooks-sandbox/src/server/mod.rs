//! Starting and stopping a sandbox: [`Sandbox::builder`], [`SandboxBuilder`],
//! [`RunningSandbox`].

mod api_key;
mod emission;

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::{Clock, SystemClock};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use api_key::{ApiKey, ApiKeyError};
pub use emission::{Emission, Emitted};

use crate::engine::Engine;
use crate::model::id::{Id, IdMaker};
use crate::random;
use crate::sender::{Sender, SenderError, SENDER_MAX_REDIRECTS};
use crate::shared::Shared;
use crate::store::Store;

/// Delivery records a sandbox keeps at most, by default; past it the oldest
/// go first, whatever their state. A record of a sample event with a short
/// answer takes about 2–3 KB (its signed request, shared with its retries
/// and replays, and the answer's status, headers and body), so a full
/// sandbox holds about 250 MB; long answers (up to 10,000 characters are
/// kept of each, as on the live service) take more.
///
/// ```
/// assert_eq!(costkatana_webhooks_sandbox::DEFAULT_MAX_DELIVERIES, 100_000);
/// ```
pub const DEFAULT_MAX_DELIVERIES: usize = 100_000;

/// How long [`RunningSandbox::shutdown`] waits for open requests to end.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A local Cost Katana: the management API and delivery engine of
/// PROTOCOL.md §7, in memory. See the [crate] overview.
///
/// ```
/// use costkatana_webhooks_sandbox::Sandbox;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let sandbox = Sandbox::builder().api_key("dak_local_test").start().await?;
/// println!("COSTKATANA_API_URL={}", sandbox.url());
/// sandbox.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Sandbox;

impl Sandbox {
    /// A builder with the defaults: a random `dak_` key, speed 1, on
    /// `127.0.0.1` at a free port, the system clock, at most
    /// [`DEFAULT_MAX_DELIVERIES`] records.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::Sandbox;
    /// let builder = Sandbox::builder();
    /// ```
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder {
            api_key: None,
            speed: 1.0,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            clock: Arc::new(SystemClock),
            max_deliveries: DEFAULT_MAX_DELIVERIES,
        }
    }
}

/// Settings of a sandbox; see [`Sandbox::builder`].
///
/// ```
/// use std::sync::Arc;
/// use costkatana_webhooks::ManualClock;
/// use costkatana_webhooks_sandbox::Sandbox;
///
/// let clock = Arc::new(ManualClock::new(1_777_377_600_000));
/// let builder = Sandbox::builder()
///     .api_key("dak_test")
///     .speed(1000.0)
///     .clock(Arc::clone(&clock))
///     .max_deliveries(10_000);
/// ```
#[must_use]
pub struct SandboxBuilder {
    api_key: Option<Result<ApiKey, ApiKeyError>>,
    speed: f64,
    addr: SocketAddr,
    clock: Arc<dyn Clock>,
    max_deliveries: usize,
}

impl fmt::Debug for SandboxBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxBuilder")
            .field("api_key", &self.api_key)
            .field("speed", &self.speed)
            .field("addr", &self.addr)
            .field("max_deliveries", &self.max_deliveries)
            .finish_non_exhaustive()
    }
}

impl SandboxBuilder {
    /// The API key every route requires as `Authorization: Bearer <key>`
    /// (default: a random `dak_` key, see [`ApiKey::generate`]). Checked by
    /// [`SandboxBuilder::start`].
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::Sandbox;
    /// let builder = Sandbox::builder().api_key("dak_my_local_key");
    /// ```
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(ApiKey::new(key));
        self
    }

    /// Divides every retry delay by `speed` (default 1): at 1000 the live
    /// service's 10, 20, 40 s waits take about 10, 20, 40 ms, and the
    /// records report the waits so divided (`error.details.delay`,
    /// `nextRetryAt`). Nothing else changes (time-outs, windows, counts).
    /// Must be finite and above 0.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::Sandbox;
    /// let builder = Sandbox::builder().speed(100.0);
    /// ```
    pub fn speed(mut self, speed: f64) -> Self {
        self.speed = speed;
        self
    }

    /// Where to listen (default `127.0.0.1:0`, a free port).
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::Sandbox;
    /// let builder = Sandbox::builder().bind(([127, 0, 0, 1], 4000).into());
    /// ```
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// The clock for every date the sandbox shows and every window it
    /// counts in (the 24 h of failures that deactivate a webhook, the 30
    /// days a record is kept) and for the signatures' timestamps. Default:
    /// the system clock. Waits between attempts are real time.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use costkatana_webhooks::ManualClock;
    /// # use costkatana_webhooks_sandbox::Sandbox;
    /// let clock = Arc::new(ManualClock::new(1_777_377_600_000));
    /// let builder = Sandbox::builder().clock(Arc::clone(&clock));
    /// clock.advance_ms(25 * 3_600_000); // a day later, as far as the sandbox can tell
    /// ```
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Delivery records kept at most (default [`DEFAULT_MAX_DELIVERIES`],
    /// at least 1); past it the oldest go first, whatever their state.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::Sandbox;
    /// let builder = Sandbox::builder().max_deliveries(1_000);
    /// ```
    pub fn max_deliveries(mut self, records: usize) -> Self {
        self.max_deliveries = records;
        self
    }

    /// Binds, and serves the API and runs the engine on the current tokio
    /// runtime until [`RunningSandbox::shutdown`] (or until the
    /// [`RunningSandbox`] is dropped).
    ///
    /// # Errors
    ///
    /// [`StartError`]: an invalid key or speed, an address that cannot be
    /// bound, no HTTP client, no random bytes.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::{Sandbox, StartError};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let err = Sandbox::builder().speed(0.0).start().await.unwrap_err();
    /// assert!(matches!(err, StartError::Speed(_)));
    /// # }
    /// ```
    pub async fn start(self) -> Result<RunningSandbox, StartError> {
        if !(self.speed.is_finite() && self.speed > 0.0) {
            return Err(StartError::Speed(self.speed));
        }
        let api_key = match self.api_key {
            Some(key) => key.map_err(StartError::ApiKey)?,
            None => ApiKey::generate().map_err(StartError::ApiKey)?,
        };
        let user_id = match api_key.user_id() {
            Some(user) => user.to_owned(),
            None => random::hex::<12>().map_err(|_| StartError::NoRandomness)?,
        };
        let id_seed = random::bytes::<8>().map_err(|_| StartError::NoRandomness)?;
        let ids = IdMaker::new(
            [id_seed[0], id_seed[1], id_seed[2], id_seed[3], id_seed[4]],
            u32::from_be_bytes([0, id_seed[5], id_seed[6], id_seed[7]]),
        );
        let sender = Sender::builder()
            .retries(0)
            .follow_redirects(SENDER_MAX_REDIRECTS)
            .build()
            .map_err(StartError::Client)?;
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .map_err(|source| StartError::Bind {
                addr: self.addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: self.addr,
            source,
        })?;
        let (stop, stopped) = watch::channel(false);
        let engine = Engine::new(
            sender,
            self.speed,
            stopped.clone(),
            tokio::runtime::Handle::current(),
        );
        let shared = Arc::new(Shared::new(
            Store::new(ids, self.max_deliveries),
            self.clock,
            api_key,
            user_id,
            engine,
        ));
        let app = crate::api::router(Arc::clone(&shared));
        let mut until_stopped = stopped;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = until_stopped.wait_for(|stopped| *stopped).await;
                })
                .await;
        });
        Ok(RunningSandbox {
            url: format!("http://{addr}"),
            addr,
            shared,
            stop,
            server: Some(server),
        })
    }
}

/// A sandbox serving on its address. Dropping it stops it too (without
/// waiting); [`RunningSandbox::shutdown`] waits for the server to end.
///
/// ```
/// use costkatana_webhooks::EventType;
/// use costkatana_webhooks_sandbox::{Emission, Sandbox};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let sandbox = Sandbox::builder().speed(1000.0).start().await?;
/// // Nobody subscribed yet: the event reaches no one.
/// let emitted = sandbox.emit(Emission::new(EventType::CostAlert))?;
/// assert!(emitted.event_id.starts_with("cost_alert_"));
/// assert!(emitted.delivery_ids.is_empty());
/// sandbox.settled().await;
/// sandbox.shutdown().await;
/// # Ok(()) }
/// ```
pub struct RunningSandbox {
    url: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
}

impl fmt::Debug for RunningSandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningSandbox")
            .field("url", &self.url)
            .field("api_key", &self.shared.api_key)
            .finish_non_exhaustive()
    }
}

impl RunningSandbox {
    /// The base URL, `http://<addr>`: what the API client takes as
    /// `COSTKATANA_API_URL` (routes are under `/api/webhooks`).
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::Sandbox;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sandbox = Sandbox::builder().start().await?;
    /// assert!(sandbox.url().starts_with("http://127.0.0.1:"));
    /// # Ok(()) }
    /// ```
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address it listens on.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::Sandbox;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sandbox = Sandbox::builder().start().await?;
    /// assert_ne!(sandbox.addr().port(), 0);
    /// # Ok(()) }
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The key it accepts.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::Sandbox;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sandbox = Sandbox::builder().api_key("dak_mine").start().await?;
    /// assert_eq!(sandbox.api_key().expose(), "dak_mine");
    /// # Ok(()) }
    /// ```
    pub fn api_key(&self) -> &ApiKey {
        &self.shared.api_key
    }

    /// The user id its events carry by default (the one a `dak_<user
    /// id>_…` key names, else a random one).
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::Sandbox;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sandbox = Sandbox::builder().api_key("dak_65f0c0ffee0000000000beef_k_s").start().await?;
    /// assert_eq!(sandbox.user_id(), "65f0c0ffee0000000000beef");
    /// # Ok(()) }
    /// ```
    pub fn user_id(&self) -> &str {
        &self.shared.user_id
    }

    /// Emits an event: one delivery record for each active webhook
    /// subscribed to its type, attempted at once. A type outside the 57
    /// reaches no one (no webhook can subscribe to it).
    ///
    /// # Errors
    ///
    /// [`EmitError`] when no random bytes could make the event's id.
    ///
    /// ```
    /// # use costkatana_webhooks::EventType;
    /// # use costkatana_webhooks_sandbox::{Emission, Sandbox};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sandbox = Sandbox::builder().start().await?;
    /// let emitted = sandbox.emit(Emission::new(EventType::BudgetExceeded))?;
    /// assert!(emitted.event_id.starts_with("budget_exceeded_"));
    /// # Ok(()) }
    /// ```
    pub fn emit(&self, emission: Emission) -> Result<Emitted, EmitError> {
        self.shared
            .emit(emission)
            .map_err(|_| EmitError::NoRandomness)
    }

    /// The full secret of webhook `id` (what the live dashboard shows; the
    /// API only ever shows it masked). `None` when there is no such
    /// webhook.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::Sandbox;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sandbox = Sandbox::builder().start().await?;
    /// assert_eq!(sandbox.webhook_secret("65f0c0ffee0000000000beef"), None);
    /// # Ok(()) }
    /// ```
    pub fn webhook_secret(&self, id: &str) -> Option<String> {
        self.shared.secret(Id::parse(id)?)
    }

    /// Resolves once no delivery record is pending: every attempt made so
    /// far has settled and every retry scheduled has been made (so, with
    /// speed 1, after the live service's full retry schedule).
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::Sandbox;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sandbox = Sandbox::builder().start().await?;
    /// sandbox.settled().await; // nothing pending
    /// # Ok(()) }
    /// ```
    pub async fn settled(&self) {
        self.shared.settled().await;
    }

    /// How many delivery records it holds now (at most the builder's
    /// [`SandboxBuilder::max_deliveries`]).
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::Sandbox;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sandbox = Sandbox::builder().start().await?;
    /// assert_eq!(sandbox.deliveries_held(), 0);
    /// # Ok(()) }
    /// ```
    pub fn deliveries_held(&self) -> usize {
        self.shared.store().records()
    }

    /// Stops: no new connection is taken, attempts in flight are dropped
    /// (their records stay pending), and requests still open after 5 s are
    /// cut.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::Sandbox;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sandbox = Sandbox::builder().start().await?;
    /// let addr = sandbox.addr();
    /// sandbox.shutdown().await;
    /// assert!(std::net::TcpStream::connect(addr).is_err());
    /// # Ok(()) }
    /// ```
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        if let Some(mut server) = self.server.take() {
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut server)
                .await
                .is_err()
            {
                server.abort();
                let _ = server.await;
            }
        }
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

/// Why a sandbox did not start.
///
/// ```
/// use costkatana_webhooks_sandbox::{Sandbox, StartError};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// match Sandbox::builder().api_key("").start().await {
///     Err(StartError::ApiKey(err)) => println!("{err}"),
///     other => panic!("{other:?}"),
/// }
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The API key given is not a valid key.
    ApiKey(ApiKeyError),
    /// The speed given is not a finite number above 0.
    Speed(f64),
    /// The address cannot be listened on.
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why not.
        source: std::io::Error,
    },
    /// The HTTP client for deliveries cannot be made.
    Client(SenderError),
    /// The operating system gave no random bytes.
    NoRandomness,
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::ApiKey(err) => write!(f, "{err}"),
            StartError::Speed(speed) => {
                write!(f, "the speed must be a number above 0 (got {speed})")
            }
            StartError::Bind { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
            StartError::Client(err) => write!(f, "{err}"),
            StartError::NoRandomness => f.write_str("the operating system gave no random bytes"),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::ApiKey(err) => Some(err),
            StartError::Bind { source, .. } => Some(source),
            StartError::Client(err) => Some(err),
            StartError::Speed(_) | StartError::NoRandomness => None,
        }
    }
}

/// Why an event could not be emitted.
///
/// ```
/// use costkatana_webhooks_sandbox::EmitError;
/// assert_eq!(EmitError::NoRandomness.to_string(), "cannot make an event id: the operating system gave no random bytes");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmitError {
    /// The operating system gave no random bytes for the event's id.
    NoRandomness,
}

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmitError::NoRandomness => {
                f.write_str("cannot make an event id: the operating system gave no random bytes")
            }
        }
    }
}

impl std::error::Error for EmitError {}

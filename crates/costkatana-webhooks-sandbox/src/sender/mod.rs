//! The Cost Katana sender's delivery behaviour (PROTOCOL.md §4 and §7): a
//! request signed once, POSTed, and sent again unchanged after a 5xx or a
//! time-out while retries remain, on the sender's backoff schedule; any
//! other answer, a redirect and a refused connection end it at once.
//!
//! ```
//! use costkatana_webhooks::samples::{sample_event, Shape};
//! use costkatana_webhooks::{Clock, EventType, Scheme, SystemClock};
//! use costkatana_webhooks_sandbox::sender::{Endpoint, Reply, Sender, SignedRequest};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
//! // Nothing listens there.
//! let endpoint = Endpoint::parse(&format!("http://127.0.0.1:{port}/webhooks/costkatana"))?;
//! let now_ms = SystemClock.now_ms();
//! let body = sample_event(&EventType::BudgetExceeded, Shape::Camel, "evt_1", now_ms);
//! let request = SignedRequest::new(endpoint, Scheme::Current, "s3cret", now_ms, body);
//!
//! let sender = Sender::builder().build()?;
//! let last = sender.deliver(&request, |attempt| println!("{attempt:?}")).await;
//! // A refused connection is never retried: the event is lost at once.
//! assert_eq!(last.number, 1);
//! assert!(matches!(last.reply, Reply::Unreachable(_)));
//! # Ok(()) }
//! ```

mod exchange;
mod follow;
mod reply;
mod request;

use std::fmt;
use std::time::{Duration, Instant};

use costkatana_webhooks::Backoff;

pub use exchange::{Cause, Exchange, MAX_EXCHANGE_BODY};
pub use reply::{Attempt, Reply};
pub use request::{Endpoint, EndpointError, SignedRequest};

/// The sender's default time-out per attempt.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The sender's default number of retries after the first attempt.
pub const DEFAULT_RETRIES: u32 = 3;

/// Delivers [`SignedRequest`]s as the Cost Katana sender does.
///
/// Cheap to clone: clones share one connection pool.
///
/// ```
/// use std::time::Duration;
/// use costkatana_webhooks::Backoff;
/// use costkatana_webhooks_sandbox::sender::Sender;
///
/// // A webhook configured with 5 retries, 1 s apart and tripling, 10 s per attempt.
/// let sender = Sender::builder()
///     .retries(5)
///     .backoff(Backoff::sender().first_delay(Duration::from_secs(1)).multiplier(3.0))
///     .timeout(Duration::from_secs(10))
///     .build()?;
/// assert_eq!(sender.retries(), 5);
/// # Ok::<(), costkatana_webhooks_sandbox::sender::SenderError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    retries: u32,
    backoff: Backoff,
    redirects: usize,
}

/// The most redirects the live sender's HTTP client (axios) follows.
pub const SENDER_MAX_REDIRECTS: usize = 5;

impl Sender {
    /// A builder with the sender's defaults: 30 s per attempt, 3 retries,
    /// [`Backoff::sender`].
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::sender::Sender;
    /// let sender = Sender::builder().build()?;
    /// assert_eq!(sender.retries(), 3);
    /// # Ok::<(), costkatana_webhooks_sandbox::sender::SenderError>(())
    /// ```
    pub fn builder() -> SenderBuilder {
        SenderBuilder {
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
            backoff: Backoff::sender(),
            redirects: 0,
        }
    }

    /// How many times a request is sent again after its first attempt, at most.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::sender::Sender;
    /// assert_eq!(Sender::builder().retries(0).build()?.retries(), 0);
    /// # Ok::<(), costkatana_webhooks_sandbox::sender::SenderError>(())
    /// ```
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// The wait before each retry.
    ///
    /// ```
    /// # use costkatana_webhooks::Backoff;
    /// # use costkatana_webhooks_sandbox::sender::Sender;
    /// assert_eq!(Sender::builder().build()?.backoff(), Backoff::sender());
    /// # Ok::<(), costkatana_webhooks_sandbox::sender::SenderError>(())
    /// ```
    pub fn backoff(&self) -> Backoff {
        self.backoff
    }

    /// Sends `request` until it is delivered, fails for good, or its
    /// retries run out, waiting [`Backoff::delay`] before each retry;
    /// `report` sees every attempt as it ends. Returns the last attempt:
    /// delivered when its [`Reply::is_delivered`].
    ///
    /// Every attempt sends the same bytes. Needs a tokio runtime with time
    /// enabled.
    ///
    /// ```no_run
    /// # use costkatana_webhooks::Scheme;
    /// # use costkatana_webhooks_sandbox::sender::{Endpoint, Sender, SignedRequest};
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let endpoint = Endpoint::parse("http://127.0.0.1:3000/webhooks/costkatana")?;
    /// let request = SignedRequest::new(endpoint, Scheme::Current, "s3cret", 1_777_377_600_000, "{}");
    /// let last = Sender::builder().build()?.deliver(&request, |_| {}).await;
    /// println!("{} after {} attempt(s)", last.reply.label(), last.number);
    /// # Ok(()) }
    /// ```
    pub async fn deliver(
        &self,
        request: &SignedRequest,
        mut report: impl FnMut(&Attempt),
    ) -> Attempt {
        let mut number = 1;
        loop {
            let started = Instant::now();
            let reply = self.attempt(request).await;
            let latency = started.elapsed();
            let next_delay =
                (reply.is_retried() && number <= self.retries).then(|| self.backoff.delay(number));
            let attempt = Attempt {
                number,
                reply,
                latency,
                next_delay,
            };
            report(&attempt);
            match attempt.next_delay {
                Some(delay) => tokio::time::sleep(delay).await,
                None => return attempt,
            }
            number += 1;
        }
    }

    async fn attempt(&self, request: &SignedRequest) -> Reply {
        let response = match self.send(request, None).await.0 {
            follow::Sent::Answered(response) => response,
            follow::Sent::Failed(err) => return Reply::from_error(&err),
            follow::Sent::TooManyRedirects => {
                return Reply::Broken(follow::TOO_MANY_REDIRECTS.into())
            }
        };
        let status = response.status().as_u16();
        match response.text().await {
            Ok(text) => Reply::answered(status, text),
            Err(err) => Reply::unreadable(status, &err),
        }
    }
}

/// Settings of a [`Sender`]; see [`Sender::builder`].
///
/// ```
/// use std::time::Duration;
/// use costkatana_webhooks_sandbox::sender::Sender;
///
/// let sender = Sender::builder().timeout(Duration::from_millis(500)).retries(1).build()?;
/// # Ok::<(), costkatana_webhooks_sandbox::sender::SenderError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct SenderBuilder {
    timeout: Duration,
    retries: u32,
    backoff: Backoff,
    redirects: usize,
}

impl SenderBuilder {
    /// How long one attempt may take, from connecting to reading the whole
    /// answer (default 30 s; the sender allows 5 to 120 s). Past it, the
    /// attempt is a [`Reply::Timeout`].
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use costkatana_webhooks_sandbox::sender::Sender;
    /// let sender = Sender::builder().timeout(Duration::from_secs(5)).build()?;
    /// # Ok::<(), costkatana_webhooks_sandbox::sender::SenderError>(())
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Retries after the first attempt (default 3; the sender allows up to
    /// 10, and reads 0 as 3, which this does not imitate: 0 is none).
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::sender::Sender;
    /// assert_eq!(Sender::builder().retries(10).build()?.retries(), 10);
    /// # Ok::<(), costkatana_webhooks_sandbox::sender::SenderError>(())
    /// ```
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// The wait before each retry (default [`Backoff::sender`]: 5 s,
    /// doubling, jitter 0.85–1.15, capped at 1 h).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use costkatana_webhooks::Backoff;
    /// # use costkatana_webhooks_sandbox::sender::Sender;
    /// let quick = Backoff::sender().first_delay(Duration::from_millis(10));
    /// assert_eq!(Sender::builder().backoff(quick).build()?.backoff(), quick);
    /// # Ok::<(), costkatana_webhooks_sandbox::sender::SenderError>(())
    /// ```
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Follows up to `max` redirects (default 0: a 3xx is the answer, a
    /// failed delivery). The live sender's HTTP client follows up to
    /// [`SENDER_MAX_REDIRECTS`]: a 301, 302 or 303 turns the POST into a
    /// GET without a body, a 307 or 308 keeps it (PROTOCOL.md §4).
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::sender::{Sender, SENDER_MAX_REDIRECTS};
    /// let sender = Sender::builder().follow_redirects(SENDER_MAX_REDIRECTS).build()?;
    /// # Ok::<(), costkatana_webhooks_sandbox::sender::SenderError>(())
    /// ```
    pub fn follow_redirects(mut self, max: usize) -> Self {
        self.redirects = max;
        self
    }

    /// The sender.
    ///
    /// # Errors
    ///
    /// [`SenderError`] when the HTTP client cannot be made (its TLS
    /// configuration failed to load).
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::sender::Sender;
    /// let sender = Sender::builder().build()?;
    /// # Ok::<(), costkatana_webhooks_sandbox::sender::SenderError>(())
    /// ```
    pub fn build(self) -> Result<Sender, SenderError> {
        let client = reqwest::Client::builder()
            // Redirects are followed (or not) by `follow`, which knows where
            // each one leads.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.timeout)
            .build()
            .map_err(|err| SenderError {
                message: err.to_string(),
            })?;
        Ok(Sender {
            client,
            retries: self.retries,
            backoff: self.backoff,
            redirects: self.redirects,
        })
    }
}

/// A [`Sender`] that could not be made.
///
/// ```
/// use costkatana_webhooks_sandbox::sender::{Sender, SenderError};
///
/// fn sender() -> Result<Sender, SenderError> {
///     Sender::builder().build()
/// }
/// if let Err(err) = sender() {
///     eprintln!("{err}"); // cannot build the HTTP client: …
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderError {
    message: String,
}

impl fmt::Display for SenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot build the HTTP client: {}", self.message)
    }
}

impl std::error::Error for SenderError {}

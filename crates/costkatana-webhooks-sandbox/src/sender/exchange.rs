//! One attempt in full (the answer's status, headers and body, or why there
//! was none), for callers that keep a record of every attempt and schedule
//! the retries themselves, as the sandbox's delivery engine does.

use std::error::Error as StdError;
use std::time::{Duration, Instant};

use super::follow::{Sent, TOO_MANY_REDIRECTS};
use super::{Reply, Sender, SignedRequest};

/// The most bytes of an answer's body an [`Exchange`] keeps; the rest is
/// not read.
pub const MAX_EXCHANGE_BODY: usize = 64 * 1024;

/// One attempt in full: what [`Sender::exchange`] saw.
///
/// ```
/// use costkatana_webhooks_sandbox::sender::{Cause, Exchange, Reply};
///
/// fn summary(exchange: &Exchange) -> String {
///     match (&exchange.reply, exchange.cause) {
///         (Reply::Status(status, _), _) => format!("{status}, {} header(s)", exchange.headers.len()),
///         (_, Some(Cause::Refused)) => "connection refused".into(),
///         (reply, _) => reply.label(),
///     }
/// }
/// # let _ = summary;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Exchange {
    /// What the attempt got back, as [`Sender::deliver`] reads it.
    pub reply: Reply,
    /// From sending the request to reading the answer.
    pub latency: Duration,
    /// The answer's headers, names in lowercase, in the order received
    /// (empty when there was no answer).
    pub headers: Vec<(String, String)>,
    /// The answer's body as text (invalid UTF-8 replaced), at most
    /// [`MAX_EXCHANGE_BODY`] bytes of it; empty when there was no answer.
    pub body: String,
    /// Why there was no answer, when the request failed before one (not
    /// for a time-out, which [`Reply::Timeout`] says).
    pub cause: Option<Cause>,
    /// The URL of the last request made: the request's own, or where the
    /// last redirect followed led.
    pub url: String,
}

/// Why a request got no answer.
///
/// ```
/// use costkatana_webhooks_sandbox::sender::Cause;
/// assert_ne!(Cause::Refused, Cause::UnknownHost);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Cause {
    /// Nothing listens there: the connection was refused.
    Refused,
    /// The host name does not resolve.
    UnknownHost,
    /// The connection was reset or closed before the answer.
    Reset,
    /// Anything else (TLS, too many redirects, an unreachable network, …).
    Other,
}

impl Sender {
    /// Sends `request` once, with `timeout` instead of the sender's own
    /// when given, and returns everything the attempt saw. Never retries:
    /// the caller decides what comes next from [`Exchange::reply`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use costkatana_webhooks::Scheme;
    /// use costkatana_webhooks_sandbox::sender::{Cause, Endpoint, Sender, SignedRequest};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    /// // Nothing listens there.
    /// let endpoint = Endpoint::parse(&format!("http://127.0.0.1:{port}/hook"))?;
    /// let request = SignedRequest::new(endpoint, Scheme::Current, "s3cret", 1_777_377_600_000, "{}");
    /// let exchange = Sender::builder().build()?.exchange(&request, Some(Duration::from_secs(5))).await;
    /// assert_eq!(exchange.cause, Some(Cause::Refused));
    /// # Ok(()) }
    /// ```
    pub async fn exchange(&self, request: &SignedRequest, timeout: Option<Duration>) -> Exchange {
        let started = Instant::now();
        let (sent, url) = self.send(request, timeout).await;
        let no_answer = |reply: Reply, cause: Option<Cause>| Exchange {
            reply,
            latency: started.elapsed(),
            headers: Vec::new(),
            body: String::new(),
            cause,
            url: url.to_string(),
        };
        let mut response = match sent {
            Sent::Answered(response) => response,
            Sent::Failed(err) => {
                let reply = Reply::from_error(&err);
                let cause = (reply != Reply::Timeout).then(|| cause_of(&err));
                return no_answer(reply, cause);
            }
            Sent::TooManyRedirects => {
                return no_answer(Reply::Broken(TOO_MANY_REDIRECTS.into()), Some(Cause::Other));
            }
        };
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect();
        let mut bytes = Vec::new();
        let mut unreadable = None;
        // Read at most the cap: a receiver that answers a huge body costs
        // this much memory and no more.
        while bytes.len() < MAX_EXCHANGE_BODY {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_EXCHANGE_BODY - bytes.len();
                    bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                Ok(None) => break,
                Err(err) => {
                    unreadable = Some(err);
                    break;
                }
            }
        }
        let body = String::from_utf8_lossy(&bytes).into_owned();
        let url = url.to_string();
        let reply = match &unreadable {
            Some(err) => Reply::unreadable(status, err),
            None => Reply::answered(status, body.clone()),
        };
        let cause = match (&reply, &unreadable) {
            (Reply::Status(..), Some(err)) => Some(cause_of(err)),
            _ => None,
        };
        Exchange {
            reply,
            latency: started.elapsed(),
            headers,
            body,
            cause,
            url,
        }
    }
}

/// Reads the error's causes for the one that explains it: an I/O error's
/// kind, or the resolver's failure.
fn cause_of(err: &reqwest::Error) -> Cause {
    let mut source: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return Cause::Refused,
                std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::UnexpectedEof => return Cause::Reset,
                _ => {}
            }
        }
        // hyper-util names a resolver failure so and no error type of its
        // own is public; hyper's early close is only told by its text too.
        let text = current.to_string();
        if text.starts_with("dns error") {
            return Cause::UnknownHost;
        }
        if text.contains("connection closed before message completed") {
            return Cause::Reset;
        }
        source = current.source();
    }
    Cause::Other
}

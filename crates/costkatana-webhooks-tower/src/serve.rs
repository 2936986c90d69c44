//! Serving a tower service over HTTP/1.1 without letting slow clients hold
//! connections: what `axum::serve` does, plus the time-outs it lacks.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::future::{Future, IntoFuture};
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tower_service::Service;

use crate::PeerAddr;

/// The default time a client has to send a request's headers: 10 s.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The default time a connection may move no byte at all: 120 s, the
/// longest time-out the sender can be configured with, so no request the
/// sender still waits for is cut.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// The default time in-flight requests get to finish on shutdown: 30 s.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// The shortest and longest pause after an accept error.
const ACCEPT_BACKOFF: (Duration, Duration) = (Duration::from_millis(10), Duration::from_secs(1));

/// Serves `service` on `listener` over HTTP/1.1 (keep-alive on), cutting
/// slow clients:
///
/// - a client that has not sent a request's headers within the
///   [header-read time-out](WebhookServer::header_read_timeout) is
///   disconnected, on its first request and between later ones;
/// - a connection that moves no byte for the
///   [idle time-out](WebhookServer::idle_timeout) is closed;
/// - accept errors (out of file descriptors, say) pause accepting, from
///   10 ms doubling to 1 s, instead of retrying in a busy loop;
/// - each request carries the peer's address as a [`PeerAddr`] extension,
///   which the endpoint hands to the receiver's rejection log;
/// - [with a shutdown signal](WebhookServer::with_graceful_shutdown), it
///   stops accepting, lets in-flight requests finish within a
///   [grace period](WebhookServer::shutdown_grace), closes idle
///   connections, and at the end of the grace period closes the
///   connections still open.
///
/// Works with any tower service that takes hyper's requests, an
/// `axum::Router` included. Resolves when the server stops; an error
/// means the listener itself failed.
///
/// ```no_run
/// use costkatana_webhooks::{Payload, Receiver};
/// use costkatana_webhooks_tower::{serve, shutdown_signal, WebhookEndpoint};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let receiver = Receiver::builder()
///     .secret(std::env::var("COSTKATANA_WEBHOOK_SECRET")?)
///     .fallback(|payload: Payload| async move { println!("{payload:?}"); Ok(()) })
///     .build()?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// serve(listener, WebhookEndpoint::new(receiver))
///     .with_graceful_shutdown(shutdown_signal())
///     .header_read_timeout(std::time::Duration::from_secs(5))
///     .await?;
/// # Ok(()) }
/// ```
pub fn serve<S>(listener: TcpListener, service: S) -> WebhookServer<S> {
    WebhookServer {
        listener,
        service,
        header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
        idle_timeout: DEFAULT_IDLE_TIMEOUT,
        shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        signal: Box::pin(std::future::pending()),
    }
}

/// A server started by [`serve`]; await it to run it.
#[must_use = "a server does nothing until awaited"]
pub struct WebhookServer<S> {
    listener: TcpListener,
    service: S,
    header_read_timeout: Duration,
    idle_timeout: Duration,
    shutdown_grace: Duration,
    signal: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl<S> std::fmt::Debug for WebhookServer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookServer")
            .field("listener", &self.listener)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("shutdown_grace", &self.shutdown_grace)
            .finish_non_exhaustive()
    }
}

impl<S> WebhookServer<S> {
    /// How long a client may take to send a request's headers (default
    /// 10 s), counted from the connection or the previous response.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// How long a connection may move no byte before it is closed (default
    /// 120 s). Keep it longer than the slowest handler: a request cut while
    /// its handler runs has its claim released, and the sender retries it.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// How long in-flight requests may take to finish once the shutdown
    /// signal fires (default 30 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Stops the server gracefully when `signal` resolves.
    pub fn with_graceful_shutdown(
        mut self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        self.signal = Box::pin(signal);
        self
    }
}

impl<S, B> IntoFuture for WebhookServer<S>
where
    S: Service<http::Request<Incoming>, Response = http::Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

impl<S, B> WebhookServer<S>
where
    S: Service<http::Request<Incoming>, Response = http::Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    async fn run(self) -> io::Result<()> {
        let WebhookServer {
            listener,
            service,
            header_read_timeout,
            idle_timeout,
            shutdown_grace,
            mut signal,
        } = self;
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(header_read_timeout)
            .keep_alive(true);
        let graceful = GracefulShutdown::new();
        // The connections' tasks, so those still open after the grace
        // period can be closed; finished ones are reaped as others arrive.
        let mut connections = tokio::task::JoinSet::new();
        let mut backoff = ACCEPT_BACKOFF.0;
        loop {
            while connections.try_join_next().is_some() {}
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        backoff = ACCEPT_BACKOFF.0;
                        (stream, peer)
                    }
                    // The peer gave up before we accepted: the next one may be fine.
                    Err(err) if is_per_connection(&err) => continue,
                    Err(err) => {
                        // Out of descriptors or memory: accepting again at once
                        // would spin. The listener itself is fine.
                        tracing::warn!(error = %err, pause_ms = backoff.as_millis() as u64, "accept failed; pausing");
                        tokio::select! {
                            () = tokio::time::sleep(backoff) => {}
                            () = &mut signal => break,
                        }
                        backoff = (backoff * 2).min(ACCEPT_BACKOFF.1);
                        continue;
                    }
                },
                () = &mut signal => break,
            };
            let (stream, peer) = stream;
            let (io, activity) = Watched::new(stream);
            let service = WithPeer {
                inner: service.clone(),
                peer: PeerAddr(peer),
            };
            let connection = graceful
                .watch(http.serve_connection(TokioIo::new(io), TowerToHyperService::new(service)));
            connections.spawn(async move {
                tokio::select! {
                    result = connection => {
                        if let Err(err) = result {
                            tracing::debug!(error = %err, "connection ended with an error");
                        }
                    }
                    // Dropping the connection closes it.
                    () = activity.idle_for(idle_timeout) => {
                        tracing::debug!("closing a connection idle for {idle_timeout:?}");
                    }
                }
            });
        }
        drop(listener);
        tokio::select! {
            () = graceful.shutdown() => {}
            () = tokio::time::sleep(shutdown_grace) => {
                tracing::warn!("connections still open after the {shutdown_grace:?} grace period; closing them");
            }
        }
        // Dropping a connection's task closes it; its request's future is
        // dropped too, which releases a held claim.
        connections.shutdown().await;
        Ok(())
    }
}

/// The connection's service, putting the peer's address in each request's
/// extensions.
#[derive(Clone)]
struct WithPeer<S> {
    inner: S,
    peer: PeerAddr,
}

impl<S, B> Service<http::Request<B>> for WithPeer<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        request.extensions_mut().insert(self.peer);
        self.inner.call(request)
    }
}

/// Errors that concern one connection, not the listener.
fn is_per_connection(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
    )
}

/// When a connection last moved a byte, in ms since it was accepted.
struct Activity {
    since: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn touch(&self) {
        let elapsed = u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(elapsed, Ordering::Relaxed);
    }

    /// Resolves once no byte has moved for `timeout`.
    async fn idle_for(self: Arc<Self>, timeout: Duration) {
        loop {
            let last = self.since + Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
            if last.elapsed() >= timeout {
                return;
            }
            tokio::time::sleep_until(last + timeout).await;
        }
    }
}

/// A TCP stream that records when it last read or wrote.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl Watched {
    fn new(stream: TcpStream) -> (Self, Arc<Activity>) {
        let activity = Arc::new(Activity {
            since: Instant::now(),
            last_ms: AtomicU64::new(0),
        });
        let watched = Watched {
            stream,
            activity: Arc::clone(&activity),
        };
        (watched, activity)
    }

    fn note<T>(&self, poll: Poll<io::Result<T>>, moved: bool) -> Poll<io::Result<T>> {
        if moved && matches!(poll, Poll::Ready(Ok(_))) {
            self.activity.touch();
        }
        poll
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.stream).poll_read(cx, buf);
        let moved = buf.filled().len() > before;
        self.note(poll, moved)
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write(cx, buf);
        let moved = matches!(poll, Poll::Ready(Ok(n)) if n > 0);
        self.note(poll, moved)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        let moved = matches!(poll, Poll::Ready(Ok(n)) if n > 0);
        self.note(poll, moved)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn idleness_is_measured_from_the_last_byte() {
        let activity = Arc::new(Activity {
            since: Instant::now(),
            last_ms: AtomicU64::new(0),
        });
        tokio::time::advance(Duration::from_secs(50)).await;
        activity.touch();
        let started = Instant::now();
        Arc::clone(&activity)
            .idle_for(Duration::from_secs(60))
            .await;
        assert_eq!(started.elapsed(), Duration::from_secs(60));
    }

    #[test]
    fn only_per_connection_errors_are_retried_at_once() {
        assert!(is_per_connection(&io::Error::from(
            io::ErrorKind::ConnectionAborted
        )));
        // EMFILE: too many open files.
        assert!(!is_per_connection(&io::Error::from_raw_os_error(24)));
    }
}

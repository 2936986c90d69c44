//! The signals a server is asked to stop with.

use std::future::Future;

/// Resolves on Ctrl-C (SIGINT) or SIGTERM, the signal Docker, systemd and
/// Kubernetes stop a process with: give it to
/// [`WebhookServer::with_graceful_shutdown`](crate::WebhookServer::with_graceful_shutdown)
/// (or axum's), then shut the receiver down.
///
/// The handlers are installed when this is called, not when the future is
/// first polled, so a signal sent right after the call is never missed:
/// call it before announcing that the server listens. A handler that
/// cannot be installed leaves that signal to its default action. Must be
/// called inside a Tokio runtime.
///
/// ```no_run
/// use costkatana_webhooks::{Payload, Receiver};
/// use costkatana_webhooks_tower::{serve, shutdown_signal, WebhookEndpoint};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let receiver = Receiver::builder()
///     .secret("whsec_...")
///     .fallback(|_: Payload| async { Ok(()) })
///     .build()?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// serve(listener, WebhookEndpoint::new(receiver.clone()))
///     .with_graceful_shutdown(shutdown_signal())
///     .await?;
/// receiver.shutdown(std::time::Duration::from_secs(30)).await;
/// # Ok(()) }
/// ```
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let (mut interrupt, mut terminate) = signals;
            tokio::select! {
                Some(()) = async { interrupt.as_mut()?.recv().await } => {}
                Some(()) = async { terminate.as_mut()?.recv().await } => {}
                else => std::future::pending().await,
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

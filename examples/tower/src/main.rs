//! A Cost Katana webhook receiver served by hyper 1 directly, with the
//! tower [`ReceiverService`] as its endpoint, and the examples' fixed
//! interface (see `example-common`): `COSTKATANA_WEBHOOK_SECRET`, `ADDR`,
//! `COSTKATANA_WEBHOOK_TOLERANCE_SECS`, `REDIS_URL`; `POST
//! /webhooks/costkatana`, `GET /health`, `GET /metrics`.
//!
//! ```text
//! COSTKATANA_WEBHOOK_SECRET=s3cret cargo run -p example-tower
//! ```

mod routes;

use std::time::Duration;

use costkatana_webhooks_tower::ReceiverService;
use example_common::{init_observability, shutdown_signal, Config, WEBHOOK_PATH};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;

use routes::Routes;

/// How long in-flight deliveries may take to finish after SIGINT/SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

#[tokio::main]
async fn main() -> Result<(), String> {
    let metrics = init_observability()?;
    let config = Config::from_env()?;
    let receiver = config.receiver().await?;
    let routes = Routes {
        receiver: ReceiverService::new(receiver.clone()),
        metrics,
    };

    let listener = tokio::net::TcpListener::bind(&config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // Installed before announcing the address, so no signal is missed.
    let mut signal = std::pin::pin!(shutdown_signal());
    println!("listening on http://{addr}{WEBHOOK_PATH}");

    // Each connection is watched, so shutting down lets in-flight requests
    // finish and closes idle keep-alive connections.
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    // Out of descriptors or a connection reset before accept:
                    // the listener itself is fine, keep serving.
                    Err(err) => {
                        tracing::warn!(%err, "accept failed");
                        continue;
                    }
                };
                // The timer bounds how long a client may take to send its
                // headers (hyper's default 30 s once a timer is set); the
                // receiver bounds the body.
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .serve_connection(TokioIo::new(stream), routes.clone());
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(err) = connection.await {
                        tracing::debug!(%err, "connection ended with an error");
                    }
                });
            }
            () = &mut signal => break,
        }
    }
    drop(listener);

    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("in-flight connections still open after {SHUTDOWN_GRACE:?}; exiting");
        }
    }
    // Drains background handlers in ack-first mode; returns at once otherwise.
    receiver.shutdown(SHUTDOWN_GRACE).await;
    Ok(())
}

//! A Cost Katana webhook receiver on actix-web, with the examples' fixed
//! interface (see `example-common`): `COSTKATANA_WEBHOOK_SECRET`, `ADDR`,
//! `COSTKATANA_WEBHOOK_TOLERANCE_SECS`, `REDIS_URL`; `POST
//! /webhooks/costkatana`, `GET /health`, `GET /metrics`.
//!
//! ```text
//! COSTKATANA_WEBHOOK_SECRET=s3cret cargo run -p example-actix
//! ```

use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use costkatana_webhooks::Receiver;
use costkatana_webhooks_actix::WebhookEndpoint;
use costkatana_webhooks_console::actix::ConsoleScope;
use example_common::{init_observability, shutdown_signal, Config, SHUTDOWN_GRACE, WEBHOOK_PATH};

/// How long a client may take to send a request's headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an idle keep-alive connection stays open.
const KEEP_ALIVE: Duration = Duration::from_secs(30);

#[actix_web::main]
async fn main() -> Result<(), String> {
    let metrics = init_observability()?;
    let config = Config::from_env()?;
    // Bound before the receiver starts, so that what its first catch-up pass
    // replays finds a listener (a refused connection fails a delivery for good).
    let listener = std::net::TcpListener::bind(&config.addr)
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let receiver = config.receiver().await?;

    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let app_receiver = receiver.clone();
    let console = config.console(&receiver)?;
    let server = HttpServer::new(move || {
        let metrics = metrics.clone();
        let console = console.clone();
        App::new()
            .configure(move |app| {
                if let Some(console) = console {
                    app.service(ConsoleScope::new(console));
                }
            })
            .service(WebhookEndpoint::new(WEBHOOK_PATH, app_receiver.clone()))
            .route("/health", web::get().to(health))
            .app_data(web::Data::new(app_receiver.clone()))
            .route(
                "/metrics",
                web::get().to(move || {
                    let body = metrics.render();
                    async move {
                        HttpResponse::Ok()
                            .content_type("text/plain; version=0.0.4; charset=utf-8")
                            .body(body)
                    }
                }),
            )
    })
    // Our own signal handling, shared with the other examples; stopping
    // gracefully lets in-flight handlers finish (up to the grace period).
    .disable_signals()
    // Drop a request's handler when its client goes away, so the claim is
    // released and the sender's retry is processed (as with axum and tower).
    .h1_allow_half_closed(false)
    // Cut slow clients: unfinished headers, idle keep-alive connections.
    // (actix-server already pauses accepting after an accept error.)
    .client_request_timeout(HEADER_READ_TIMEOUT)
    .keep_alive(KEEP_ALIVE)
    .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
    .listen(listener)
    .map_err(|e| format!("cannot serve on {addr}: {e}"))?
    .run();
    let shutdown = shutdown_signal();
    println!("listening on http://{addr}{WEBHOOK_PATH}");

    let handle = server.handle();
    actix_web::rt::spawn(async move {
        shutdown.await;
        handle.stop(true).await;
    });
    server.await.map_err(|e| e.to_string())?;
    // Drains background handlers in ack-first mode; returns at once otherwise.
    receiver.shutdown(SHUTDOWN_GRACE).await;
    Ok(())
}

/// `GET /health`: 200 while the receiver's store can take deliveries.
async fn health(receiver: web::Data<Receiver>) -> HttpResponse {
    let (status, body) = example_common::health(&receiver).await;
    let status = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::SERVICE_UNAVAILABLE);
    HttpResponse::build(status).body(body)
}

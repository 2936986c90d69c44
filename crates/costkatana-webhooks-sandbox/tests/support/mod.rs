//! A scripted receiver on 127.0.0.1: the n-th request gets the n-th answer
//! of the script (the last one repeats), and every request is recorded.
//! Plus a client for a sandbox's API.

#![allow(dead_code, unreachable_pub)]

pub mod api;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::{Notify, Semaphore};

/// How the scripted receiver answers one request.
#[derive(Debug, Clone, Copy)]
pub enum Script {
    /// This status, with `{"answer":n}` as the body (and a `Location`, for redirects).
    Status(u16),
    /// No answer at all: the sender's time-out has to end the attempt.
    Hang,
    /// This status, once the test calls [`Receiver::release`].
    Held(u16),
    /// This (redirect) status with `Location` set to this path.
    Redirect(u16, &'static str),
}

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A receiver answering from a script, stopped when the test's runtime ends.
pub struct Receiver {
    pub url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    arrived: Arc<Notify>,
    held: Arc<Semaphore>,
}

impl Receiver {
    /// Starts the receiver on a free port of 127.0.0.1.
    pub async fn start(script: Vec<Script>) -> Receiver {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let arrived = Arc::new(Notify::new());
        let held = Arc::new(Semaphore::new(0));
        let (recorded, notify, gate) = (
            Arc::clone(&requests),
            Arc::clone(&arrived),
            Arc::clone(&held),
        );
        let app = axum::Router::new().fallback(
            move |method: Method, uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
                let (recorded, script) = (Arc::clone(&recorded), script.clone());
                let (notify, gate) = (Arc::clone(&notify), Arc::clone(&gate));
                async move {
                    let n = {
                        let mut all = recorded.lock().unwrap();
                        all.push(Recorded {
                            method,
                            path: uri.path().to_owned(),
                            headers,
                            body,
                        });
                        all.len()
                    };
                    notify.notify_waiters();
                    answer(script[(n - 1).min(script.len() - 1)], n, &gate).await
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url: format!("http://{addr}/webhooks/costkatana"),
            requests,
            arrived,
            held,
        }
    }

    /// Every request so far, in arrival order.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// Waits until `n` requests have arrived.
    pub async fn wait_for(&self, n: usize) {
        loop {
            let arrived = self.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            if self.requests.lock().unwrap().len() >= n {
                return;
            }
            arrived.await;
        }
    }

    /// Lets one held answer go.
    pub fn release(&self) {
        self.held.add_permits(1);
    }
}

async fn answer(script: Script, n: usize, held: &Semaphore) -> Response {
    match script {
        Script::Status(status) => (
            StatusCode::from_u16(status).unwrap(),
            [("location", "http://127.0.0.1:9/elsewhere")],
            format!("{{\"answer\":{n}}}"),
        )
            .into_response(),
        Script::Hang => std::future::pending().await,
        Script::Redirect(status, path) => (
            StatusCode::from_u16(status).unwrap(),
            [("location", path)],
            String::new(),
        )
            .into_response(),
        Script::Held(status) => {
            held.acquire().await.unwrap().forget();
            (
                StatusCode::from_u16(status).unwrap(),
                format!("{{\"answer\":{n}}}"),
            )
                .into_response()
        }
    }
}

/// A URL on 127.0.0.1 where nothing listens (a port bound, then released).
pub fn closed_port_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}/webhooks/costkatana")
}

/// Runs `test`, failing it when it takes longer than 20 s.
pub async fn bounded<T>(test: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), test)
        .await
        .expect("the test finishes within 20 s")
}

//! Shared test helpers: the binary, an independent HMAC, a listener
//! process that is killed on drop, and a scripted HTTP server.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The `ckwebhook` binary, with no secret in its environment.
pub fn ckwebhook() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("ckwebhook").expect("the binary is built");
    cmd.env_remove("COSTKATANA_WEBHOOK_SECRET")
        .env("NO_COLOR", "1");
    cmd.timeout(Duration::from_secs(30));
    cmd
}

/// HMAC-SHA256 of `timestamp.body` keyed by `key`, lowercase hex; written
/// independently of the crate under test.
pub fn hmac_hex(key: &[u8], timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// A `ckwebhook listen` process, killed (by its pid) when dropped.
pub struct Listener {
    child: Child,
    pub addr: String,
    pub first_lines: Vec<String>,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<JoinHandle<()>>,
}

impl Listener {
    /// Starts `ckwebhook listen --addr 127.0.0.1:0 <args>` and waits (at
    /// most 20 s) until it prints `startup_lines` lines, the first giving its address.
    pub fn start(args: &[&str], startup_lines: usize) -> Listener {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("ckwebhook"))
            .args(["listen", "--addr", "127.0.0.1:0"])
            .args(args)
            .env_remove("COSTKATANA_WEBHOOK_SECRET")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("listen starts");
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let all = Arc::clone(&lines);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                all.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        let mut listener = Listener {
            child,
            addr: String::new(),
            first_lines: Vec::new(),
            lines,
            reader: Some(reader),
        };
        for _ in 0..startup_lines {
            let line = rx
                .recv_timeout(Duration::from_secs(20))
                .expect("listen prints its startup lines within 20 s");
            listener.first_lines.push(line);
        }
        let first = &listener.first_lines[0];
        let start = first.find("http://").expect("the address is printed") + 7;
        let end = first[start..].find(' ').unwrap() + start;
        listener.addr = first[start..end].to_owned();
        listener
    }

    /// The URL of the webhook path.
    pub fn url(&self) -> String {
        format!("http://{}/webhooks/costkatana", self.addr)
    }

    /// Stops the process and returns everything it printed.
    pub fn stop(mut self) -> String {
        self.kill();
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        self.lines.lock().unwrap().join("\n")
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One request as the scripted server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A local HTTP server answering from a script: the n-th request gets the
/// n-th `(status, delay)` (the last one repeats). Stops when dropped.
pub struct ScriptedServer {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ScriptedServer {
    pub fn start(script: Vec<(u16, Duration)>) -> ScriptedServer {
        use axum::extract::Request;
        use axum::response::IntoResponse;
        use http_body_util::BodyExt;

        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&requests);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, addr) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                ready.send(listener.local_addr().unwrap()).unwrap();
                let app = axum::Router::new().fallback(move |request: Request| {
                    let (recorded, script) = (Arc::clone(&recorded), script.clone());
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = body.collect().await.unwrap().to_bytes().to_vec();
                        let headers = parts
                            .headers
                            .iter()
                            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_owned()))
                            .collect();
                        let n = {
                            let mut all = recorded.lock().unwrap();
                            all.push(Recorded { headers, body });
                            all.len()
                        };
                        let (status, delay) = script[(n - 1).min(script.len() - 1)];
                        tokio::time::sleep(delay).await;
                        let status = axum::http::StatusCode::from_u16(status).unwrap();
                        (
                            status,
                            [("location", "http://127.0.0.1:9/elsewhere")],
                            format!("{{\"answer\":{n}}}"),
                        )
                            .into_response()
                    }
                });
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let addr = addr.recv_timeout(Duration::from_secs(10)).unwrap();
        ScriptedServer {
            url: format!("http://{addr}/hook"),
            requests,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn recorded(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

//! `ckwebhook inbox console`, the real binary against a SQLite inbox a
//! real receiver filled: it serves the console on loopback, with the
//! token from INBOX_CONSOLE_TOKEN or one it generates and prints; signed
//! in, the deliveries are there; it has no receiver, so no rejections;
//! SIGTERM stops it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use costkatana_webhooks::samples::{sample_event, Shape};
use costkatana_webhooks::signing::sign;
use costkatana_webhooks::{EventType, Payload, Receiver, Scheme};
use costkatana_webhooks_inbox::Inbox;

const SECRET: &str = "whsec_console_cli";
const TOKEN: &str = "console-cli-token-0123456789abcdef";
const WAIT: Duration = Duration::from_secs(30);

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The console process; killed on drop if the test did not stop it.
struct Served {
    child: Child,
    lines: mpsc::Receiver<String>,
    startup: Vec<String>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    fn start(url: &str, token: Option<&str>) -> Served {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ckwebhook"));
        command
            .env_remove("INBOX_URL")
            .env_remove("INBOX_CONSOLE_TOKEN")
            // `--url` after the subcommand reads as well as before it.
            .args(["inbox", "console", "--url", url, "--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(token) = token {
            command.env("INBOX_CONSOLE_TOKEN", token);
        }
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut startup = Vec::new();
        while startup.len() < 2 {
            startup.push(lines.recv_timeout(WAIT).expect("the console's start lines"));
        }
        Served {
            child,
            lines,
            startup,
        }
    }

    /// `http://127.0.0.1:port` from the first line.
    fn base(&self) -> String {
        let line = &self.startup[0];
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap();
        url.trim_end_matches("/console/").to_owned()
    }
}

async fn fill(path: &std::path::Path) {
    let inbox = Inbox::open(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    let receiver = Receiver::builder()
        .secret(SECRET)
        .inbox(inbox.clone())
        // Not started: the delivery stays pending for the console to show.
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .unwrap();
    let body = sample_event(
        &EventType::BudgetExceeded,
        Shape::Camel,
        "evt_cli_console",
        now_ms(),
    );
    let headers = sign(Scheme::Current, SECRET, now_ms(), body.as_bytes());
    let outcome = receiver.receive("POST", &headers, body).await;
    assert_eq!(outcome.answer().status, 200);
}

async fn sign_in(client: &reqwest::Client, base: &str, token: &str) -> String {
    let form = client
        .get(format!("{base}/console/sign-in"))
        .send()
        .await
        .unwrap();
    let cookie = form.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = form.text().await.unwrap();
    let marker = "name=\"csrf\" value=\"";
    let csrf = html[html.find(marker).unwrap() + marker.len()..]
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let answer = client
        .post(format!("{base}/console/sign-in"))
        .header("cookie", cookie)
        .header("origin", base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303, "signed in");
    answer.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_the_console_for_an_inbox_with_the_token_given_or_generated() {
    let dir = std::env::temp_dir().join(format!("ckw-cli-console-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("inbox.db");
    fill(&path).await;
    let url = format!("sqlite:{}", path.display());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let served = Served::start(&url, Some(TOKEN));
    assert!(
        served.startup[0].starts_with("inbox console on http://127.0.0.1:"),
        "{:?}",
        served.startup
    );
    assert_eq!(served.startup[1], "token: the one in INBOX_CONSOLE_TOKEN");
    let base = served.base();
    let wall = client
        .get(format!("{base}/console/deliveries"))
        .send()
        .await
        .unwrap();
    assert_eq!(wall.status(), 303);
    let session = sign_in(&client, &base, TOKEN).await;
    let page = client
        .get(format!("{base}/console/deliveries?state=pending"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("evt_cli_console"), "{page}");
    let rejections = client
        .get(format!("{base}/console/rejections"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(rejections.contains("without a receiver"), "{rejections}");
    let mut served = served;
    let pid = served.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let stopped = served.lines.recv_timeout(WAIT).unwrap();
    assert_eq!(stopped, "stopped");
    assert!(served.child.wait().unwrap().success());

    // No token given: one is generated, printed once, and works.
    let generated = Served::start(&url, None);
    let line = &generated.startup[1];
    assert!(
        line.starts_with("token (generated; set INBOX_CONSOLE_TOKEN to choose one): "),
        "{line}"
    );
    let token = line.rsplit(' ').next().unwrap();
    assert_eq!(token.len(), 64);
    sign_in(&client, &generated.base(), token).await;
    drop(generated);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn refuses_a_short_token_and_a_missing_url() {
    let out = Command::new(env!("CARGO_BIN_EXE_ckwebhook"))
        .env_remove("INBOX_URL")
        .env("INBOX_CONSOLE_TOKEN", "short")
        .args(["inbox", "console", "--url", "postgres://127.0.0.1:1/none"])
        .output()
        .unwrap();
    // The URL is reached for first; either way the exit says why.
    assert!(!out.status.success());
    let missing = Command::new(env!("CARGO_BIN_EXE_ckwebhook"))
        .env_remove("INBOX_URL")
        .args(["inbox", "console"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("--url") && stderr.contains("INBOX_URL"),
        "{stderr}"
    );
}

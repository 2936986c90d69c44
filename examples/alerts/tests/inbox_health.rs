//! The alerts example tells the truth about its inbox, as a real process:
//! on an inbox it cannot write it exits with why instead of serving, and
//! its `/health` answers 503 while its Postgres is down and 200 once it
//! is back.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use costkatana_webhooks_inbox::testing::PostgresServer;
use costkatana_webhooks_inbox::Inbox;
use support::{client, Alerts, TempDir, BIN, SECRET, WAIT};

/// A file nobody may write while this lives: immutable for root (whom
/// permissions do not stop), mode 0444 for anyone else.
struct ReadOnly(PathBuf);

impl ReadOnly {
    fn new(path: &Path) -> ReadOnly {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0");
        if root {
            let status = Command::new("chattr")
                .arg("+i")
                .arg(path)
                .status()
                .expect("chattr runs");
            assert!(status.success(), "chattr +i {}", path.display());
        } else {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o444)).expect("chmod");
        }
        ReadOnly(path.to_owned())
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

#[tokio::test]
async fn exits_with_why_instead_of_serving_on_an_inbox_it_cannot_write() {
    let dir = TempDir::new("alerts-read-only");
    let path = dir.0.join("inbox.db");
    drop(
        Inbox::open(&dir.sqlite_url())
            .await
            .expect("the table is made"),
    );
    let _read_only = ReadOnly::new(&path);

    let mut child = Command::new(BIN)
        .env_remove("REDIS_URL")
        .env("COSTKATANA_WEBHOOK_SECRET", SECRET)
        .env("INBOX_URL", dir.sqlite_url())
        .env("ADDR", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("example-alerts starts");
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("example-alerts kept running on a read-only inbox");
        }
        std::thread::sleep(Duration::from_millis(20)); // polling the child's exit
    };
    let output = child.wait_with_output().expect("its output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!status.success(), "{stdout}\n{stderr}");
    assert!(!stdout.contains("listening on"), "{stdout}");
    for needle in [
        "it cannot store deliveries",
        &path.display().to_string(),
        "readonly",
    ] {
        assert!(stderr.contains(needle), "{needle:?} in:\n{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_503_while_postgres_is_down_and_200_once_it_is_back() {
    let Some(mut server) = PostgresServer::start() else {
        return;
    };
    let url = server.create_database("alerts_health");
    let alerts = Alerts::start(&[("INBOX_URL", &url)]);
    let client = client();
    let health = || async {
        let answer = client
            .get(format!("{}/health", alerts.base))
            .send()
            .await
            .expect("an answer");
        let status = answer.status().as_u16();
        (status, answer.text().await.expect("a body"))
    };
    assert_eq!(health().await, (200, "ok".to_owned()));
    server.stop();
    assert_eq!(health().await, (503, "unavailable".to_owned()));
    server.restart();
    assert_eq!(
        health().await,
        (200, "ok".to_owned()),
        "{}",
        alerts.log_text()
    );
}

//! `ckwebhook send` against the example receiver (example-axum), end to
//! end: delivered, then the same body again answered as a duplicate.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The example receiver; killed on drop.
struct Receiver(Child);

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn send_reaches_the_example_receiver() {
    // `cargo test --workspace` builds every binary next to this one.
    let example = Path::new(env!("CARGO_BIN_EXE_ckwebhook")).with_file_name("example-axum");
    if !example.exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "example-axum is not built: run `cargo test --workspace`"
        );
        eprintln!("SKIPPED: example-axum is not built (run `cargo test --workspace`)");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(&example)
        .env("COSTKATANA_WEBHOOK_SECRET", "s3cret")
        .env("ADDR", format!("127.0.0.1:{port}"))
        .env_remove("REDIS_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the example starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _receiver = Receiver(child);
    assert!(line.contains("listening on"), "{line:?}");

    let url = format!("http://127.0.0.1:{port}/webhooks/costkatana");
    let body = std::env::temp_dir().join(format!("ckwebhook-example-{port}.json"));
    std::fs::write(&body, r#"{"eventId":"evt_example_1","eventType":"budget.exceeded","data":{"title":"Budget exceeded"}}"#).unwrap();
    let send = || {
        Command::new(env!("CARGO_BIN_EXE_ckwebhook"))
            .args(["send", "--url", &url, "--secret", "s3cret", "--body"])
            .arg(&body)
            .output()
            .expect("ckwebhook runs")
    };
    let first = send();
    let first_out = String::from_utf8_lossy(&first.stdout);
    assert!(first.status.success(), "{first_out}");
    assert!(
        first_out.contains(r#"{"event_id":"evt_example_1","received":true}"#),
        "{first_out}"
    );
    let again = send();
    let again_out = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{again_out}");
    assert!(again_out.contains(r#""duplicate":true"#), "{again_out}");
    let _ = std::fs::remove_file(&body);
}

//! `ckwebhook sandbox`, the real binary: it starts, prints its URL and key,
//! answers the API with that key, and stops on SIGTERM. Every wait is
//! bounded; the process is killed (by its pid) if a test fails first.

#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// A `ckwebhook sandbox` process and the lines it prints.
struct Running {
    child: Child,
    lines: Receiver<String>,
}

impl Running {
    fn start(args: &[&str], api_key: Option<&str>) -> Running {
        let mut command = Command::new(assert_cmd::cargo::cargo_bin("ckwebhook"));
        command
            .args(["sandbox", "--addr", "127.0.0.1:0"])
            .args(args)
            .env_remove("COSTKATANA_API_KEY")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(key) = api_key {
            command.env("COSTKATANA_API_KEY", key);
        }
        let mut child = command.spawn().expect("ckwebhook sandbox starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running { child, lines }
    }

    fn line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(20))
            .expect("a line within 20 s")
    }

    /// Sends SIGTERM and waits (at most 10 s) for the process to end.
    fn terminate(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "still running 10 s after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request on its own connection; the status and the body.
fn http(
    base: &str,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    let addr = base.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(key) = key {
        request.push_str(&format!("Authorization: Bearer {key}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer.split(' ').nth(1).unwrap().parse().unwrap();
    let body = answer.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}

#[test]
fn it_prints_its_url_and_key_answers_and_stops_on_sigterm() {
    let mut sandbox = Running::start(&["--speed", "100"], None);
    let banner = sandbox.line();
    assert!(
        banner.starts_with("Cost Katana sandbox on http://127.0.0.1:"),
        "{banner}"
    );
    assert!(banner.contains("divided by 100"), "{banner}");
    let url_line = sandbox.line();
    let url = url_line
        .strip_prefix("export COSTKATANA_API_URL=")
        .unwrap()
        .to_owned();
    assert!(banner.contains(&url));
    let key_line = sandbox.line();
    let key = key_line
        .strip_prefix("export COSTKATANA_API_KEY=")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    assert!(key.starts_with("dak_") && key.len() > 40, "{key_line}");
    let curl = sandbox.line();
    assert_eq!(
        curl,
        format!("curl -H \"Authorization: Bearer {key}\" {url}/api/webhooks/events")
    );

    let (status, body) = http(&url, "GET", "/api/webhooks/events", Some(&key), None);
    assert_eq!(status, 200);
    assert!(body.contains("\"total\":57"), "{body}");
    let (status, body) = http(&url, "GET", "/api/webhooks", None, None);
    assert_eq!(status, 401);
    assert!(body.contains("No authentication token provided"), "{body}");
    let (status, body) = http(
        &url,
        "POST",
        "/api/webhooks",
        Some(&key),
        Some(r#"{"name":"Mine","url":"http://127.0.0.1:9/hook","events":["cost.alert"]}"#),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = http(&url, "GET", "/api/webhooks", Some(&key), None);
    assert_eq!(status, 200);
    assert!(body.contains("\"name\":\"Mine\""), "{body}");

    let status = sandbox.terminate();
    assert!(status.success(), "{status:?}");
    assert_eq!(sandbox.line(), "stopped");
    let addr = url.strip_prefix("http://").unwrap();
    assert!(TcpStream::connect(addr).is_err(), "no longer listening");
}

#[test]
fn a_key_given_is_used_and_not_printed() {
    let key = "dak_65f0c0ffee0000000000beef_0123456789abcdef_notprinted";
    let mut sandbox = Running::start(&[], Some(key));
    let mut printed = Vec::new();
    for _ in 0..4 {
        printed.push(sandbox.line());
    }
    let url = printed[1]
        .strip_prefix("export COSTKATANA_API_URL=")
        .unwrap()
        .to_owned();
    assert_eq!(printed[2], "# COSTKATANA_API_KEY: the key you gave (dak_…)");
    assert!(printed[3].contains("$COSTKATANA_API_KEY"), "{}", printed[3]);
    assert!(!printed.join("\n").contains("notprinted"), "{printed:?}");
    assert_eq!(http(&url, "GET", "/api/webhooks", Some(key), None).0, 200);
    assert_eq!(
        http(&url, "GET", "/api/webhooks", Some("dak_other"), None).0,
        401
    );
    assert!(sandbox.terminate().success());
}

#[test]
fn bad_settings_are_refused() {
    for (args, message) in [
        (&["--speed", "0"][..], "the speed must be a number above 0"),
        (&["--api-key", "two words"][..], "visible ASCII"),
    ] {
        let output = Command::new(assert_cmd::cargo::cargo_bin("ckwebhook"))
            .args(["sandbox", "--addr", "127.0.0.1:0"])
            .args(args)
            .env_remove("COSTKATANA_API_KEY")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{stderr}");
    }
}

//! Headless Chromium driven through chromedriver (Debian's `chromium` and
//! `chromium-driver`), each test with its own driver, port and profile.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

use super::{wait_until, TempDir};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A chromedriver process and a browser session on it; both end on drop.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: TempDir,
}

/// Killing chromedriver alone leaves its Chromium running, so the driver
/// gets a process group of its own, which Chromium's processes join, and
/// the whole group is killed, also when a test panics.
impl Drop for Browser {
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Whether the browser tests can run here; when they cannot, says so on
/// stderr, or panics under `CI=true` (CI must run them).
pub fn available(test: &str) -> bool {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|path| !Path::new(path).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{test}: {} missing under CI=true (apt-get install chromium chromium-driver)",
        missing.join(" and ")
    );
    eprintln!(
        "SKIPPED {test}: {} not installed, so this browser test did not run \
         (apt-get install chromium chromium-driver; under CI=true this fails)",
        missing.join(" and ")
    );
    false
}

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium with a
    /// fresh profile.
    pub async fn start(name: &str) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = TempDir::new(&format!("chromium-{name}"));
        let capabilities = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    "--disable-dev-shm-usage",
                    "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.0.display()),
                ],
            },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let url = format!("http://127.0.0.1:{port}");
        let client = wait_until("chromedriver to take a session", || {
            let capabilities = capabilities.clone();
            let url = url.clone();
            async move {
                ClientBuilder::new(HttpConnector::new())
                    .capabilities(capabilities)
                    .connect(&url)
                    .await
                    .map_err(|e| eprintln!("chromedriver not ready: {e}"))
                    .ok()
            }
        })
        .await;
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .click()
            .await
            .unwrap();
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    /// The page's visible text (empty while a navigation replaces the
    /// page under the query).
    pub async fn body_text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Waits for the page's text to contain `text`.
    pub async fn wait_for_text(&self, text: &str) -> String {
        let started = std::time::Instant::now();
        loop {
            let body = self.body_text().await;
            if body.contains(text) {
                return body;
            }
            assert!(
                started.elapsed() < super::WAIT,
                "waited {:?} for the page at {} to show {text:?}; it shows:\n{body}",
                super::WAIT,
                self.path().await
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Waits for the address to be `path` (with its query).
    pub async fn wait_for_path(&self, path: &str) {
        wait_until(&format!("the browser at {path}"), || async {
            (self.path().await == path).then_some(())
        })
        .await;
    }

    /// Saves a PNG of the window as `name` under the screenshots
    /// directory; returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap();
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Signs in through the form.
    pub async fn sign_in(&self, base: &str, token: &str) {
        self.goto(&format!("{base}/console/sign-in")).await;
        self.type_into("#token", token).await;
        self.click("section.sign-in button[type=submit]").await;
        self.wait_for_text("Overview").await;
    }
}

/// `target/console-screenshots` of this workspace (or of
/// `CARGO_TARGET_DIR`).
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("console-screenshots")
}

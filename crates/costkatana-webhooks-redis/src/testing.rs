//! A throwaway `redis-server` for tests (feature `testing`): its own port
//! and directory, no persistence, killed when dropped, and able to crash
//! and come back on the same port mid-test.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a starting server may take to answer `PING`.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A `redis-server` process on 127.0.0.1, started for one test.
///
/// ```no_run
/// use costkatana_webhooks_redis::testing::RedisServer;
///
/// // None only outside CI when redis-server is not installed.
/// let Some(mut server) = RedisServer::start() else { return };
/// println!("{}", server.url());
/// server.stop(); // as a crash would
/// server.restart(); // same port, empty
/// ```
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    args: Vec<String>,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server on a free port and waits until it answers.
    ///
    /// Returns `None`, after printing why, when `redis-server` is not
    /// installed; under `CI=true` that is a failure instead, so CI never
    /// passes without running the Redis tests.
    ///
    /// ```no_run
    /// use costkatana_webhooks_redis::testing::RedisServer;
    /// let Some(server) = RedisServer::start() else { return };
    /// assert!(server.url().starts_with("redis://127.0.0.1:"));
    /// ```
    ///
    /// # Panics
    ///
    /// `redis-server` is missing under `CI=true`, or does not answer
    /// within 10 s.
    pub fn start() -> Option<RedisServer> {
        RedisServer::start_with(&[])
    }

    /// [`RedisServer::start`] with extra `redis-server` arguments, such as
    /// `["--requirepass", "pw"]`.
    ///
    /// ```no_run
    /// use costkatana_webhooks_redis::testing::RedisServer;
    /// let Some(server) = RedisServer::start_with(&["--requirepass", "pw"]) else { return };
    /// let url = format!("redis://:pw@127.0.0.1:{}/0", server.port());
    /// ```
    ///
    /// # Panics
    ///
    /// As [`RedisServer::start`].
    pub fn start_with(args: &[&str]) -> Option<RedisServer> {
        if !installed() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "redis-server is required under CI=true but is not installed \
                 (apt-get install redis-server)"
            );
            eprintln!(
                "SKIPPED: redis-server is not installed, so this Redis test did not run \
                 (apt-get install redis-server; under CI=true this fails)"
            );
            return None;
        }
        // A free port can be taken between finding and binding it: try again.
        for _ in 0..5 {
            let mut server = RedisServer {
                port: free_port(),
                dir: temp_dir(),
                args: args.iter().map(|&a| a.to_owned()).collect(),
                child: None,
            };
            if server.spawn_and_wait() {
                return Some(server);
            }
        }
        panic!("redis-server did not start on any of 5 free ports");
    }

    /// The port it listens on (127.0.0.1).
    ///
    /// ```no_run
    /// # let server = costkatana_webhooks_redis::testing::RedisServer::start().unwrap();
    /// assert_ne!(server.port(), 0);
    /// ```
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>/0`.
    ///
    /// ```no_run
    /// # let server = costkatana_webhooks_redis::testing::RedisServer::start().unwrap();
    /// assert_eq!(server.url(), format!("redis://127.0.0.1:{}/0", server.port()));
    /// ```
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Kills the server (`SIGKILL`, as a crash would) and waits for it to
    /// exit. Does nothing if it is stopped already.
    ///
    /// ```no_run
    /// # let mut server = costkatana_webhooks_redis::testing::RedisServer::start().unwrap();
    /// server.stop();
    /// assert!(std::net::TcpStream::connect(("127.0.0.1", server.port())).is_err());
    /// ```
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server if it runs, then starts it again on the same port
    /// (empty, like a failover target) and waits until it answers.
    ///
    /// ```no_run
    /// # let mut server = costkatana_webhooks_redis::testing::RedisServer::start().unwrap();
    /// server.stop();
    /// server.restart();
    /// ```
    ///
    /// # Panics
    ///
    /// It does not answer within 10 s (the port was taken meanwhile).
    pub fn restart(&mut self) {
        self.stop();
        assert!(
            self.spawn_and_wait(),
            "redis-server did not come back on port {}",
            self.port
        );
    }

    /// Spawns the process; whether it answered before exiting or before
    /// the deadline.
    fn spawn_and_wait(&mut self) -> bool {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(&self.dir)
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            // Exited: the port was taken, or the arguments were refused.
            let running = self
                .child
                .as_mut()
                .map(|child| (child.try_wait(), child.id()));
            let Some((Ok(None), pid)) = running else {
                self.child = None;
                return false;
            };
            if answers(self.port, self.password(), pid) {
                return true;
            }
            if Instant::now() > deadline {
                self.stop();
                return false;
            }
            std::thread::sleep(Duration::from_millis(20)); // polling a starting process
        }
    }

    /// The `--requirepass` argument, if any.
    fn password(&self) -> Option<&str> {
        let at = self.args.iter().position(|a| a == "--requirepass")?;
        self.args.get(at + 1).map(String::as_str)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn installed() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .output()
        .is_ok_and(|out| out.status.success())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

fn temp_dir() -> PathBuf {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ckw-redis-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    dir
}

/// Whether *our* process answers on the port: `INFO server` names its
/// process id (another test's server may have taken a port we chose).
fn answers(port: u16, password: Option<&str>, pid: u32) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut request = String::new();
    if let Some(password) = password {
        request.push_str(&format!("AUTH {password}\r\n"));
    }
    request.push_str("INFO server\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let wanted = format!("\r\nprocess_id:{pid}\r\n");
    let mut reply = Vec::new();
    let mut chunk = [0u8; 4096];
    while reply.len() < 64 * 1024 {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(n) => reply.extend_from_slice(&chunk[..n]),
        }
        if String::from_utf8_lossy(&reply).contains(&wanted) {
            return true;
        }
    }
    false
}

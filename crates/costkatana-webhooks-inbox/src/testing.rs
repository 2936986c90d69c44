//! A throwaway Postgres server for tests (feature `testing`): its own data
//! directory and port, stopped and deleted when dropped, and able to
//! restart on the same port and data mid-test.
//!
//! It needs the server binaries (`initdb`, `postgres`, `pg_isready`: the
//! Debian package `postgresql`). Run as root, it runs the server as the
//! `postgres` user, which the package creates, since Postgres refuses root.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `postgres` on 127.0.0.1 and a free port.
///
/// ```no_run
/// use costkatana_webhooks_inbox::testing::PostgresServer;
///
/// let Some(mut server) = PostgresServer::start() else { return };
/// let url = server.url();
/// server.restart(); // same port, same data
/// ```
#[derive(Debug)]
pub struct PostgresServer {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres_user: bool,
    child: Option<Child>,
}

impl PostgresServer {
    /// Creates a database cluster and starts its server. `None` (with a
    /// line on stderr saying the test did not run) when Postgres is not
    /// installed, except under `CI=true`, where that panics: CI must run
    /// every test.
    ///
    /// # Panics
    ///
    /// Postgres is missing under `CI=true`, or `initdb` or the server fails.
    pub fn start() -> Option<PostgresServer> {
        let Some(bin) = find_binaries() else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "Postgres is required under CI=true but is not installed (apt-get install postgresql)"
            );
            eprintln!(
                "SKIPPED: Postgres is not installed, so this Postgres test did not run \
                 (apt-get install postgresql; under CI=true this fails)"
            );
            return None;
        };
        let as_postgres_user = running_as_root();
        let dir = temp_dir();
        let data = dir.join("data");
        if as_postgres_user {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir));
        }
        let mut initdb = command(as_postgres_user, &bin.join("initdb"));
        initdb.arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]);
        run(&mut initdb);
        for _ in 0..5 {
            let mut server = PostgresServer {
                bin: bin.clone(),
                dir: dir.clone(),
                port: free_port(),
                as_postgres_user,
                child: None,
            };
            if server.spawn_and_wait() {
                return Some(server);
            }
        }
        panic!(
            "postgres did not start on any of 5 free ports (data in {})",
            data.display()
        );
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        self.url_for("postgres")
    }

    /// The URL of database `name` on this server.
    pub fn url_for(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates database `name` and returns its URL.
    ///
    /// # Panics
    ///
    /// The server refuses (the name exists, say).
    pub fn create_database(&self, name: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-q",
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .args(["-c", &format!("CREATE DATABASE \"{name}\"")])
            .output()
            .expect("psql runs");
        assert!(
            out.status.success(),
            "CREATE DATABASE {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.url_for(name)
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server (fast shutdown: clients are disconnected).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-s", "INT", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + START_TIMEOUT;
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20)); // polling a stopping process
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server and starts it again on the same port and data.
    ///
    /// # Panics
    ///
    /// It does not come back.
    pub fn restart(&mut self) {
        self.stop();
        assert!(
            self.spawn_and_wait(),
            "postgres did not come back on port {}",
            self.port
        );
    }

    fn spawn_and_wait(&mut self) -> bool {
        let data = self.dir.join("data");
        let child = command(self.as_postgres_user, &self.bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .args(["-p", &self.port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", self.dir.display()))
            .args(["-c", "max_connections=200"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("postgres starts");
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let exited = self
                .child
                .as_mut()
                .is_none_or(|child| !matches!(child.try_wait(), Ok(None)));
            if exited {
                self.child = None;
                return false;
            }
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .status()
                .is_ok_and(|status| status.success());
            if ready {
                return true;
            }
            if Instant::now() > deadline {
                self.stop();
                return false;
            }
            std::thread::sleep(Duration::from_millis(50)); // polling a starting server
        }
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The directory holding `initdb`, `postgres` and `pg_isready`: on the
/// `PATH`, else Debian's newest `/usr/lib/postgresql/<version>/bin`.
fn find_binaries() -> Option<PathBuf> {
    let has_all = |dir: &Path| {
        ["initdb", "postgres", "pg_isready", "psql"]
            .iter()
            .all(|b| dir.join(b).exists())
    };
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .collect();
    candidates.sort_by_key(|dir| {
        let version = dir
            .parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str());
        std::cmp::Reverse(version.and_then(|v| v.parse::<u32>().ok()).unwrap_or(0))
    });
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    candidates
        .into_iter()
        .chain(on_path)
        .find(|dir| has_all(dir))
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// `program`, run as the `postgres` user when we are root.
fn command(as_postgres_user: bool, program: &Path) -> Command {
    if as_postgres_user {
        let mut command = Command::new("setpriv");
        command
            .args(["--reuid=postgres", "--regid=postgres", "--init-groups"])
            .arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(command: &mut Command) {
    let out = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|err| panic!("{command:?} could not start: {err}"));
    assert!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

fn temp_dir() -> PathBuf {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ckw-postgres-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    dir
}

/// The [`InboxTransaction`](crate::InboxTransaction) a handler would be
/// given for `attempt` (one begun with
/// [`InboxStore::begin_transaction`](costkatana_webhooks::inbox::InboxStore::begin_transaction)
/// on an [`Inbox`](crate::Inbox)), for tests that drive the store by hand.
///
/// # Panics
///
/// When `attempt` was not begun by an `Inbox`.
///
/// ```no_run
/// # async fn run(inbox: costkatana_webhooks_inbox::Inbox) {
/// use costkatana_webhooks::inbox::InboxStore;
/// let job = inbox.take(0, std::time::Duration::from_secs(60), 1).await.unwrap().pop().unwrap();
/// let attempt = inbox.begin_transaction(&job).unwrap();
/// let tx = costkatana_webhooks_inbox::testing::transaction_of(attempt.as_ref());
/// tx.execute("INSERT INTO t (x) VALUES ($1)", &[1.into()]).await.unwrap();
/// # }
/// ```
pub fn transaction_of(
    attempt: &dyn costkatana_webhooks::inbox::AttemptTransaction,
) -> crate::InboxTransaction {
    crate::transaction::InboxTransaction::of(attempt.handle())
        .expect("a transaction begun by an Inbox")
}

//! The inbox tells the truth at start and in health: a receiver whose
//! inbox cannot write refuses to start, and its health says so while the
//! inbox cannot write.

#[path = "suite/support.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use costkatana_webhooks::{Payload, Receiver};
use costkatana_webhooks_inbox::testing::PostgresServer;
use costkatana_webhooks_inbox::Inbox;
use support::SECRET;

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

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
            let status = Command::new("chattr").arg("+i").arg(path).status().unwrap();
            assert!(status.success(), "chattr +i {}", path.display());
        } else {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o444)).unwrap();
        }
        ReadOnly(path.to_owned())
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

fn receiver(inbox: Inbox) -> Receiver {
    Receiver::builder()
        .secret(SECRET)
        .inbox(inbox)
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_on_a_read_only_inbox_refuses_to_start_saying_why() {
    let dir = std::env::temp_dir().join(format!("ckw-inbox-probe-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let _dir = TempDir(dir.clone());
    let path = dir.join("inbox.db");
    let url = format!("sqlite:{}", path.display());
    drop(Inbox::open(&url).await.unwrap()); // the table is there
    let _read_only = ReadOnly::new(&path);

    let inbox = Inbox::open(&url).await.expect("it opens and reads");
    let receiver = receiver(inbox);
    let err = receiver.start().await.unwrap_err().to_string();
    assert!(err.contains("it cannot store deliveries"), "{err}");
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains("readonly"), "{err}");
    assert_eq!(receiver.health().await.status(), 503);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_unavailable_while_postgres_is_down_and_ready_once_it_is_back() {
    let Some(mut server) = PostgresServer::start() else {
        return;
    };
    let url = server.create_database("health");
    let receiver = receiver(Inbox::open(&url).await.unwrap());
    receiver.start().await.unwrap();
    assert_eq!(receiver.health().await.status(), 200);
    server.stop();
    let down = receiver.health().await;
    assert_eq!(down.status(), 503);
    assert!(down.to_string().contains("Postgres inbox"), "{down}");
    server.restart();
    assert_eq!(receiver.health().await.status(), 200);
    receiver.shutdown(std::time::Duration::from_secs(5)).await;
}

//! The inbox suite on SQLite files, one per test.

mod suite;

use std::path::PathBuf;

use costkatana_webhooks_inbox::Inbox;

/// Deletes the test's directory when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn open(name: &str) -> Option<(Inbox, TempDir)> {
    let dir = std::env::temp_dir().join(format!("ckw-inbox-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite:{}", dir.join("inbox.db").display());
    let inbox = Inbox::builder(&url)
        .keep_done_bodies(suite::keeps_done_bodies(name))
        .open()
        .await
        .unwrap();
    Some((inbox, TempDir(dir)))
}

inbox_suite!(open);

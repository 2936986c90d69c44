//! A SQLite inbox's files on disk: private to their owner. The inbox holds
//! bodies and the headers that verify them, so the database file is
//! created mode 0600 before SQLite opens it (SQLite then creates the
//! `-wal` and `-shm` files with the database file's mode), and an
//! existing file that others may read is made private at open, and the
//! change logged.

use std::path::{Path, PathBuf};

use crate::error::{InboxError, InboxErrorKind};

/// The files of the database at `path`: itself, its `-wal` and `-shm`.
fn files(path: &Path) -> [PathBuf; 3] {
    let with = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [path.to_owned(), with("-wal"), with("-shm")]
}

/// Makes sure the file can be opened as an inbox: with `create`, its
/// directory must exist (named in the error otherwise) and a missing file
/// is created private.
pub(super) fn prepare(path: &Path, create: bool, shown: &str) -> Result<(), InboxError> {
    if create && !path.exists() {
        let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty());
        if let Some(dir) = dir.filter(|dir| !dir.is_dir()) {
            return Err(InboxError::new(
                InboxErrorKind::Unavailable,
                format!(
                    "{shown}: could not open the file: the directory {} does not exist \
                     (create it first)",
                    dir.display()
                ),
            ));
        }
        create_private(path).map_err(|err| {
            InboxError::caused_by(
                InboxErrorKind::Unavailable,
                format!("{shown}: could not open the file"),
                err,
            )
        })?;
    }
    Ok(())
}

/// Makes the database file and its `-wal` and `-shm` private, once the
/// file is known to be an inbox (another application's database is left
/// as it was).
pub(super) fn make_private(path: &Path, shown: &str) {
    for file in files(path) {
        private(&file, shown);
    }
}

#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        // Another process created it meanwhile: it is made private next.
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other.map(drop),
    }
}

#[cfg(not(unix))]
fn create_private(_: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Takes away what group and others may do with `file`, if it exists;
/// says so in the log. A file that cannot be changed (not ours, a
/// read-only file system) is left as it is, with a warning.
#[cfg(unix)]
fn private(file: &Path, shown: &str) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(metadata) = std::fs::metadata(file) else {
        return;
    };
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return;
    }
    let private = mode & 0o700;
    match std::fs::set_permissions(file, std::fs::Permissions::from_mode(private)) {
        Ok(()) => tracing::warn!(
            file = %file.display(),
            "{shown}: {} was mode {mode:04o}, open to other users; made private (mode {private:04o})",
            file.display()
        ),
        Err(err) => tracing::warn!(
            file = %file.display(),
            error = %err,
            "{shown}: {} is mode {mode:04o}, open to other users, and could not be made private",
            file.display()
        ),
    }
}

#[cfg(not(unix))]
fn private(_: &Path, _: &str) {}

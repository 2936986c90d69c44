//! Small shared helpers: the clock, random ids, reading input files.

use std::io::{Read, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the epoch, now.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Writes one line to stdout. When the reader has gone (a closed pipe),
/// there is no one left to tell anything: the program ends quietly, as a
/// Unix tool killed by SIGPIPE would. Other write errors are ignored.
pub(crate) fn print_line(text: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let written = out
        .write_fmt(text)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    if matches!(written, Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe) {
        std::process::exit(0);
    }
}

/// `n` random bytes from the OS.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], String> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|err| format!("no randomness from the OS: {err}"))?;
    Ok(bytes)
}

/// A random version-4 UUID in its usual text form.
pub(crate) fn uuid4() -> Result<String, String> {
    let mut b = random_bytes::<16>()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = hex::encode(b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

/// A uniform random number in [0, 1).
pub(crate) fn random_unit() -> f64 {
    // A failed OS source only makes jitter predictable: not worth an error.
    let bytes = random_bytes::<8>().unwrap_or_default();
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

/// The raw bytes of `path`, or of stdin when `path` is `-` or absent.
pub(crate) fn read_input(path: Option<&Path>) -> Result<Vec<u8>, String> {
    match path {
        Some(path) if path != Path::new("-") => read_file(path),
        _ => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|err| format!("cannot read stdin: {err}"))?;
            Ok(bytes)
        }
    }
}

/// The raw bytes of `path`, with an error that names it.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|err| format!("cannot read {}: {err}", path.display()))
}

pub(crate) use costkatana_webhooks::testing::iso8601;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_is_version_4() {
        let id = uuid4().unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_ne!(id, uuid4().unwrap());
    }

    #[test]
    fn formats_iso8601() {
        assert_eq!(iso8601(1_777_377_600_000), "2026-04-28T12:00:00.000Z");
    }

    #[test]
    fn unit_is_in_range() {
        assert!((0..100)
            .map(|_| random_unit())
            .all(|x| (0.0..1.0).contains(&x)));
    }
}

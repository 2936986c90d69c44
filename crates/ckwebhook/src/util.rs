//! Small shared helpers: the time, random ids, reading input files.

use std::io::{Read, Write};
use std::path::Path;

use costkatana_webhooks::{Clock, SystemClock};

use crate::error::CliError;

/// Milliseconds since the epoch, now: read from the core's one system clock.
pub(crate) fn now_ms() -> i64 {
    SystemClock.now_ms()
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
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], CliError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|err| CliError::system(format!("no randomness from the OS: {err}")))?;
    Ok(bytes)
}

/// Refuses an empty secret, which would sign or check nothing useful.
pub(crate) fn require_secret(secret: &str) -> Result<(), CliError> {
    if secret.is_empty() {
        return Err(CliError::bad_input("the secret is empty: pass --secret"));
    }
    Ok(())
}

/// A time since the epoch, in seconds or milliseconds, told apart as the
/// sender's headers are: up to 11 digits are seconds (until the year 5138),
/// 12 or more are milliseconds (from March 1973). A unit suffix (`s`,
/// `ms`) makes either explicit. Returns milliseconds.
pub(crate) fn parse_epoch(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let (digits, unit) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, Some(1))
    } else if let Some(secs) = text.strip_suffix('s') {
        (secs, Some(1000))
    } else {
        (text, None)
    };
    let value: i64 = digits
        .parse()
        .ok()
        .filter(|v| *v >= 0 && digits.len() <= 15)
        .ok_or_else(|| {
            format!(
                "{text:?} is not a time: give seconds (10 digits, such as 1796110963) or \
                 milliseconds (13 digits, such as 1796110963000) since the epoch, optionally \
                 with an s or ms suffix"
            )
        })?;
    let per_unit = unit.unwrap_or(if digits.len() <= 11 { 1000 } else { 1 });
    Ok(value.saturating_mul(per_unit))
}

/// A random version-4 UUID in its usual text form.
pub(crate) fn uuid4() -> Result<String, CliError> {
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

/// The raw bytes of `path`, or of stdin when `path` is `-` or absent.
pub(crate) fn read_input(path: Option<&Path>) -> Result<Vec<u8>, CliError> {
    match path {
        Some(path) if path != Path::new("-") => read_file(path),
        _ => {
            let mut bytes = Vec::new();
            std::io::stdin().read_to_end(&mut bytes).map_err(|err| {
                CliError::bad_input(format!("cannot read stdin: {err}")).with_source(err)
            })?;
            Ok(bytes)
        }
    }
}

/// The raw bytes of `path`, with an error that names it.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|err| {
        CliError::bad_input(format!("cannot read {}: {err}", path.display())).with_source(err)
    })
}

pub(crate) use costkatana_webhooks::samples::iso8601;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_in_either_unit() {
        assert_eq!(parse_epoch("1796110963"), Ok(1_796_110_963_000));
        assert_eq!(parse_epoch("1796110963000"), Ok(1_796_110_963_000));
        assert_eq!(parse_epoch("1796110963s"), Ok(1_796_110_963_000));
        assert_eq!(parse_epoch("1796110963000ms"), Ok(1_796_110_963_000));
        assert_eq!(parse_epoch("5ms"), Ok(5));
        for bad in ["yesterday", "-5", "", "1.5", "9999999999999999"] {
            let err = parse_epoch(bad).unwrap_err();
            assert!(
                err.contains("seconds") && err.contains("milliseconds"),
                "{err}"
            );
        }
    }

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
}

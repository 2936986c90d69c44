//! `--json`: the API's objects, pretty-printed, on stdout.

use serde::Serialize;

use crate::error::{CliError, CliResult};

/// Prints `value` as pretty JSON.
pub(super) fn print(value: &impl Serialize) -> CliResult {
    let text = serde_json::to_string_pretty(value)
        .map_err(|err| CliError::system(format!("cannot write JSON: {err}")))?;
    outln!("{text}");
    Ok(())
}

//! Signed 1 KiB deliveries for the load tool, one per line.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use costkatana_webhooks::signing::sign;
use costkatana_webhooks::testing::{sample_event, Shape};
use costkatana_webhooks::{EventType, Scheme};
use serde_json::Value;

/// The size of every generated body, in bytes.
const BODY_BYTES: usize = 1024;

/// Writes `count` deliveries to `path` as `timestamp\tsignature\tbody`,
/// with ids `<prefix><n>`.
pub(crate) fn write(count: usize, path: &str, prefix: &str) -> Result<(), String> {
    let secret = std::env::var("COSTKATANA_WEBHOOK_SECRET")
        .map_err(|_| "COSTKATANA_WEBHOOK_SECRET must be set".to_owned())?;
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_millis();
    let now_ms = i64::try_from(now_ms).map_err(|e| e.to_string())?;
    let file = std::fs::File::create(path).map_err(|e| format!("cannot create {path}: {e}"))?;
    let mut out = std::io::BufWriter::new(file);
    for n in 0..count {
        let body = padded(&format!("{prefix}{n:012}"), now_ms)?;
        let headers = sign(Scheme::Current, &secret, now_ms, body.as_bytes());
        let [(_, timestamp), (_, signature)] = headers.as_slice() else {
            return Err("the current scheme signs with two headers".to_owned());
        };
        writeln!(out, "{timestamp}\t{signature}\t{body}").map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())
}

/// A `cost.alert` sample whose `data.note` pads it to exactly 1 KiB
/// (compact JSON: no tab or newline, so it fits on one line).
fn padded(id: &str, now_ms: i64) -> Result<String, String> {
    let sample = sample_event(&EventType::CostAlert, Shape::Camel, id, now_ms);
    let mut event: Value = serde_json::from_str(&sample).map_err(|e| e.to_string())?;
    let base = {
        event["data"]["note"] = Value::String(String::new());
        event.to_string().len()
    };
    let pad = BODY_BYTES
        .checked_sub(base)
        .ok_or("the sample event is already over 1 KiB")?;
    event["data"]["note"] = Value::String("x".repeat(pad));
    let body = event.to_string();
    debug_assert_eq!(body.len(), BODY_BYTES);
    Ok(body)
}

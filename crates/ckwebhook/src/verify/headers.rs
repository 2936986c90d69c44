//! What the signature headers say, read leniently for explanations (the
//! core verifier gives the verdict; this says why).

use costkatana_webhooks::Scheme;

/// The scheme, timestamp and candidate signatures found in the headers.
#[derive(Debug)]
pub(crate) struct Found {
    pub(crate) scheme: Scheme,
    /// Why the headers look like this scheme.
    pub(crate) because: &'static str,
    /// The timestamp text as signed, when present.
    pub(crate) timestamp: Option<String>,
    /// Candidate signatures, lowercase hex.
    pub(crate) signatures: Vec<String>,
}

impl Found {
    /// The timestamp in ms, when it is a number.
    pub(crate) fn timestamp_ms(&self) -> Option<i64> {
        let value: i64 = self.timestamp.as_deref()?.parse().ok()?;
        value.checked_mul(self.scheme.ms_per_timestamp_unit())
    }
}

fn get<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

/// The scheme detected as the core detects it, or `None` with no signature header.
pub(crate) fn find(headers: &[(String, String)]) -> Option<Found> {
    if let Some(signature) = get(headers, "x-webhook-signature") {
        return Some(Found {
            scheme: Scheme::Current,
            because:
                "X-Webhook-Signature is present (timestamp in X-Webhook-Timestamp, milliseconds)",
            timestamp: get(headers, "x-webhook-timestamp").map(str::to_owned),
            signatures: vec![signature.to_ascii_lowercase()],
        });
    }
    let signature = get(headers, "x-costkatana-signature")?;
    let bare = signature.strip_prefix("sha256=");
    if bare.is_some() || (signature.len() == 64 && signature.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Some(Found {
            scheme: Scheme::Legacy,
            because: "X-CostKatana-Signature holds sha256=<hex> or bare hex (timestamp in X-CostKatana-Timestamp, milliseconds)",
            timestamp: get(headers, "x-costkatana-timestamp").map(str::to_owned),
            signatures: vec![bare.unwrap_or(signature).trim().to_ascii_lowercase()],
        });
    }
    let mut found = Found {
        scheme: Scheme::Documented,
        because: "X-CostKatana-Signature holds t=<seconds>,v1=<hex>",
        timestamp: None,
        signatures: Vec::new(),
    };
    for pair in signature.split(',') {
        match pair.trim().split_once('=') {
            Some(("t", value)) => found.timestamp = Some(value.trim().to_owned()),
            Some(("v1", value)) => found.signatures.push(value.trim().to_ascii_lowercase()),
            _ => {}
        }
    }
    Some(found)
}

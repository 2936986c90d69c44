//! The request the sender makes of an event for one webhook: its headers
//! in the sender's order and signed once (PROTOCOL.md §1, `current`).

use std::sync::Arc;

use costkatana_webhooks::signing::{sign, SENDER_HEADERS};
use costkatana_webhooks::Scheme;

use super::delivery::StoredRequest;
use super::webhook::Webhook;

/// `body` for `webhook`, signed at `now_ms`: the sender's constant headers,
/// then the webhook's custom headers, then its auth header, then the
/// timestamp and the signature (each one replacing a header of the same
/// name set before it). Returns the request and its signature.
pub(crate) fn signed_request(
    webhook: &Webhook,
    body: String,
    now_ms: i64,
) -> (Arc<StoredRequest>, String) {
    let mut headers: Vec<(String, String)> = SENDER_HEADERS
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    for (name, value) in webhook.headers.iter().flatten() {
        set(&mut headers, name, value);
    }
    if let Some((name, value)) = webhook.auth.as_ref().and_then(super::webhook::Auth::header) {
        set(&mut headers, &name, &value);
    }
    let signed = sign(Scheme::Current, &webhook.secret, now_ms, body.as_bytes());
    let mut signature = String::new();
    for (name, value) in &signed {
        set(&mut headers, name, value);
        if name.eq_ignore_ascii_case("x-webhook-signature") {
            signature.clone_from(value);
        }
    }
    let request = StoredRequest {
        url: webhook.url.clone(),
        headers,
        body,
        timestamp: now_ms,
    };
    (Arc::new(request), signature)
}

/// Sets `name` to `value`, replacing a header of that name in any case.
fn set(headers: &mut Vec<(String, String)>, name: &str, value: &str) {
    match headers
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
    {
        Some(existing) => *existing = (name.to_owned(), value.to_owned()),
        None => headers.push((name.to_owned(), value.to_owned())),
    }
}

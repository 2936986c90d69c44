//! Signing requests as Cost Katana does, under any of the three schemes:
//! for tests of your own receiver, and for tools (such as `ckwebhook`)
//! that send deliveries.
//!
//! ```
//! use costkatana_webhooks::signing::sign;
//! use costkatana_webhooks::{Scheme, Verifier};
//!
//! let now_ms = 1_777_377_600_000;
//! let body = br#"{"eventId":"evt_1","eventType":"budget.exceeded"}"#;
//! let headers = sign(Scheme::Current, "s3cret", now_ms, body);
//!
//! let verifier = Verifier::builder().secret("s3cret").build()?;
//! assert!(verifier.verify_at(&headers, &body[..], now_ms).is_ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::{mac, Scheme};

/// The constant headers the live sender adds to every delivery.
pub const SENDER_HEADERS: [(&str, &str); 3] = [
    ("Content-Type", "application/json"),
    ("User-Agent", "CostKatana-Webhook/1.0"),
    ("X-Webhook-Event-Type", "webhook-delivery"),
];

/// The signature headers for `body` under `scheme`, signed with `secret` at
/// `timestamp_ms` (documented timestamps are whole seconds, rounded down).
///
/// `legacy` uses the `sha256=<hex>` form.
///
/// ```
/// use costkatana_webhooks::{signing::sign, Scheme};
///
/// let headers = sign(Scheme::Documented, "whsec_test_secret", 1_705_320_600_000,
///     br#"{"event_type":"cost.alert","data":{"amount":100}}"#);
/// assert_eq!(headers, [("X-CostKatana-Signature".to_string(),
///     "t=1705320600,v1=8e7a9a20aa184accf213305d7c9527ee23b7719acf0048d4eba31bf3e0e51008".to_string())]);
/// ```
pub fn sign(scheme: Scheme, secret: &str, timestamp_ms: i64, body: &[u8]) -> Vec<(String, String)> {
    sign_keyed(scheme, &mac::keyed(secret.as_bytes()), timestamp_ms, body)
}

/// [`sign`] with a key already absorbed: the testing kit signs with a
/// receiver's own secret without ever holding its text.
pub(crate) fn sign_keyed(
    scheme: Scheme,
    keyed: &mac::Keyed,
    timestamp_ms: i64,
    body: &[u8],
) -> Vec<(String, String)> {
    let timestamp = match scheme {
        Scheme::Documented => timestamp_ms.div_euclid(1000).to_string(),
        _ => timestamp_ms.to_string(),
    };
    let hex = hex::encode(mac::tag(keyed, &timestamp, body));
    let mut headers = Vec::with_capacity(2);
    match scheme {
        Scheme::Current => {
            headers.push(("X-Webhook-Timestamp".to_owned(), timestamp));
            headers.push(("X-Webhook-Signature".to_owned(), hex));
        }
        Scheme::Legacy => {
            headers.push(("X-CostKatana-Timestamp".to_owned(), timestamp));
            headers.push(("X-CostKatana-Signature".to_owned(), format!("sha256={hex}")));
        }
        Scheme::Documented => {
            headers.push((
                "X-CostKatana-Signature".to_owned(),
                format!("t={timestamp},v1={hex}"),
            ));
        }
    }
    headers
}

/// The lowercase hex HMAC-SHA256 of `timestamp` + `.` + `body` keyed by the
/// UTF-8 bytes of `secret`: the building block for hand-made headers.
///
/// ```
/// use costkatana_webhooks::signing::signature_hex;
/// assert_eq!(signature_hex("whsec_test_secret", "1705320600",
///     br#"{"event_type":"cost.alert","data":{"amount":100}}"#),
///     "8e7a9a20aa184accf213305d7c9527ee23b7719acf0048d4eba31bf3e0e51008");
/// ```
pub fn signature_hex(secret: &str, timestamp: &str, body: &[u8]) -> String {
    hex::encode(mac::tag(&mac::keyed(secret.as_bytes()), timestamp, body))
}

//! HMAC-SHA256 over `<timestamp>.<body>`, shared by the verifier and the signer.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::signed_headers::Tag;

/// The tag of `timestamp` + `.` + `body` under `key`, computed without
/// copying the body.
pub(crate) fn tag(key: &[u8], timestamp: &str, body: &[u8]) -> Tag {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

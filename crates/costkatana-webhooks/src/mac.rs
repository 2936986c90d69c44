//! HMAC-SHA256 over `<timestamp>.<body>`, shared by the verifier and the signer.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::signed_headers::Tag;

/// HMAC-SHA256 with its key already absorbed: the inner and outer SHA-256
/// states after the padded key. Keying costs two compressions, so a
/// verifier keys each secret once and clones this per request.
pub(crate) type Keyed = Hmac<Sha256>;

/// `key`, absorbed.
pub(crate) fn keyed(key: &[u8]) -> Keyed {
    // HMAC accepts keys of any length, so this cannot fail.
    Keyed::new_from_slice(key).unwrap_or_else(|_| unreachable!())
}

/// The tag of `timestamp` + `.` + `body` under `keyed`, computed without
/// copying the body.
pub(crate) fn tag(keyed: &Keyed, timestamp: &str, body: &[u8]) -> Tag {
    let mut mac = keyed.clone();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

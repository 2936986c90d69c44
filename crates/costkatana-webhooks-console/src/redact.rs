//! What a page may show of a stored value that can be a credential.

use costkatana_webhooks::dedupe::DedupeKey;

/// The dedupe key as shown: an event id key (`<n>:<namespace>:event:<id>`,
/// the core's format) whole; a key that is a delivery's signature
/// (`…:signature:<hex>`) with the signature redacted; any other shape
/// redacted whole, since the console cannot tell what it holds.
pub(crate) fn shown_key(key: &str) -> String {
    match DedupeKey::parse(key) {
        Some(parts) if parts.kind == DedupeKey::EVENT => key.to_owned(),
        Some(parts) => parts.redacted(),
        None => "[redacted]".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_key_is_redacted_and_an_event_key_is_not() {
        let hex = "9f".repeat(32);
        assert_eq!(
            shown_key(&format!("7:tenant1:signature:{hex}")),
            "7:tenant1:signature:[redacted]"
        );
        // A namespace holding colons and the word itself is read by length.
        assert_eq!(
            shown_key(&format!("13:a:signature:b:signature:{hex}")),
            "13:a:signature:b:signature:[redacted]"
        );
        assert_eq!(
            shown_key("7:tenant1:event:evt_signature:1"),
            "7:tenant1:event:evt_signature:1"
        );
        assert_eq!(shown_key("not:a:core:key"), "[redacted]");
    }
}

//! The ids in a route's path: 24 hex characters, or a validation error
//! naming the parameter.

use super::{Checker, Issue};
use crate::model::id::Id;

/// The webhook id of `/api/webhooks/:id…`.
pub(crate) fn webhook_id(text: &str) -> Result<Id, Vec<Issue>> {
    id(text, "id", "Invalid webhook ID format")
}

/// The delivery id of `/api/webhooks/deliveries/:deliveryId…`.
pub(crate) fn delivery_id(text: &str) -> Result<Id, Vec<Issue>> {
    id(text, "deliveryId", "Invalid delivery ID format")
}

fn id(text: &str, field: &str, message: &str) -> Result<Id, Vec<Issue>> {
    Id::parse(text).ok_or_else(|| {
        let mut checker = Checker::default();
        checker.push(field, message, "invalid_string");
        checker.finish(()).unwrap_err()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_24_hex_characters() {
        assert!(webhook_id("65f0c0ffee0000000000beef").is_ok());
        assert!(webhook_id("65F0C0FFEE0000000000BEEF").is_ok());
        let issues = webhook_id("123").unwrap_err();
        assert_eq!(issues[0].field, "id");
        assert_eq!(issues[0].message, "Invalid webhook ID format");
        assert_eq!(issues[0].code, "invalid_string");
        let issues = delivery_id("65f0c0ffee0000000000beeg").unwrap_err();
        assert_eq!(issues[0].field, "deliveryId");
    }
}

//! Record ids: 24 hex characters, made as the live service's MongoDB makes
//! its ObjectIds (seconds since the epoch, a number drawn once per
//! sandbox, a counter), so that clients see ids of the same form.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

/// A webhook's or a delivery's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Id([u8; 12]);

impl Id {
    /// Reads 24 hex characters, in either case (as the live service's
    /// route check and ObjectId parser both do); anything else is `None`.
    pub(crate) fn parse(text: &str) -> Option<Id> {
        if text.len() != 24 {
            return None;
        }
        let mut bytes = [0u8; 12];
        ::hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(Id(bytes))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&::hex::encode(self.0))
    }
}

/// Makes ids, each different from the last.
#[derive(Debug)]
pub(crate) struct IdMaker {
    random: [u8; 5],
    counter: AtomicU32,
}

impl IdMaker {
    /// A maker whose ids differ from another sandbox's by `random`.
    pub(crate) fn new(random: [u8; 5], counter_start: u32) -> IdMaker {
        IdMaker {
            random,
            counter: AtomicU32::new(counter_start),
        }
    }

    /// A new id made at `now_ms`.
    pub(crate) fn next(&self, now_ms: i64) -> Id {
        let secs = u32::try_from(now_ms.div_euclid(1000).clamp(0, i64::from(u32::MAX)))
            .unwrap_or(u32::MAX);
        let count = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut bytes = [0u8; 12];
        bytes[..4].copy_from_slice(&secs.to_be_bytes());
        bytes[4..9].copy_from_slice(&self.random);
        bytes[9..].copy_from_slice(&count.to_be_bytes()[1..]);
        Id(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_24_hex_characters_and_parse_back_in_any_case() {
        let maker = IdMaker::new([1, 2, 3, 4, 5], 0xfffffe);
        let a = maker.next(1_777_377_600_000);
        let b = maker.next(1_777_377_600_000);
        assert_ne!(a, b);
        let text = a.to_string();
        assert_eq!(text.len(), 24);
        assert!(text.starts_with("69f0a140"), "{text}");
        assert_eq!(Id::parse(&text), Some(a));
        assert_eq!(Id::parse(&text.to_uppercase()), Some(a));
        assert_eq!(Id::parse("not-an-id-not-an-id-1234"), None);
        assert_eq!(Id::parse(&text[1..]), None);
        assert_eq!(Id::parse("é".repeat(12).as_str()), None);
    }
}

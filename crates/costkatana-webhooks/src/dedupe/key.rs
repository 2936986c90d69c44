//! The keys a receiver claims, in one place: how they are written, and
//! how tools that show stored keys (the CLI, the console) read them back.

/// A dedupe key's parts: `<namespace length>:<namespace>:<kind>:<value>`.
/// With the length first, no namespace and value pair can spell another
/// pair's key, and a namespace may hold colons.
///
/// ```
/// use costkatana_webhooks::dedupe::DedupeKey;
///
/// let key = DedupeKey::parse("7:tenant1:event:evt_1").unwrap();
/// assert_eq!((key.namespace, key.kind, key.value), ("tenant1", DedupeKey::EVENT, "evt_1"));
/// assert_eq!(key.to_string(), "7:tenant1:event:evt_1");
/// assert_eq!(key.redacted(), "7:tenant1:event:[redacted]");
/// assert_eq!(DedupeKey::parse("not a key"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DedupeKey<'a> {
    /// The receiver's namespace (by default derived from the secret).
    pub namespace: &'a str,
    /// What the value is: [`DedupeKey::EVENT`] or [`DedupeKey::SIGNATURE`].
    pub kind: &'a str,
    /// The event id, or the delivery's signature in hex.
    pub value: &'a str,
}

impl<'a> DedupeKey<'a> {
    /// The kind of a key whose value is the body's event id.
    pub const EVENT: &'static str = "event";
    /// The kind of a key whose value is the delivery's signature (a body
    /// with no event id): a value to keep off screens and out of logs.
    pub const SIGNATURE: &'static str = "signature";

    /// The parts of `key`, if it has the receiver's shape.
    ///
    /// ```
    /// use costkatana_webhooks::dedupe::DedupeKey;
    ///
    /// // A namespace holding colons and the kind's own word is read by length.
    /// let key = DedupeKey::parse("13:a:signature:b:signature:9f").unwrap();
    /// assert_eq!((key.namespace, key.kind, key.value), ("a:signature:b", "signature", "9f"));
    /// ```
    pub fn parse(key: &'a str) -> Option<DedupeKey<'a>> {
        let (length, rest) = key.split_once(':')?;
        let length: usize = length.parse().ok()?;
        let namespace = rest.get(..length)?;
        let (kind, value) = rest.get(length..)?.strip_prefix(':')?.split_once(':')?;
        Some(DedupeKey {
            namespace,
            kind,
            value,
        })
    }

    /// The key with its value replaced by `[redacted]`.
    ///
    /// ```
    /// use costkatana_webhooks::dedupe::DedupeKey;
    ///
    /// let key = DedupeKey { namespace: "ns", kind: DedupeKey::SIGNATURE, value: "9f9f" };
    /// assert_eq!(key.redacted(), "2:ns:signature:[redacted]");
    /// ```
    pub fn redacted(&self) -> String {
        DedupeKey {
            value: "[redacted]",
            ..*self
        }
        .to_string()
    }
}

impl std::fmt::Display for DedupeKey<'_> {
    /// The key as stored.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}:{}",
            self.namespace.len(),
            self.namespace,
            self.kind,
            self.value
        )
    }
}

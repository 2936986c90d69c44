//! Why a signature does not match: which common mistake, made by the signer
//! or by whoever handled the request since, would make it match.
//!
//! A signer and a receiver that disagree by one byte compute unrelated
//! signatures, so a mismatch alone says nothing. This module signs the
//! request again under each mistake seen in practice (a re-serialised body,
//! a trailing newline added or removed, a secret trimmed, decoded or with its
//! `whsec_` prefix stripped or added, the timestamp left out of the signed
//! text) and names those under which a signature in the headers matches.
//! It also reads the signature headers leniently, to say what they look like
//! (and whether a millisecond timestamp is really in seconds) even when the
//! [`Verifier`](crate::Verifier) refuses them. It gives explanations, never a
//! verdict: the verifier decides.
//!
//! ```
//! use costkatana_webhooks::diagnose::{Mistake, SignatureHeaders};
//! use costkatana_webhooks::signing::sign;
//! use costkatana_webhooks::Scheme;
//!
//! // Signed over the body plus the newline an editor added; received without it.
//! let body = br#"{"eventId":"evt_1","eventType":"cost.alert"}"#;
//! let signed = [&body[..], b"\n"].concat();
//! let headers = sign(Scheme::Current, "s3cret", 1_777_377_600_000, &signed);
//!
//! let found = SignatureHeaders::read(&headers).expect("a signature header");
//! assert!(!found.matches("s3cret", body));
//! assert_eq!(found.mistakes("s3cret", body), [Mistake::TrailingNewlineAdded]);
//! println!("would match with {}: {}", Mistake::TrailingNewlineAdded, Mistake::TrailingNewlineAdded.advice());
//! ```

use std::fmt;

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::scheme::names;
use crate::{Headers, Scheme};

/// What the signature headers of a request say, read leniently: the scheme
/// they look like, the timestamp text and the candidate signatures.
///
/// Unlike the verifier, the reader accepts what it cannot verify (a missing
/// timestamp, a `t=` without `v1=`, a value that is not a number), so that
/// each part can be explained on its own. The scheme is detected as the
/// verifier detects it.
///
/// ```
/// use costkatana_webhooks::diagnose::SignatureHeaders;
/// use costkatana_webhooks::Scheme;
///
/// let headers = [("X-CostKatana-Signature", "t=1705320600, v1=AB12")];
/// let found = SignatureHeaders::read(&headers).unwrap();
/// assert_eq!(found.scheme(), Scheme::Documented);
/// assert_eq!(found.timestamp(), Some("1705320600"));
/// assert_eq!(found.timestamp_ms(), Some(1_705_320_600_000));
/// assert_eq!(found.signatures(), ["ab12"]);
/// assert_eq!(SignatureHeaders::read(&[("Content-Type", "application/json")]), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeaders {
    scheme: Scheme,
    reason: &'static str,
    timestamp: Option<String>,
    signatures: Vec<String>,
}

impl SignatureHeaders {
    /// The signature headers of `headers`, or `None` when there is neither
    /// an `X-Webhook-Signature` nor an `X-CostKatana-Signature` header.
    /// Values are trimmed; signatures are lowercased.
    ///
    /// ```
    /// use costkatana_webhooks::diagnose::SignatureHeaders;
    /// use costkatana_webhooks::Scheme;
    ///
    /// let legacy = [("X-CostKatana-Timestamp", "1777377600000"), ("X-CostKatana-Signature", "sha256=00ff")];
    /// let found = SignatureHeaders::read(&legacy).unwrap();
    /// assert_eq!((found.scheme(), found.signatures()), (Scheme::Legacy, &["00ff".to_string()][..]));
    /// ```
    pub fn read(headers: &(impl Headers + ?Sized)) -> Option<SignatureHeaders> {
        if let Some(signature) = text(headers, names::WEBHOOK_SIGNATURE) {
            return Some(SignatureHeaders {
                scheme: Scheme::Current,
                reason:
                    "X-Webhook-Signature is present (timestamp in X-Webhook-Timestamp, milliseconds)",
                timestamp: text(headers, names::WEBHOOK_TIMESTAMP),
                signatures: vec![signature.to_ascii_lowercase()],
            });
        }
        let signature = text(headers, names::COSTKATANA_SIGNATURE)?;
        let bare = signature.strip_prefix("sha256=");
        let bare_hex = signature.len() == 64 && signature.bytes().all(|b| b.is_ascii_hexdigit());
        if bare.is_some() || bare_hex {
            return Some(SignatureHeaders {
                scheme: Scheme::Legacy,
                reason: "X-CostKatana-Signature holds sha256=<hex> or bare hex (timestamp in \
                    X-CostKatana-Timestamp, milliseconds)",
                timestamp: text(headers, names::COSTKATANA_TIMESTAMP),
                signatures: vec![bare.unwrap_or(&signature).trim().to_ascii_lowercase()],
            });
        }
        let mut found = SignatureHeaders {
            scheme: Scheme::Documented,
            reason: "X-CostKatana-Signature holds t=<seconds>,v1=<hex>",
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

    /// The scheme the headers look like.
    ///
    /// ```
    /// # use costkatana_webhooks::{diagnose::SignatureHeaders, Scheme};
    /// let found = SignatureHeaders::read(&[("x-webhook-signature", "00")]).unwrap();
    /// assert_eq!(found.scheme(), Scheme::Current);
    /// ```
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Why the headers look like [`scheme`](Self::scheme), in a sentence.
    ///
    /// ```
    /// # use costkatana_webhooks::diagnose::SignatureHeaders;
    /// let found = SignatureHeaders::read(&[("x-webhook-signature", "00")]).unwrap();
    /// assert!(found.reason().starts_with("X-Webhook-Signature is present"));
    /// ```
    pub fn reason(&self) -> &'static str {
        self.reason
    }

    /// The timestamp text exactly as it would be signed, when there is one.
    ///
    /// ```
    /// # use costkatana_webhooks::diagnose::SignatureHeaders;
    /// let found = SignatureHeaders::read(&[("x-webhook-signature", "00")]).unwrap();
    /// assert_eq!(found.timestamp(), None);
    /// ```
    pub fn timestamp(&self) -> Option<&str> {
        self.timestamp.as_deref()
    }

    /// The timestamp in milliseconds since the epoch, in the scheme's unit,
    /// when it is a whole number.
    ///
    /// ```
    /// # use costkatana_webhooks::diagnose::SignatureHeaders;
    /// let headers = [("X-Webhook-Timestamp", "soon"), ("X-Webhook-Signature", "00")];
    /// assert_eq!(SignatureHeaders::read(&headers).unwrap().timestamp_ms(), None);
    /// ```
    pub fn timestamp_ms(&self) -> Option<i64> {
        let value: i64 = self.timestamp.as_deref()?.parse().ok()?;
        value.checked_mul(self.scheme.ms_per_timestamp_unit())
    }

    /// The candidate signatures, lowercase (empty for a documented header
    /// without `v1=`).
    ///
    /// ```
    /// # use costkatana_webhooks::diagnose::SignatureHeaders;
    /// let found = SignatureHeaders::read(&[("X-CostKatana-Signature", "t=1")]).unwrap();
    /// assert!(found.signatures().is_empty());
    /// ```
    pub fn signatures(&self) -> &[String] {
        &self.signatures
    }

    /// Whether the timestamp, in a scheme that counts milliseconds, is
    /// really in seconds: read as seconds, it falls within a day of `at_ms`.
    /// A sender with the wrong unit, not a tolerance too small.
    ///
    /// ```
    /// # use costkatana_webhooks::diagnose::SignatureHeaders;
    /// let now_ms = 1_777_377_600_000;
    /// let seconds = [("X-Webhook-Timestamp", "1777377600"), ("X-Webhook-Signature", "00")];
    /// assert!(SignatureHeaders::read(&seconds).unwrap().timestamp_in_seconds(now_ms));
    /// let millis = [("X-Webhook-Timestamp", "1777377600000"), ("X-Webhook-Signature", "00")];
    /// assert!(!SignatureHeaders::read(&millis).unwrap().timestamp_in_seconds(now_ms));
    /// ```
    pub fn timestamp_in_seconds(&self, at_ms: i64) -> bool {
        const DAY_MS: i64 = 86_400_000;
        match self.timestamp_ms() {
            Some(ts_ms) if self.scheme.ms_per_timestamp_unit() == 1 => {
                ts_ms
                    .saturating_mul(1000)
                    .saturating_sub(at_ms)
                    .saturating_abs()
                    < DAY_MS
            }
            _ => false,
        }
    }

    /// Whether a signature matches `secret` over `timestamp.body`, the raw
    /// bytes as given (false without a timestamp).
    ///
    /// ```
    /// use costkatana_webhooks::diagnose::SignatureHeaders;
    /// use costkatana_webhooks::{signing::sign, Scheme};
    ///
    /// let headers = sign(Scheme::Legacy, "s3cret", 1_777_377_600_000, b"{}");
    /// let found = SignatureHeaders::read(&headers).unwrap();
    /// assert!(found.matches("s3cret", b"{}"));
    /// assert!(!found.matches("another", b"{}"));
    /// ```
    pub fn matches(&self, secret: &str, body: &[u8]) -> bool {
        self.timestamp.as_deref().is_some_and(|timestamp| {
            let expected = hmac_hex(secret.as_bytes(), Some(timestamp), body);
            self.signatures.contains(&expected)
        })
    }

    /// The mistakes under which a signature would match `secret` and
    /// `body` (see [`find_mistakes`]); none without a timestamp.
    ///
    /// ```
    /// use costkatana_webhooks::diagnose::{Mistake, SignatureHeaders};
    /// use costkatana_webhooks::{signing::sign, Scheme};
    ///
    /// let headers = sign(Scheme::Current, "whsec_s3cret", 1_777_377_600_000, b"{}");
    /// let found = SignatureHeaders::read(&headers).unwrap();
    /// assert_eq!(found.mistakes("s3cret", b"{}"), [Mistake::SecretPrefixAdded]);
    /// ```
    pub fn mistakes(&self, secret: &str, body: &[u8]) -> Vec<Mistake> {
        match self.timestamp.as_deref() {
            Some(timestamp) => find_mistakes(secret, timestamp, body, &self.signatures),
            None => Vec::new(),
        }
    }
}

/// A header's value as text, trimmed; invalid UTF-8 is replaced, since an
/// explanation of odd bytes beats none.
fn text(headers: &(impl Headers + ?Sized), name: &str) -> Option<String> {
    let value = headers.header(name)?;
    Some(String::from_utf8_lossy(value).trim().to_owned())
}

/// A common mistake that explains a signature mismatch: the signer (or
/// whoever handled the request) did this, and the receiver did not.
///
/// The [`Display`](fmt::Display) text is [`what`](Mistake::what).
///
/// ```
/// use costkatana_webhooks::diagnose::Mistake;
///
/// assert_eq!(Mistake::SecretHexDecoded.to_string(), "the secret hex-decoded");
/// assert!(Mistake::SecretHexDecoded.advice().contains("never decoded"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mistake {
    /// The signed body ended with a newline the received body lacks.
    TrailingNewlineAdded,
    /// The received body ends with a newline that was not signed.
    TrailingNewlineRemoved,
    /// The body was signed with its whitespace removed, keys and numbers
    /// kept as written (`JSON.stringify(JSON.parse(body))`).
    CompactJson,
    /// The body was signed pretty-printed with a 2-space indent, keys and
    /// numbers kept.
    PrettyJsonTwoSpaces,
    /// The body was signed pretty-printed with a 4-space indent, keys and
    /// numbers kept.
    PrettyJsonFourSpaces,
    /// The body was parsed and re-serialised compact (keys sorted, numbers
    /// normalised, as a typical JSON library does).
    ReparsedCompactJson,
    /// The body was parsed and re-serialised pretty (keys sorted, numbers
    /// normalised).
    ReparsedPrettyJson,
    /// The body alone was signed, without the `<timestamp>.` prefix.
    BodyWithoutTimestamp,
    /// The receiver's secret has surrounding whitespace the signer did not use.
    SecretWhitespace,
    /// The signer's secret had trailing whitespace (a newline, CRLF or a
    /// space) that the receiver's lacks.
    SenderSecretWhitespace,
    /// The signer used the secret without its `whsec_` prefix.
    SecretPrefixStripped,
    /// The signer used the secret with a `whsec_` prefix the receiver left out.
    SecretPrefixAdded,
    /// The signer keyed the HMAC with the hex-decoded secret.
    SecretHexDecoded,
    /// The signer keyed the HMAC with the base64-decoded secret.
    SecretBase64Decoded,
}

const RESERIALISED: &str = "the signature was computed over a re-serialised copy of the body, \
    not the bytes received (or the body was re-formatted after signing): sign and verify the raw \
    bytes exactly as sent, never JSON.stringify(parsed) or a framework's parsed body";

impl Mistake {
    /// What was done, as a phrase: "would match with *what*".
    ///
    /// ```
    /// # use costkatana_webhooks::diagnose::Mistake;
    /// assert_eq!(Mistake::TrailingNewlineRemoved.what(), "the trailing newline removed from the body");
    /// ```
    pub fn what(self) -> &'static str {
        match self {
            Mistake::TrailingNewlineAdded => "a trailing newline added to the body",
            Mistake::TrailingNewlineRemoved => "the trailing newline removed from the body",
            Mistake::CompactJson => "the body re-serialised as compact JSON",
            Mistake::PrettyJsonTwoSpaces => "the body re-serialised as pretty JSON (2-space indent)",
            Mistake::PrettyJsonFourSpaces => {
                "the body re-serialised as pretty JSON (4-space indent)"
            }
            Mistake::ReparsedCompactJson => {
                "the body parsed and re-serialised as compact JSON (keys sorted, numbers normalised)"
            }
            Mistake::ReparsedPrettyJson => {
                "the body parsed and re-serialised as pretty JSON (keys sorted, numbers normalised)"
            }
            Mistake::BodyWithoutTimestamp => "the body signed without the `<timestamp>.` prefix",
            Mistake::SecretWhitespace => "the secret trimmed of surrounding whitespace",
            Mistake::SenderSecretWhitespace => {
                "a trailing newline or space added to the secret (by the signer)"
            }
            Mistake::SecretPrefixStripped => "the whsec_ prefix stripped from the secret",
            Mistake::SecretPrefixAdded => "a whsec_ prefix added to the secret",
            Mistake::SecretHexDecoded => "the secret hex-decoded",
            Mistake::SecretBase64Decoded => "the secret base64-decoded",
        }
    }

    /// What happened and how to fix it, in a sentence or two.
    ///
    /// ```
    /// # use costkatana_webhooks::diagnose::Mistake;
    /// assert!(Mistake::CompactJson.advice().contains("raw bytes"));
    /// ```
    pub fn advice(self) -> &'static str {
        match self {
            Mistake::TrailingNewlineAdded => {
                "the signed body ended with a newline the received \
                body lacks (an editor or `echo` adds one): sign the exact bytes sent"
            }
            Mistake::TrailingNewlineRemoved => {
                "the body received ends with a newline that was \
                not signed (a captured file often gains one): compare the exact bytes sent"
            }
            Mistake::CompactJson
            | Mistake::PrettyJsonTwoSpaces
            | Mistake::PrettyJsonFourSpaces
            | Mistake::ReparsedCompactJson
            | Mistake::ReparsedPrettyJson => RESERIALISED,
            Mistake::BodyWithoutTimestamp => {
                "the signature covers the body alone: Cost Katana \
                signs `<timestamp>.<raw body>`"
            }
            Mistake::SecretWhitespace => {
                "the secret you passed has leading/trailing whitespace \
                (a newline from a file or .env?) that the signer did not use: trim yours"
            }
            Mistake::SenderSecretWhitespace => {
                "the signer's copy of the secret ends with whitespace (a newline from a file or \
                .env?) that yours lacks: trim the secret where the sender's is configured"
            }
            Mistake::SecretPrefixStripped => {
                "the signer used the secret without its whsec_ \
                prefix; Cost Katana keys HMAC with the whole secret text, prefix included"
            }
            Mistake::SecretPrefixAdded => {
                "the signer used the secret with a whsec_ prefix that \
                you left out: pass the whole secret text"
            }
            Mistake::SecretHexDecoded => {
                "the signer used the hex-decoded bytes of the secret as the key; Cost Katana keys \
                HMAC with the secret's UTF-8 text, never decoded"
            }
            Mistake::SecretBase64Decoded => {
                "the signer used the base64-decoded bytes of the secret as the key; Cost Katana \
                keys HMAC with the secret's UTF-8 text, never decoded"
            }
        }
    }
}

impl fmt::Display for Mistake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.what())
    }
}

/// The mistakes under which one of `signatures` (hex, any case) would match
/// `secret` over `timestamp.body`, most specific first, each at most once.
///
/// Each mistake is undone on the secret or on the body, signed and compared.
/// When two mistakes lead to the same bytes (a minified body that only lost
/// a trailing newline), only the more specific one is named. An empty list
/// means no common mistake explains the mismatch: a wrong secret, or a body
/// changed in some other way.
///
/// ```
/// use costkatana_webhooks::diagnose::{find_mistakes, Mistake};
/// use costkatana_webhooks::signing::signature_hex;
///
/// // Signed over JSON.stringify(JSON.parse(body)); received as written by hand.
/// let received = br#"{ "eventId": "evt_1", "amount": 125.50 }"#;
/// let signature = signature_hex("s3cret", "1777377600000", br#"{"eventId":"evt_1","amount":125.50}"#);
/// let found = find_mistakes("s3cret", "1777377600000", received, &[signature]);
/// assert_eq!(found, [Mistake::CompactJson]);
/// assert!(find_mistakes("another", "1777377600000", received, &["00"]).is_empty());
/// ```
pub fn find_mistakes(
    secret: &str,
    timestamp: &str,
    body: &[u8],
    signatures: &[impl AsRef<str>],
) -> Vec<Mistake> {
    let mut found = Vec::new();
    let mut tried: Vec<Candidate> = Vec::new();
    for candidate in body_candidates(secret, body)
        .into_iter()
        .chain(secret_candidates(secret, body))
    {
        // The first (most specific) explanation of identical bytes wins.
        if tried.iter().any(|seen| seen.signs_like(&candidate)) {
            continue;
        }
        let expected = hmac_hex(
            &candidate.key,
            candidate.with_timestamp.then_some(timestamp),
            &candidate.body,
        );
        let matched = signatures
            .iter()
            .any(|signature| signature.as_ref().eq_ignore_ascii_case(&expected));
        if matched && !found.contains(&candidate.mistake) {
            found.push(candidate.mistake);
        }
        tried.push(candidate);
    }
    found
}

/// One mistake undone: the key and the body it leads to.
struct Candidate {
    mistake: Mistake,
    key: Vec<u8>,
    body: Vec<u8>,
    with_timestamp: bool,
}

impl Candidate {
    fn signs_like(&self, other: &Candidate) -> bool {
        self.key == other.key
            && self.body == other.body
            && self.with_timestamp == other.with_timestamp
    }
}

fn body_candidates(secret: &str, body: &[u8]) -> Vec<Candidate> {
    let mut bodies = vec![(Mistake::TrailingNewlineAdded, [body, b"\n"].concat())];
    if let Some(trimmed) = body
        .strip_suffix(b"\r\n")
        .or_else(|| body.strip_suffix(b"\n"))
    {
        bodies.push((Mistake::TrailingNewlineRemoved, trimmed.to_vec()));
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        let compact = minify(body);
        let pretty = [prettify(&compact, 2), prettify(&compact, 4)];
        bodies.push((Mistake::CompactJson, compact));
        let [two, four] = pretty;
        bodies.push((Mistake::PrettyJsonTwoSpaces, two));
        bodies.push((Mistake::PrettyJsonFourSpaces, four));
        if let Ok(reparsed) = serde_json::to_vec(&value) {
            bodies.push((Mistake::ReparsedCompactJson, reparsed));
        }
        if let Ok(reparsed) = serde_json::to_vec_pretty(&value) {
            bodies.push((Mistake::ReparsedPrettyJson, reparsed));
        }
    }
    let key = secret.as_bytes();
    let mut candidates: Vec<Candidate> = bodies
        .into_iter()
        .filter(|(_, changed)| changed != body)
        .map(|(mistake, changed)| Candidate {
            mistake,
            key: key.to_vec(),
            body: changed,
            with_timestamp: true,
        })
        .collect();
    candidates.push(Candidate {
        mistake: Mistake::BodyWithoutTimestamp,
        key: key.to_vec(),
        body: body.to_vec(),
        with_timestamp: false,
    });
    candidates
}

fn secret_candidates(secret: &str, body: &[u8]) -> Vec<Candidate> {
    let trimmed = secret.trim();
    let mut keys = Vec::new();
    if trimmed != secret {
        keys.push((Mistake::SecretWhitespace, trimmed.as_bytes().to_vec()));
    }
    for end in ["\n", "\r\n", " "] {
        keys.push((
            Mistake::SenderSecretWhitespace,
            format!("{secret}{end}").into_bytes(),
        ));
    }
    let unprefixed = trimmed.strip_prefix("whsec_");
    match unprefixed {
        Some(rest) => keys.push((Mistake::SecretPrefixStripped, rest.as_bytes().to_vec())),
        None => keys.push((
            Mistake::SecretPrefixAdded,
            format!("whsec_{trimmed}").into_bytes(),
        )),
    }
    // Decoders are tried on the secret and on what follows its prefix.
    for text in [Some(trimmed), unprefixed].into_iter().flatten() {
        if let Ok(decoded) = hex::decode(text) {
            keys.push((Mistake::SecretHexDecoded, decoded));
        }
        if let Some(decoded) = base64_decode(text) {
            keys.push((Mistake::SecretBase64Decoded, decoded));
        }
    }
    keys.into_iter()
        .filter(|(_, key)| key != secret.as_bytes())
        .map(|(mistake, key)| Candidate {
            mistake,
            key,
            body: body.to_vec(),
            with_timestamp: true,
        })
        .collect()
}

/// `text` decoded as base64 in any of the alphabets and paddings signers use.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
}

/// The lowercase hex HMAC-SHA256 of `timestamp.body`, or of `body` alone,
/// keyed by raw bytes (a decoded secret is not text).
fn hmac_hex(key: &[u8], timestamp: Option<&str>, body: &[u8]) -> String {
    // HMAC takes keys of any length: this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    if let Some(timestamp) = timestamp {
        mac.update(timestamp.as_bytes());
        mac.update(b".");
    }
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// `body` with the whitespace between JSON tokens removed, keys, numbers and
/// strings kept byte for byte: what `JSON.stringify(JSON.parse(body))` gives
/// for most bodies. Not JSON in, not JSON out: the bytes are only re-spaced.
///
/// ```
/// use costkatana_webhooks::diagnose::minify;
///
/// assert_eq!(minify(br#"{ "b": 1.50, "a": [ ], "s": "x, y" }"#), br#"{"b":1.50,"a":[],"s":"x, y"}"#);
/// ```
pub fn minify(body: &[u8]) -> Vec<u8> {
    reformat(body, None)
}

/// `body` pretty-printed with `indent` spaces per level, keys, numbers and
/// strings kept byte for byte, empty containers kept as `{}` and `[]`: what
/// `JSON.stringify(JSON.parse(body), null, indent)` gives for most bodies.
///
/// ```
/// use costkatana_webhooks::diagnose::prettify;
///
/// assert_eq!(prettify(br#"{"b":1.50,"a":[]}"#, 2), b"{\n  \"b\": 1.50,\n  \"a\": []\n}");
/// ```
pub fn prettify(body: &[u8], indent: usize) -> Vec<u8> {
    reformat(body, Some(indent))
}

/// Re-spaces JSON tokens: none between them (`indent` `None`), or one per
/// line indented by depth.
fn reformat(body: &[u8], indent: Option<usize>) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let (mut in_string, mut escaped, mut depth) = (false, false, 0usize);
    let newline = |out: &mut Vec<u8>, depth: usize| {
        if let Some(width) = indent {
            out.push(b'\n');
            out.extend(std::iter::repeat_n(b' ', width * depth));
        }
    };
    for (at, byte) in body.iter().copied().enumerate() {
        if in_string {
            out.push(byte);
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b' ' | b'\t' | b'\n' | b'\r' => {}
            b'"' => {
                in_string = true;
                out.push(byte);
            }
            b'{' | b'[' => {
                out.push(byte);
                let next = body[at + 1..].iter().find(|b| !b.is_ascii_whitespace());
                if matches!(next, Some(b'}' | b']')) {
                    // Empty containers stay `{}` / `[]`, as in JSON.stringify.
                    continue;
                }
                depth += 1;
                newline(&mut out, depth);
            }
            b'}' | b']' => {
                let empty = matches!(out.last(), Some(b'{' | b'['));
                if !empty {
                    depth = depth.saturating_sub(1);
                    newline(&mut out, depth);
                }
                out.push(byte);
            }
            b',' => {
                out.push(byte);
                newline(&mut out, depth);
            }
            b':' => {
                out.push(byte);
                if indent.is_some() {
                    out.push(b' ');
                }
            }
            _ => out.push(byte),
        }
    }
    out
}

//! The recent rejections a receiver keeps, for people to see why requests
//! were refused: reason, where from, which scheme, how big, and what went
//! wrong where it can be told. Never the body, a signature or a credential.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::IpAddr;
use std::sync::Mutex;

use bytes::Bytes;

use crate::diagnose::{minify, prettify, SignatureHeaders};
use crate::signed_headers::SignedHeaders;
use crate::{mac, Error, ErrorKind, Headers, Scheme, Verifier};

/// How many rejections a receiver keeps unless told otherwise.
pub const DEFAULT_REJECTION_LOG: usize = 1000;

/// What went wrong with a rejected request, where it can be told from the
/// request and the configured secrets.
///
/// ```
/// use costkatana_webhooks::receiver::Diagnosis;
/// assert_eq!(Diagnosis::ReserializedBody.as_str(), "signed over a re-serialised body");
/// assert!(Diagnosis::TimestampInSeconds.advice().contains("milliseconds"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Diagnosis {
    /// A configured secret signs a re-serialised copy of the body (compact
    /// or pretty JSON) to the signature: the signer did not sign the bytes
    /// it sent.
    ReserializedBody,
    /// The timestamp, in a scheme that counts milliseconds, is in seconds.
    TimestampInSeconds,
    /// A configured secret trimmed of its trailing whitespace signs the
    /// body to the signature: the receiver's copy of the secret carries a
    /// newline or a space the sender's lacks.
    SecretWhitespace,
    /// A configured secret with a trailing newline, CRLF or space added
    /// signs the body to the signature: the sender's copy of the secret
    /// carries whitespace the receiver's lacks.
    SenderSecretWhitespace,
    /// No configured secret signs the body to the signature, with or
    /// without those mistakes: a wrong, rotated or mistyped secret.
    NoSecretMatches,
    /// Not examined: diagnoses are rate-limited, so a flood of forgeries
    /// costs little.
    NotExamined,
}

impl Diagnosis {
    /// A short label.
    pub fn as_str(self) -> &'static str {
        match self {
            Diagnosis::ReserializedBody => "signed over a re-serialised body",
            Diagnosis::TimestampInSeconds => "timestamp looks like seconds",
            Diagnosis::SecretWhitespace => "the receiver's secret has trailing whitespace",
            Diagnosis::SenderSecretWhitespace => "the sender's secret has trailing whitespace",
            Diagnosis::NoSecretMatches => "no configured secret matches",
            Diagnosis::NotExamined => "not examined (rate-limited)",
        }
    }

    /// What to do about it.
    pub fn advice(self) -> &'static str {
        match self {
            Diagnosis::ReserializedBody => {
                "sign and send the same bytes: never sign JSON.stringify(parsed) of a body sent otherwise"
            }
            Diagnosis::TimestampInSeconds => {
                "the sender's timestamp unit is wrong: this scheme sends milliseconds since the epoch"
            }
            Diagnosis::SecretWhitespace => {
                "trim the secret where this receiver's is configured (a newline from a file or .env \
                 is the usual cause)"
            }
            Diagnosis::SenderSecretWhitespace => {
                "the sender signs with the secret plus a trailing newline or space: trim the secret \
                 where the sender's is configured (the receiver's is right)"
            }
            Diagnosis::NoSecretMatches => {
                "check that the receiver's secret is the webhook's secret (and add the new one during a rotation)"
            }
            Diagnosis::NotExamined => "look at the next rejection of this kind",
        }
    }
}

impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rejected request.
///
/// ```
/// use costkatana_webhooks::receiver::Rejection;
/// # fn show(rejection: &Rejection) {
/// println!("{} {} from {:?}: {:?}", rejection.at_ms, rejection.reason, rejection.remote, rejection.diagnosis);
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rejection {
    /// When, in ms since the epoch (the receiver's clock).
    pub at_ms: i64,
    /// The reason code (`invalid_signature`, `stale_timestamp`, …).
    pub reason: &'static str,
    /// The status it was answered with.
    pub status: u16,
    /// The peer's address, when the adapter knows it.
    pub remote: Option<IpAddr>,
    /// The scheme its headers spoke, when they spoke one.
    pub scheme: Option<Scheme>,
    /// The body's length, when it was read.
    pub body_bytes: Option<usize>,
    /// What went wrong, where it can be told.
    pub diagnosis: Option<Diagnosis>,
}

/// The kinds kept: a request refused as it stands (and a clock ahead).
fn kept(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::MissingSignature
            | ErrorKind::MalformedSignature
            | ErrorKind::InvalidSignature
            | ErrorKind::StaleTimestamp
            | ErrorKind::FutureTimestamp
            | ErrorKind::PayloadTooLarge
            | ErrorKind::MethodNotAllowed
    )
}

/// The kinds that come from a sender that means well but is configured
/// wrong (a secret, a clock, a limit): logged at WARN, rate-limited.
pub(crate) fn misconfiguration(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::InvalidSignature | ErrorKind::StaleTimestamp | ErrorKind::PayloadTooLarge
    )
}

/// One WARN line per reason per this long; the rest are counted.
const WARN_EVERY_MS: i64 = 10_000;
/// Diagnoses (a few HMACs and a re-serialisation of the body) allowed per
/// second, and in a burst.
const DIAGNOSES_PER_SECOND: f64 = 2.0;
const DIAGNOSIS_BURST: f64 = 5.0;

/// The ring of recent rejections, and the limits on diagnosing and
/// logging them.
#[derive(Debug)]
pub(crate) struct Rejections {
    capacity: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    ring: VecDeque<Rejection>,
    /// Diagnoses available, refilled over time.
    tokens: f64,
    refilled_at_ms: i64,
    /// Per reason: when a WARN line was last written, and how many were
    /// left unwritten since.
    warned: HashMap<&'static str, (i64, u64)>,
}

impl Rejections {
    pub(crate) fn new(capacity: usize) -> Self {
        Rejections {
            capacity,
            state: Mutex::new(State {
                tokens: DIAGNOSIS_BURST,
                ..State::default()
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The rejections kept, newest first.
    pub(crate) fn recent(&self) -> Vec<Rejection> {
        self.state().ring.iter().rev().cloned().collect()
    }

    /// Keeps `err`'s rejection of a request, diagnosed where it can be.
    pub(crate) fn note(&self, request: Refused<'_, impl Headers + ?Sized>) {
        if self.capacity == 0 || !kept(request.error.kind()) {
            return;
        }
        let now_ms = request.verifier.clock().now_ms();
        let diagnosis = self.diagnosis(&request, now_ms);
        let rejection = Rejection {
            at_ms: now_ms,
            reason: request.error.code(),
            status: request.error.status(),
            remote: request.remote,
            scheme: SignatureHeaders::read(request.headers).map(|h| h.scheme()),
            body_bytes: request.body.map(Bytes::len),
            diagnosis,
        };
        let mut state = self.state();
        if state.ring.len() == self.capacity {
            state.ring.pop_front();
        }
        state.ring.push_back(rejection);
    }

    /// Whether a WARN line for `reason` may be written at `now_ms`, and how
    /// many were held back since the last one.
    pub(crate) fn may_warn(&self, reason: &'static str, now_ms: i64) -> Option<u64> {
        let mut state = self.state();
        let (last_ms, held) = state.warned.entry(reason).or_insert((i64::MIN, 0));
        if now_ms.saturating_sub(*last_ms) >= WARN_EVERY_MS {
            let since = std::mem::take(held);
            *last_ms = now_ms;
            Some(since)
        } else {
            *held += 1;
            None
        }
    }

    fn diagnosis(
        &self,
        request: &Refused<'_, impl Headers + ?Sized>,
        now_ms: i64,
    ) -> Option<Diagnosis> {
        let kind = request.error.kind();
        let seconds = || {
            SignatureHeaders::read(request.headers).is_some_and(|h| h.timestamp_in_seconds(now_ms))
        };
        match kind {
            ErrorKind::StaleTimestamp if seconds() => Some(Diagnosis::TimestampInSeconds),
            ErrorKind::InvalidSignature => {
                if !self.take_token(now_ms) {
                    return Some(Diagnosis::NotExamined);
                }
                Some(diagnose_signature(
                    request.verifier,
                    request.headers,
                    request.body,
                ))
            }
            _ => None,
        }
    }

    fn take_token(&self, now_ms: i64) -> bool {
        let mut state = self.state();
        let elapsed_s = now_ms.saturating_sub(state.refilled_at_ms).max(0) as f64 / 1000.0;
        state.tokens = (state.tokens + elapsed_s * DIAGNOSES_PER_SECOND).min(DIAGNOSIS_BURST);
        state.refilled_at_ms = now_ms;
        if state.tokens >= 1.0 {
            state.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// A refused request as the log sees it.
pub(crate) struct Refused<'a, H: ?Sized> {
    pub(crate) error: &'a Error,
    pub(crate) verifier: &'a Verifier,
    pub(crate) headers: &'a H,
    pub(crate) body: Option<&'a Bytes>,
    pub(crate) remote: Option<IpAddr>,
}

/// Why no configured secret matched: a re-serialised body, a secret that
/// differs by trailing whitespace (on the receiver's side or the sender's),
/// or none of those.
fn diagnose_signature(
    verifier: &Verifier,
    headers: &(impl Headers + ?Sized),
    body: Option<&Bytes>,
) -> Diagnosis {
    let (Some(body), Ok(signed)) = (
        body,
        SignedHeaders::parse(&headers, verifier.pinned_scheme()),
    ) else {
        return Diagnosis::NoSecretMatches;
    };
    let matches = |keyed: &mac::Keyed, bytes: &[u8]| {
        let tag = mac::tag(keyed, signed.timestamp_text(), bytes);
        signed.signatures().contains(&tag)
    };
    let reserialised: Vec<Vec<u8>> = [minify(body), prettify(body, 2), prettify(body, 4)]
        .into_iter()
        .filter(|copy| !copy.is_empty() && copy.as_slice() != body.as_ref())
        .collect();
    for secret in verifier.secrets() {
        if reserialised
            .iter()
            .any(|copy| matches(secret.keyed(), copy))
        {
            return Diagnosis::ReserializedBody;
        }
        if secret
            .trimmed_variant()
            .is_some_and(|keyed| matches(keyed, body))
        {
            return Diagnosis::SecretWhitespace;
        }
        if secret
            .padded_variants()
            .iter()
            .any(|keyed| matches(keyed, body))
        {
            return Diagnosis::SenderSecretWhitespace;
        }
    }
    Diagnosis::NoSecretMatches
}

//! Parsing the signature and timestamp headers of each scheme.
//!
//! Everything here is strict about shape and never panics: lengths are
//! bounded, digits are counted before arithmetic, and every failure is a
//! `malformed_signature` with a detail that names the header.

use crate::scheme::names;
use crate::{Error, ErrorKind, Headers, Scheme};

/// The most `v1=` signatures one documented header may carry.
pub(crate) const MAX_SIGNATURES: usize = 8;
/// The longest signature header accepted (room for `MAX_SIGNATURES` and spaces).
const MAX_HEADER_LEN: usize = 1024;
/// An HMAC-SHA256 tag.
pub(crate) type Tag = [u8; 32];

/// What the headers say: scheme, timestamp (as signed, and in ms) and the
/// candidate signatures.
#[derive(Debug)]
pub(crate) struct SignedHeaders<'h> {
    pub(crate) scheme: Scheme,
    /// The timestamp text exactly as signed.
    pub(crate) timestamp_text: &'h str,
    pub(crate) timestamp_ms: i64,
    signatures: [Tag; MAX_SIGNATURES],
    count: usize,
}

impl<'h> SignedHeaders<'h> {
    /// Reads the headers of `pinned` or, when `None`, of the scheme the
    /// headers show.
    pub(crate) fn parse(headers: &'h impl Headers, pinned: Option<Scheme>) -> Result<Self, Error> {
        let current = text(headers, names::WEBHOOK_SIGNATURE)?;
        let costkatana = text(headers, names::COSTKATANA_SIGNATURE)?;
        let (scheme, signature) = match (pinned, current, costkatana) {
            (Some(Scheme::Current) | None, Some(sig), _) => (Scheme::Current, sig),
            (Some(scheme @ (Scheme::Legacy | Scheme::Documented)), _, Some(sig)) => (scheme, sig),
            (None, None, Some(sig)) if looks_legacy(sig) => (Scheme::Legacy, sig),
            (None, None, Some(sig)) => (Scheme::Documented, sig),
            (Some(scheme), _, _) => {
                return Err(Error::with_detail(
                    ErrorKind::MissingSignature,
                    format!(
                        "no {} header (the verifier is pinned to the {scheme} scheme)",
                        scheme.signature_header()
                    ),
                ))
            }
            (None, None, None) => return Err(Error::new(ErrorKind::MissingSignature)),
        };
        if signature.len() > MAX_HEADER_LEN {
            return Err(malformed(format!(
                "the {} header is longer than {MAX_HEADER_LEN} bytes",
                scheme.signature_header()
            )));
        }
        match scheme {
            Scheme::Current | Scheme::Legacy => Self::parse_separate(headers, scheme, signature),
            Scheme::Documented => Self::parse_documented(signature),
        }
    }

    /// `current` and `legacy`: a timestamp header in ms plus one signature.
    fn parse_separate(
        headers: &'h impl Headers,
        scheme: Scheme,
        signature: &str,
    ) -> Result<Self, Error> {
        let (ts_name, ts_lower) = match scheme {
            Scheme::Current => ("X-Webhook-Timestamp", names::WEBHOOK_TIMESTAMP),
            _ => ("X-CostKatana-Timestamp", names::COSTKATANA_TIMESTAMP),
        };
        let timestamp_text = text(headers, ts_lower)?.ok_or_else(|| {
            malformed(format!(
                "the {} header is present but {ts_name} is missing",
                scheme.signature_header()
            ))
        })?;
        let hex = match scheme {
            Scheme::Legacy => signature.strip_prefix("sha256=").unwrap_or(signature),
            _ => signature,
        };
        let mut parsed = SignedHeaders {
            scheme,
            timestamp_text,
            timestamp_ms: timestamp_ms(timestamp_text, scheme, ts_name)?,
            signatures: [[0; 32]; MAX_SIGNATURES],
            count: 0,
        };
        parsed.push(hex.trim(), scheme.signature_header())?;
        Ok(parsed)
    }

    /// `documented`: `t=<secs>,v1=<hex>[,v1=<hex>…]`, pairs in any order,
    /// optional spaces, unknown keys ignored.
    fn parse_documented(header: &'h str) -> Result<Self, Error> {
        const NAME: &str = "X-CostKatana-Signature";
        let mut parsed = SignedHeaders {
            scheme: Scheme::Documented,
            timestamp_text: "",
            timestamp_ms: 0,
            signatures: [[0; 32]; MAX_SIGNATURES],
            count: 0,
        };
        let mut timestamp = None;
        for part in header.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| {
                malformed(format!(
                    "the {NAME} header has an entry without '=' (expected t=<seconds>,v1=<hex>)"
                ))
            })?;
            match key.trim() {
                "t" if timestamp.is_some() => {
                    return Err(malformed(format!("the {NAME} header has more than one t=")))
                }
                "t" => timestamp = Some(value.trim()),
                "v1" => parsed.push(value.trim(), NAME)?,
                _ => {}
            }
        }
        let timestamp_text = timestamp
            .ok_or_else(|| malformed(format!("the {NAME} header has no t=<seconds> entry")))?;
        if parsed.count == 0 {
            return Err(malformed(format!("the {NAME} header has no v1= signature")));
        }
        parsed.timestamp_ms = timestamp_ms(timestamp_text, Scheme::Documented, "t=")?;
        parsed.timestamp_text = timestamp_text;
        Ok(parsed)
    }

    fn push(&mut self, hex_text: &str, header: &str) -> Result<(), Error> {
        if self.count == MAX_SIGNATURES {
            return Err(malformed(format!(
                "the {header} header carries more than {MAX_SIGNATURES} signatures"
            )));
        }
        let mut tag = [0; 32];
        hex::decode_to_slice(hex_text, &mut tag).map_err(|_| {
            malformed(format!(
                "a signature in the {header} header is not 64 hexadecimal characters"
            ))
        })?;
        self.signatures[self.count] = tag;
        self.count += 1;
        Ok(())
    }

    /// The candidate signatures.
    pub(crate) fn signatures(&self) -> &[Tag] {
        &self.signatures[..self.count]
    }
}

/// A `legacy` value is `sha256=<hex>` or bare hex; anything else on
/// `X-CostKatana-Signature` is the documented `t=…,v1=…` form.
fn looks_legacy(value: &str) -> bool {
    let value = value.trim();
    value.starts_with("sha256=")
        || (value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A header's value as text, trimmed; non-UTF-8 is malformed.
fn text<'h>(headers: &'h impl Headers, name: &str) -> Result<Option<&'h str>, Error> {
    headers
        .header(name)
        .map(|raw| {
            std::str::from_utf8(raw)
                .map(str::trim)
                .map_err(|_| malformed(format!("the {name} header is not valid text")))
        })
        .transpose()
}

/// Parses a timestamp of the scheme's unit into milliseconds.
fn timestamp_ms(text: &str, scheme: Scheme, name: &str) -> Result<i64, Error> {
    // 15 digits of ms or 12 of seconds reach past the year 30000 and stay far
    // from overflow; anything longer is not a timestamp.
    let max_digits = if scheme.ms_per_timestamp_unit() == 1 {
        15
    } else {
        12
    };
    if text.is_empty() || text.len() > max_digits || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed(format!(
            "the {name} timestamp must be 1 to {max_digits} decimal digits ({})",
            if max_digits == 15 {
                "milliseconds since the epoch"
            } else {
                "seconds since the epoch"
            }
        )));
    }
    let value: i64 = text
        .parse()
        .map_err(|_| malformed(format!("the {name} timestamp is out of range")))?;
    Ok(value * scheme.ms_per_timestamp_unit())
}

fn malformed(detail: String) -> Error {
    Error::with_detail(ErrorKind::MalformedSignature, detail)
}

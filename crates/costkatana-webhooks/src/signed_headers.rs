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

/// The most digits a timestamp may have (15 of ms reach past the year 30000).
const MAX_TIMESTAMP_DIGITS: usize = 15;

/// What the headers say: scheme, timestamp (as signed, and in ms) and the
/// candidate signatures. Owned, so it outlives the request's header map
/// while the body is read.
#[derive(Clone)]
pub(crate) struct SignedHeaders {
    pub(crate) scheme: Scheme,
    pub(crate) timestamp_ms: i64,
    /// The timestamp text exactly as signed (ASCII digits only).
    timestamp_text: [u8; MAX_TIMESTAMP_DIGITS],
    timestamp_len: u8,
    signatures: Tags,
}

/// The candidate signatures: one inline (every scheme's usual case), or
/// several (a documented header during a rotation) on the heap. Kept small
/// because the parsed headers are moved several times per request.
#[derive(Clone)]
enum Tags {
    None,
    One(Aligned),
    Many(Box<[Tag]>),
}

/// A tag on a 16-byte boundary: each copy of it is two whole 16-byte
/// moves. Unaligned, behind the enum's tag byte, the compiler copied it
/// in pieces of 8, 4, 2 and 1 bytes, whose loads stall on the wider
/// stores that wrote it.
#[derive(Clone, Copy)]
#[repr(align(16))]
struct Aligned(Tag);

impl Tags {
    fn as_slice(&self) -> &[Tag] {
        match self {
            Tags::None => &[],
            Tags::One(tag) => std::slice::from_ref(&tag.0),
            Tags::Many(tags) => tags,
        }
    }
}

impl std::fmt::Debug for SignedHeaders {
    /// The signatures are left out: they are credentials of a kind.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedHeaders")
            .field("scheme", &self.scheme)
            .field("timestamp_ms", &self.timestamp_ms)
            .field("signatures", &self.signatures.as_slice().len())
            .finish()
    }
}

impl SignedHeaders {
    /// Reads the headers of `pinned` or, when `None`, of the scheme the
    /// headers show.
    pub(crate) fn parse(headers: &impl Headers, pinned: Option<Scheme>) -> Result<Self, Error> {
        // The current scheme's header first: when it is there (the usual
        // case), the other is never looked up.
        let current = match pinned {
            Some(Scheme::Current) | None => text(headers, names::WEBHOOK_SIGNATURE)?,
            Some(_) => None,
        };
        let costkatana = match current {
            Some(_) => None,
            None => text(headers, names::COSTKATANA_SIGNATURE)?,
        };
        let (scheme, signature) = match (pinned, current, costkatana) {
            (_, Some(sig), _) => (Scheme::Current, sig),
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

    fn empty(scheme: Scheme) -> Self {
        SignedHeaders {
            scheme,
            timestamp_ms: 0,
            timestamp_text: [0; MAX_TIMESTAMP_DIGITS],
            timestamp_len: 0,
            signatures: Tags::None,
        }
    }

    /// `current` and `legacy`: a timestamp header in ms plus one signature.
    fn parse_separate(
        headers: &impl Headers,
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
        let mut parsed = SignedHeaders::empty(scheme);
        parsed.set_timestamp(timestamp_text, ts_name)?;
        parsed.signatures = Tags::One(Aligned(decode(hex.trim(), scheme.signature_header())?));
        Ok(parsed)
    }

    /// `documented`: `t=<secs>,v1=<hex>[,v1=<hex>…]`, pairs in any order,
    /// optional spaces, unknown keys ignored.
    fn parse_documented(header: &str) -> Result<Self, Error> {
        const NAME: &str = "X-CostKatana-Signature";
        let mut parsed = SignedHeaders::empty(Scheme::Documented);
        let mut timestamp = None;
        let mut tags: [Tag; MAX_SIGNATURES] = [[0; 32]; MAX_SIGNATURES];
        let mut count = 0;
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
                "v1" if count == MAX_SIGNATURES => {
                    return Err(malformed(format!(
                        "the {NAME} header carries more than {MAX_SIGNATURES} signatures"
                    )))
                }
                "v1" => {
                    tags[count] = decode(value.trim(), NAME)?;
                    count += 1;
                }
                _ => {}
            }
        }
        let timestamp_text = timestamp
            .ok_or_else(|| malformed(format!("the {NAME} header has no t=<seconds> entry")))?;
        parsed.signatures = match &tags[..count] {
            [] => return Err(malformed(format!("the {NAME} header has no v1= signature"))),
            [tag] => Tags::One(Aligned(*tag)),
            several => Tags::Many(several.into()),
        };
        parsed.set_timestamp(timestamp_text, "t=")?;
        Ok(parsed)
    }

    /// Checks and keeps the timestamp, as text and in ms.
    fn set_timestamp(&mut self, text: &str, name: &str) -> Result<(), Error> {
        self.timestamp_ms = timestamp_ms(text, self.scheme, name)?;
        // `timestamp_ms` admitted at most MAX_TIMESTAMP_DIGITS ASCII digits.
        self.timestamp_text[..text.len()].copy_from_slice(text.as_bytes());
        self.timestamp_len = text.len() as u8;
        Ok(())
    }

    /// The timestamp text exactly as signed.
    pub(crate) fn timestamp_text(&self) -> &str {
        // Only ASCII digits are ever stored, so this never falls back.
        std::str::from_utf8(&self.timestamp_text[..usize::from(self.timestamp_len)])
            .unwrap_or_default()
    }

    /// The candidate signatures.
    pub(crate) fn signatures(&self) -> &[Tag] {
        self.signatures.as_slice()
    }
}

/// One signature's 64 hex digits, or why not.
fn decode(hex_text: &str, header: &str) -> Result<Tag, Error> {
    decode_tag(hex_text).ok_or_else(|| {
        malformed(format!(
            "a signature in the {header} header is not 64 hexadecimal characters"
        ))
    })
}

/// Each byte's value as a hex digit (either case), or [`NOT_HEX`].
const NIBBLES: [u8; 256] = {
    let mut table = [NOT_HEX; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};
const NOT_HEX: u8 = 0x10;

/// 64 hex digits into a tag, by table and without a branch on the digits,
/// so its time does not follow the characters received; `None` unless
/// every one is a hex digit.
fn decode_tag(text: &str) -> Option<Tag> {
    let text = text.as_bytes();
    if text.len() != 64 {
        return None;
    }
    let mut tag = [0; 32];
    let mut invalid = 0;
    for (byte, pair) in tag.iter_mut().zip(text.chunks_exact(2)) {
        let (high, low) = (NIBBLES[usize::from(pair[0])], NIBBLES[usize::from(pair[1])]);
        invalid |= high | low;
        *byte = (high << 4) | (low & 0x0f);
    }
    (invalid & NOT_HEX == 0).then_some(tag)
}

/// A `legacy` value is `sha256=<hex>` or bare hex; anything else on
/// `X-CostKatana-Signature` is the documented `t=…,v1=…` form.
fn looks_legacy(value: &str) -> bool {
    let value = value.trim();
    value.starts_with("sha256=")
        || (value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A header's value as text, trimmed; non-UTF-8 is malformed.
fn text<'h, H: Headers>(headers: &'h H, name: &str) -> Result<Option<&'h str>, Error> {
    headers
        .header(name)
        .map(|raw| {
            std::str::from_utf8(raw)
                .map(|text| {
                    // Trimmed only when an end may be whitespace: the
                    // usual value has none, and `trim` reads characters.
                    let plain = |b: Option<&u8>| b.is_some_and(u8::is_ascii_graphic);
                    if plain(raw.first()) && plain(raw.last()) {
                        text
                    } else {
                        text.trim()
                    }
                })
                .map_err(|_| malformed(format!("the {name} header is not valid text")))
        })
        .transpose()
}

/// Parses a timestamp of the scheme's unit into milliseconds.
fn timestamp_ms(text: &str, scheme: Scheme, name: &str) -> Result<i64, Error> {
    // 15 digits of ms or 12 of seconds reach past the year 30000 and stay far
    // from overflow; anything longer is not a timestamp.
    let max_digits = if scheme.ms_per_timestamp_unit() == 1 {
        MAX_TIMESTAMP_DIGITS
    } else {
        12
    };
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    if digits && max_digits == 12 && text.len() == 13 {
        return Err(malformed(format!(
            "the {name} timestamp {text} has 13 digits: it looks like milliseconds, but the \
             {scheme} scheme's timestamp is in seconds since the epoch"
        )));
    }
    if !digits || text.len() > max_digits {
        return Err(malformed(format!(
            "the {name} timestamp must be 1 to {max_digits} decimal digits ({})",
            if max_digits == 15 {
                "milliseconds since the epoch"
            } else {
                "seconds since the epoch"
            }
        )));
    }
    // At most 15 ASCII digits: the value fits an i64 many times over.
    let value = text
        .bytes()
        .fold(0_i64, |value, digit| value * 10 + i64::from(digit - b'0'));
    Ok(value * scheme.ms_per_timestamp_unit())
}

fn malformed(detail: String) -> Error {
    Error::with_detail(ErrorKind::MalformedSignature, detail)
}

#[cfg(test)]
mod tests {
    use super::decode_tag;

    #[test]
    fn decodes_both_cases_and_refuses_any_other_byte() {
        let lower: String = (0..32u8).map(|i| format!("{:02x}", i * 7)).collect();
        let expected: Vec<u8> = (0..32u8).map(|i| i * 7).collect();
        assert_eq!(decode_tag(&lower).map(Vec::from), Some(expected.clone()));
        assert_eq!(
            decode_tag(&lower.to_uppercase()).map(Vec::from),
            Some(expected)
        );
        for at in 0..64 {
            for bad in [b'g', b'G', b' ', b'/', b':', b'@', b'`', 0xff] {
                let mut text = lower.clone().into_bytes();
                text[at] = bad;
                let text = String::from_utf8_lossy(&text).into_owned();
                assert_eq!(decode_tag(&text), None, "{bad:#x} at {at}");
            }
        }
        // Every byte, in every place a digit goes, against the standard
        // library's idea of a hex digit.
        for byte in 0..=255_u8 {
            let mut text = lower.clone().into_bytes();
            text[5] = byte;
            let Ok(text) = String::from_utf8(text) else {
                continue;
            };
            let value = char::from(byte).to_digit(16);
            let decoded = decode_tag(&text);
            assert_eq!(decoded.is_some(), byte.is_ascii_hexdigit(), "{byte:#x}");
            if let (Some(tag), Some(value)) = (decoded, value) {
                assert_eq!(u32::from(tag[2] & 0x0f), value, "{byte:#x}");
            }
        }
        assert_eq!(decode_tag(&lower[..62]), None);
        assert_eq!(decode_tag(&format!("{lower}00")), None);
    }
}

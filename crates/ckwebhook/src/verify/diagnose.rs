//! Would the signature match with a common mistake? Each candidate is one
//! mistake applied to the secret or the body, signed, and compared.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::reformat::{minify, prettify};

/// One plausible mistake: the key and body it leads to, and what to say.
struct Candidate {
    what: &'static str,
    advice: &'static str,
    key: Vec<u8>,
    body: Vec<u8>,
    with_timestamp: bool,
}

/// The lowercase hex HMAC-SHA256 of `timestamp.body` (or of `body` alone).
pub(crate) fn sign(key: &[u8], timestamp: Option<&str>, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    if let Some(timestamp) = timestamp {
        mac.update(timestamp.as_bytes());
        mac.update(b".");
    }
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The mistakes under which one of `signatures` would match, as
/// `(what, advice)` lines.
pub(crate) fn mistakes(
    secret: &str,
    timestamp: &str,
    body: &[u8],
    signatures: &[String],
) -> Vec<(&'static str, &'static str)> {
    let candidates = body_candidates(secret, body)
        .into_iter()
        .chain(secret_candidates(secret, body));
    let mut found = Vec::new();
    let mut tried: Vec<(Vec<u8>, Vec<u8>, bool)> = Vec::new();
    for candidate in candidates {
        // The first (most specific) explanation of identical bytes wins:
        // a minified body that only lost a trailing newline is that.
        let id = (
            candidate.key.clone(),
            candidate.body.clone(),
            candidate.with_timestamp,
        );
        if tried.contains(&id) {
            continue;
        }
        tried.push(id);
        let ts = candidate.with_timestamp.then_some(timestamp);
        let expected = sign(&candidate.key, ts, &candidate.body);
        if signatures.contains(&expected) && !found.iter().any(|(w, _)| *w == candidate.what) {
            found.push((candidate.what, candidate.advice));
        }
    }
    found
}

const RESERIALISED: &str = "the signature was computed over a re-serialised copy of the body, \
    not the bytes received (or the body was re-formatted after signing): sign and verify the raw \
    bytes exactly as sent, never JSON.stringify(parsed) or a framework's parsed body";

fn body_candidates(secret: &str, body: &[u8]) -> Vec<Candidate> {
    let key = secret.as_bytes().to_vec();
    let mut bodies: Vec<(&'static str, &'static str, Vec<u8>)> = Vec::new();
    let mut with_newline = body.to_vec();
    with_newline.push(b'\n');
    bodies.push((
        "a trailing newline added to the body",
        "the signed body ended with a newline the received body lacks (an editor or `echo` adds one): sign the exact bytes sent",
        with_newline,
    ));
    let trimmed = body
        .strip_suffix(b"\r\n")
        .or_else(|| body.strip_suffix(b"\n"));
    if let Some(trimmed) = trimmed {
        bodies.push((
            "the trailing newline removed from the body",
            "the body received ends with a newline that was not signed (a captured file often gains one): compare the exact bytes sent",
            trimmed.to_vec(),
        ));
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        let minified = minify(body);
        bodies.push((
            "the body re-serialised as compact JSON",
            RESERIALISED,
            minified.clone(),
        ));
        bodies.push((
            "the body re-serialised as pretty JSON (2-space indent)",
            RESERIALISED,
            prettify(&minified, 2),
        ));
        bodies.push((
            "the body re-serialised as pretty JSON (4-space indent)",
            RESERIALISED,
            prettify(&minified, 4),
        ));
        if let Ok(compact) = serde_json::to_vec(&value) {
            bodies.push(("the body parsed and re-serialised as compact JSON (keys sorted, numbers normalised)", RESERIALISED, compact));
        }
        if let Ok(pretty) = serde_json::to_vec_pretty(&value) {
            bodies.push(("the body parsed and re-serialised as pretty JSON (keys sorted, numbers normalised)", RESERIALISED, pretty));
        }
    }
    let mut candidates: Vec<Candidate> = bodies
        .into_iter()
        .filter(|(_, _, candidate)| candidate != body)
        .map(|(what, advice, body)| Candidate {
            what,
            advice,
            key: key.clone(),
            body,
            with_timestamp: true,
        })
        .collect();
    candidates.push(Candidate {
        what: "the body signed without the `<timestamp>.` prefix",
        advice: "the signature covers the body alone: Cost Katana signs `<timestamp>.<raw body>`",
        key,
        body: body.to_vec(),
        with_timestamp: false,
    });
    candidates
}

fn secret_candidates(secret: &str, body: &[u8]) -> Vec<Candidate> {
    let mut keys: Vec<(&'static str, &'static str, Vec<u8>)> = Vec::new();
    if secret.trim() != secret {
        keys.push((
            "the secret trimmed of surrounding whitespace",
            "the secret you passed has leading/trailing whitespace (a newline from a file or .env?) that the signer did not use",
            secret.trim().as_bytes().to_vec(),
        ));
    }
    let unprefixed = secret.trim().strip_prefix("whsec_");
    match unprefixed {
        Some(rest) => keys.push((
            "the whsec_ prefix stripped from the secret",
            "the signer used the secret without its whsec_ prefix; Cost Katana keys HMAC with the whole secret text, prefix included",
            rest.as_bytes().to_vec(),
        )),
        None => keys.push((
            "a whsec_ prefix added to the secret",
            "the signer used the secret with a whsec_ prefix that you left out: pass the whole secret text",
            format!("whsec_{}", secret.trim()).into_bytes(),
        )),
    }
    for text in [Some(secret.trim()), unprefixed].into_iter().flatten() {
        if let Ok(decoded) = hex::decode(text) {
            keys.push((
                "the secret hex-decoded",
                "the signer used the hex-decoded bytes of the secret as the key; Cost Katana keys HMAC with the secret's UTF-8 text, never decoded",
                decoded,
            ));
        }
        let engines = [
            base64::engine::general_purpose::STANDARD,
            base64::engine::general_purpose::STANDARD_NO_PAD,
            base64::engine::general_purpose::URL_SAFE,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        if let Some(decoded) = engines.iter().find_map(|engine| engine.decode(text).ok()) {
            keys.push((
                "the secret base64-decoded",
                "the signer used the base64-decoded bytes of the secret as the key; Cost Katana keys HMAC with the secret's UTF-8 text, never decoded",
                decoded,
            ));
        }
    }
    keys.into_iter()
        .filter(|(_, _, key)| key != secret.as_bytes())
        .map(|(what, advice, key)| Candidate {
            what,
            advice,
            key,
            body: body.to_vec(),
            with_timestamp: true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_documented_vector() {
        assert_eq!(
            sign(
                b"whsec_test_secret",
                Some("1705320600"),
                br#"{"event_type":"cost.alert","data":{"amount":100}}"#
            ),
            "8e7a9a20aa184accf213305d7c9527ee23b7719acf0048d4eba31bf3e0e51008"
        );
    }

    #[test]
    fn finds_a_hex_decoded_secret() {
        let body = b"{}";
        let signature = sign(&hex::decode("abcd").unwrap(), Some("1"), body);
        let found = mistakes("abcd", "1", body, &[signature]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "the secret hex-decoded");
    }
}

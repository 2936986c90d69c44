//! The console's access token: checked in constant time, never kept in
//! clear after start, and the root of the keys that sign sessions and
//! CSRF tokens (so changing the token signs every session out).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The shortest token accepted: 16 bytes of a generated token's 32.
pub(crate) const MIN_TOKEN_LEN: usize = 16;

/// What the console keeps of its token.
pub(crate) struct AccessToken {
    /// SHA-256 of the token: comparing digests takes the same time whatever
    /// the length or the first differing byte of a guess.
    digest: [u8; 32],
    /// The key of every MAC the console makes.
    mac_key: [u8; 32],
}

impl AccessToken {
    pub(crate) fn new(token: &str) -> AccessToken {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut mac = Hmac::<Sha256>::new_from_slice(token.as_bytes()).expect("any key length");
        mac.update(b"costkatana-webhooks-console mac key v1");
        AccessToken {
            digest,
            mac_key: mac.finalize().into_bytes().into(),
        }
    }

    /// Whether `given` is the token, in constant time.
    pub(crate) fn matches(&self, given: &str) -> bool {
        let given: [u8; 32] = Sha256::digest(given.as_bytes()).into();
        given.ct_eq(&self.digest).into()
    }

    /// HMAC-SHA-256 of `parts` (each length-prefixed, so no two lists of
    /// parts make the same input), in hex.
    pub(crate) fn mac(&self, parts: &[&[u8]]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.mac_key).expect("any key length");
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        hex::encode(mac.finalize().into_bytes())
    }

    /// Whether `given` is the MAC of `parts`, in constant time.
    pub(crate) fn verify(&self, parts: &[&[u8]], given: &str) -> bool {
        let expected = self.mac(parts);
        expected.as_bytes().ct_eq(given.as_bytes()).into()
    }
}

/// A new random token: 32 bytes in hex.
pub(crate) fn generate() -> String {
    hex::encode(random_bytes::<32>())
}

/// `N` bytes from the OS's random source.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_the_token() {
        let token = AccessToken::new("0123456789abcdef0123");
        assert!(token.matches("0123456789abcdef0123"));
        assert!(!token.matches("0123456789abcdef012"));
        assert!(!token.matches(""));
        let mac = token.mac(&[b"a", b"bc"]);
        assert!(token.verify(&[b"a", b"bc"], &mac));
        assert!(!token.verify(&[b"ab", b"c"], &mac));
        assert!(!AccessToken::new("another token, also long").verify(&[b"a", b"bc"], &mac));
        assert_eq!(generate().len(), 64);
    }
}

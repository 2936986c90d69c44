//! Signed-in sessions: a cookie that carries its own expiry and a MAC, so
//! any replica that has the token can check it and nothing is stored per
//! session; signing out revokes the session on this process until it
//! would have expired. Each session has its CSRF token, a MAC of its
//! nonce, which a cross-site page can neither read nor make.

use std::collections::HashMap;
use std::sync::Mutex;

use super::token::{random_bytes, AccessToken};

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "ckconsole_session";
/// The cookie that binds a sign-in form to the browser that asked for it.
pub(crate) const SIGN_IN_COOKIE: &str = "ckconsole_sign_in";
/// How long a sign-in form stays good.
pub(crate) const SIGN_IN_TTL_MS: i64 = 15 * 60_000;
/// The most sign-outs remembered; past it the oldest expire first.
const MAX_REVOKED: usize = 10_000;

/// A signed-in session, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Session {
    nonce: String,
    expires_ms: i64,
    /// The token forms carry to prove they came from the console's pages.
    pub(crate) csrf: String,
}

/// Makes and checks sessions.
pub(crate) struct Sessions {
    ttl_ms: i64,
    revoked: Mutex<HashMap<String, i64>>,
}

impl Sessions {
    pub(crate) fn new(ttl_ms: i64) -> Sessions {
        Sessions {
            ttl_ms,
            revoked: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn ttl_ms(&self) -> i64 {
        self.ttl_ms
    }

    /// A new session from `now_ms`, and its cookie value.
    pub(crate) fn issue(&self, token: &AccessToken, now_ms: i64) -> (String, Session) {
        let nonce = hex::encode(random_bytes::<16>());
        let expires_ms = now_ms.saturating_add(self.ttl_ms);
        let expires = expires_ms.to_string();
        let mac = token.mac(&[b"session", expires.as_bytes(), nonce.as_bytes()]);
        let value = format!("{expires}.{nonce}.{mac}");
        (value, session(token, nonce, expires_ms))
    }

    /// The session a cookie value stands for, if it is one this token
    /// signed, not expired at `now_ms` and not signed out.
    pub(crate) fn check(&self, token: &AccessToken, value: &str, now_ms: i64) -> Option<Session> {
        let mut parts = value.splitn(3, '.');
        let (expires, nonce, mac) = (parts.next()?, parts.next()?, parts.next()?);
        if !token.verify(&[b"session", expires.as_bytes(), nonce.as_bytes()], mac) {
            return None;
        }
        let expires_ms: i64 = expires.parse().ok()?;
        if expires_ms <= now_ms || self.revoked().contains_key(nonce) {
            return None;
        }
        Some(session(token, nonce.to_owned(), expires_ms))
    }

    /// Signs `session` out: its cookie is refused from now on.
    pub(crate) fn revoke(&self, session: &Session, now_ms: i64) {
        let mut revoked = self.revoked();
        revoked.retain(|_, expires_ms| *expires_ms > now_ms);
        if revoked.len() >= MAX_REVOKED {
            // Full of live sessions signed out: forget the one closest to
            // expiring by itself.
            if let Some(oldest) = revoked
                .iter()
                .min_by_key(|(_, expires_ms)| **expires_ms)
                .map(|(nonce, _)| nonce.clone())
            {
                revoked.remove(&oldest);
            }
        }
        revoked.insert(session.nonce.clone(), session.expires_ms);
    }

    fn revoked(&self) -> std::sync::MutexGuard<'_, HashMap<String, i64>> {
        self.revoked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn session(token: &AccessToken, nonce: String, expires_ms: i64) -> Session {
    let csrf = token.mac(&[b"csrf", nonce.as_bytes()]);
    Session {
        nonce,
        expires_ms,
        csrf,
    }
}

/// A sign-in form's pair: the cookie value (a nonce good until its
/// expiry) and the CSRF token the form carries for it.
pub(crate) fn sign_in_pair(token: &AccessToken, now_ms: i64) -> (String, String) {
    let nonce = hex::encode(random_bytes::<16>());
    let value = format!("{}.{nonce}", now_ms.saturating_add(SIGN_IN_TTL_MS));
    let csrf = token.mac(&[b"sign-in", value.as_bytes()]);
    (value, csrf)
}

/// Whether a sign-in form's CSRF token belongs to the cookie sent with it,
/// and the cookie has not expired.
pub(crate) fn sign_in_matches(token: &AccessToken, cookie: &str, csrf: &str, now_ms: i64) -> bool {
    let fresh = cookie
        .split_once('.')
        .and_then(|(expires, _)| expires.parse::<i64>().ok())
        .is_some_and(|expires_ms| expires_ms > now_ms);
    fresh && token.verify(&[b"sign-in", cookie.as_bytes()], csrf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_holds_until_it_expires_or_signs_out() {
        let token = AccessToken::new("a long enough token, really");
        let sessions = Sessions::new(1000);
        let (cookie, session) = sessions.issue(&token, 5000);
        assert_eq!(sessions.check(&token, &cookie, 5999), Some(session.clone()));
        assert_eq!(sessions.check(&token, &cookie, 6000), None, "expired");
        let other = AccessToken::new("another token, also long");
        assert_eq!(sessions.check(&other, &cookie, 5500), None, "token changed");
        let forged = cookie.replacen('6', "9", 1);
        assert_eq!(sessions.check(&token, &forged, 5500), None, "expiry moved");
        sessions.revoke(&session, 5500);
        assert_eq!(sessions.check(&token, &cookie, 5500), None, "signed out");
        let (second, again) = sessions.issue(&token, 5000);
        assert_ne!(again.csrf, session.csrf);
        assert!(sessions.check(&token, &second, 5500).is_some());
        assert_eq!(sessions.check(&token, "garbage", 0), None);
    }

    #[test]
    fn a_sign_in_form_belongs_to_its_cookie() {
        let token = AccessToken::new("a long enough token, really");
        let (cookie, csrf) = sign_in_pair(&token, 0);
        assert!(sign_in_matches(&token, &cookie, &csrf, 1));
        assert!(!sign_in_matches(&token, &cookie, &csrf, SIGN_IN_TTL_MS));
        let (other_cookie, _) = sign_in_pair(&token, 0);
        assert!(!sign_in_matches(&token, &other_cookie, &csrf, 1));
    }
}

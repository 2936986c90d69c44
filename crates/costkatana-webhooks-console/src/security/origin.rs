//! The `Origin` check every state-changing request passes: a browser
//! names the page a POST came from, and only the console's own origin
//! may change anything. A request without `Origin` passes only when the
//! browser says it is same-origin (`Sec-Fetch-Site`); scripts that call
//! the API with a bearer token carry no ambient credential and skip it.

use http::header::{HeaderName, HOST, ORIGIN};
use http::request::Parts;

use crate::settings::Settings;

const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// Why a request was refused as cross-site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CrossSite {
    /// `Origin` names another site.
    OtherOrigin,
    /// No `Origin` and no `Sec-Fetch-Site: same-origin`.
    NoOrigin,
}

impl CrossSite {
    pub(crate) fn explain(self) -> &'static str {
        match self {
            CrossSite::OtherOrigin => {
                "this request came from another site (its Origin header is not the console's); \
                 nothing was changed"
            }
            CrossSite::NoOrigin => {
                "this request does not say where it came from (no Origin header); the console \
                 changes nothing for such a request"
            }
        }
    }
}

/// Whether the request arrived over https, as far as the console can tell:
/// the URI says so, or a trusted proxy does (`X-Forwarded-Proto`).
pub(crate) fn is_https(parts: &Parts, settings: &Settings) -> bool {
    if parts.uri.scheme_str() == Some("https") {
        return true;
    }
    settings.trust_forwarded
        && header(parts, &X_FORWARDED_PROTO)
            .and_then(|proto| proto.split(',').next())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

/// The origin this console is served at: the configured public origin, or
/// the one the request was addressed to.
pub(crate) fn own_origin(parts: &Parts, settings: &Settings) -> Option<String> {
    if let Some(origin) = &settings.public_origin {
        return Some(origin.clone());
    }
    let forwarded_host = settings
        .trust_forwarded
        .then(|| header(parts, &X_FORWARDED_HOST))
        .flatten()
        .and_then(|hosts| hosts.split(',').next())
        .map(str::trim);
    let host = forwarded_host
        .or_else(|| header(parts, &HOST))
        .or_else(|| parts.uri.authority().map(http::uri::Authority::as_str))?;
    let scheme = if is_https(parts, settings) {
        "https"
    } else {
        "http"
    };
    Some(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

/// Passes a request that comes from the console's own pages.
pub(crate) fn check(parts: &Parts, settings: &Settings) -> Result<(), CrossSite> {
    match header(parts, &ORIGIN) {
        Some(origin) => {
            let own = own_origin(parts, settings).ok_or(CrossSite::OtherOrigin)?;
            if origin.eq_ignore_ascii_case(&own) {
                Ok(())
            } else {
                Err(CrossSite::OtherOrigin)
            }
        }
        None => match header(parts, &SEC_FETCH_SITE) {
            Some("same-origin") => Ok(()),
            Some(_) => Err(CrossSite::OtherOrigin),
            None => Err(CrossSite::NoOrigin),
        },
    }
}

fn header<'a>(parts: &'a Parts, name: &HeaderName) -> Option<&'a str> {
    parts
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut request = http::Request::post("/console/x");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn only_the_consoles_own_origin_passes() {
        let settings = Settings::default();
        let same = parts(&[
            ("host", "127.0.0.1:8081"),
            ("origin", "http://127.0.0.1:8081"),
        ]);
        assert_eq!(check(&same, &settings), Ok(()));
        let other = parts(&[
            ("host", "127.0.0.1:8081"),
            ("origin", "http://evil.example"),
        ]);
        assert_eq!(check(&other, &settings), Err(CrossSite::OtherOrigin));
        let null = parts(&[("host", "127.0.0.1:8081"), ("origin", "null")]);
        assert_eq!(check(&null, &settings), Err(CrossSite::OtherOrigin));
        let https_spoof = parts(&[
            ("host", "127.0.0.1:8081"),
            ("origin", "https://127.0.0.1:8081"),
        ]);
        assert_eq!(check(&https_spoof, &settings), Err(CrossSite::OtherOrigin));
        let none = parts(&[("host", "127.0.0.1:8081")]);
        assert_eq!(check(&none, &settings), Err(CrossSite::NoOrigin));
        let fetch = parts(&[("host", "h"), ("sec-fetch-site", "same-origin")]);
        assert_eq!(check(&fetch, &settings), Ok(()));
        let fetch_cross = parts(&[("host", "h"), ("sec-fetch-site", "cross-site")]);
        assert_eq!(check(&fetch_cross, &settings), Err(CrossSite::OtherOrigin));
    }

    #[test]
    fn a_proxy_is_believed_only_when_trusted() {
        let proxied = parts(&[
            ("host", "10.0.0.5:8081"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "ops.example.com"),
            ("origin", "https://ops.example.com"),
        ]);
        assert!(check(&proxied, &Settings::default()).is_err());
        let trusting = Settings {
            trust_forwarded: true,
            ..Settings::default()
        };
        assert_eq!(check(&proxied, &trusting), Ok(()));
        assert!(is_https(&proxied, &trusting));
        let pinned = Settings {
            public_origin: Some("https://ops.example.com".into()),
            ..Settings::default()
        };
        assert_eq!(check(&proxied, &pinned), Ok(()));
    }
}

//! Reading a request: its cookies, a bearer token, a bounded form body.

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, COOKIE};
use http::request::Parts;
use http_body::Body;
use http_body_util::{BodyExt, Limited};

/// Why a form body could not be read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FormError {
    TooLarge,
    Unreadable,
}

/// The value of cookie `name`, if the request carries it.
pub(crate) fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// The token of an `Authorization: Bearer …` header.
pub(crate) fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The body, at most `limit` bytes; a declared or actual length over it is
/// refused without reading the rest.
pub(crate) async fn read_body<B>(parts: &Parts, body: B, limit: usize) -> Result<Bytes, FormError>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(FormError::TooLarge);
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => Err(FormError::TooLarge),
        Err(_) => Err(FormError::Unreadable),
    }
}

/// A form's field `name`, if present.
pub(crate) fn field(form: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(form)
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cookies_and_bearer_tokens() {
        let (parts, ()) = http::Request::get("/")
            .header("cookie", "a=1; ckconsole_session=xyz")
            .header("cookie", "b=2")
            .header("authorization", "Bearer  t0k ")
            .body(())
            .unwrap()
            .into_parts();
        assert_eq!(cookie(&parts, "ckconsole_session"), Some("xyz"));
        assert_eq!(cookie(&parts, "b"), Some("2"));
        assert_eq!(cookie(&parts, "c"), None);
        assert_eq!(bearer(&parts), Some("t0k"));
        assert_eq!(field(b"csrf=a%20b&x=1", "csrf").as_deref(), Some("a b"));
    }
}

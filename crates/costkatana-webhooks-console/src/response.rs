//! Answers: HTML pages, JSON, redirects, cookies. The security headers are
//! added to every answer in one place ([`crate::console`]).

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE, LOCATION, SET_COOKIE};
use http::{Response, StatusCode};
use http_body_util::Full;
use maud::Markup;

/// The body of every answer the console gives: the whole page or document
/// at once.
pub type ConsoleBody = Full<Bytes>;

pub(crate) type Reply = Response<ConsoleBody>;

fn with_type(status: StatusCode, body: impl Into<Bytes>, content_type: &'static str) -> Reply {
    let mut reply = Response::new(Full::new(body.into()));
    *reply.status_mut() = status;
    reply
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    reply
}

pub(crate) fn html(status: StatusCode, page: Markup) -> Reply {
    with_type(status, page.into_string(), "text/html; charset=utf-8")
}

pub(crate) fn json(status: StatusCode, value: &serde_json::Value) -> Reply {
    with_type(status, value.to_string(), "application/json")
}

pub(crate) fn plain(status: StatusCode, text: &'static str) -> Reply {
    with_type(status, text, "text/plain; charset=utf-8")
}

pub(crate) fn asset(body: &'static str, content_type: &'static str) -> Reply {
    with_type(StatusCode::OK, body, content_type)
}

/// 303 See Other: after a form, the browser GETs `location`.
pub(crate) fn redirect(location: &str) -> Reply {
    let mut reply = with_type(StatusCode::SEE_OTHER, "", "text/plain; charset=utf-8");
    if let Ok(value) = HeaderValue::from_str(location) {
        reply.headers_mut().insert(LOCATION, value);
    }
    reply
}

/// A cookie only this console's pages get (its path), never readable by
/// script, never sent with a request another site starts; `Secure` when
/// asked; gone after `max_age_secs` (0 deletes it).
pub(crate) fn cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age_secs: i64,
    secure: bool,
) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{name}={value}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    )
}

pub(crate) fn set_cookie(reply: &mut Reply, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        reply.headers_mut().append(SET_COOKIE, value);
    }
}

//! The live API's envelope: `{"success": true, …}` (201 for a POST route,
//! 200 otherwise) and `{"success": false, "message": …}` errors, with the
//! issues of a validation failure.

use std::borrow::Cow;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::validate::Issue;

/// A route's answer.
pub(crate) type ApiResult = Result<Response, ApiError>;

/// An error answer.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// 401 with this message.
    Unauthorized(&'static str),
    /// 404 with this message (`Webhook not found`, `Delivery not found`,
    /// `Cannot GET /path`).
    NotFound(Cow<'static, str>),
    /// 400 with this message.
    BadRequest(String),
    /// 400 `Validation failed` with the issues.
    Invalid(Vec<Issue>),
    /// 413: the body is over the limit.
    TooLarge,
    /// 500 with this message.
    Internal(String),
}

impl From<Vec<Issue>> for ApiError {
    fn from(issues: Vec<Issue>) -> Self {
        ApiError::Invalid(issues)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message, issues) = match self {
            ApiError::Unauthorized(message) => (StatusCode::UNAUTHORIZED, message.to_owned(), None),
            ApiError::NotFound(message) => (StatusCode::NOT_FOUND, message.into_owned(), None),
            ApiError::BadRequest(message) => (StatusCode::BAD_REQUEST, message, None),
            ApiError::Invalid(issues) => (
                StatusCode::BAD_REQUEST,
                "Validation failed".to_owned(),
                Some(issues),
            ),
            ApiError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "request entity too large".to_owned(),
                None,
            ),
            ApiError::Internal(message) => (StatusCode::INTERNAL_SERVER_ERROR, message, None),
        };
        let mut body = json!({ "success": false, "message": message });
        if let Some(issues) = issues {
            body["errors"] = issues.iter().map(Issue::to_json).collect();
        }
        json_response(status, &body)
    }
}

/// 200 with `fields` and `"success": true`.
pub(crate) fn ok(fields: Value) -> Response {
    success(StatusCode::OK, fields)
}

/// 201 with `fields` and `"success": true`: every POST route's success.
pub(crate) fn created(fields: Value) -> Response {
    success(StatusCode::CREATED, fields)
}

fn success(status: StatusCode, mut fields: Value) -> Response {
    fields["success"] = true.into();
    json_response(status, &fields)
}

/// `response`, never cached (as the live list and queue routes answer).
pub(crate) fn uncached(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache, must-revalidate"),
    );
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

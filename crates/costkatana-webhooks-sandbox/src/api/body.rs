//! A request's JSON body, read as the live API's Express parser reads it:
//! parsed when its content type is JSON, an empty object otherwise.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{header, HeaderMap, StatusCode};
use serde_json::Value;

use super::reply::ApiError;

/// The most bytes of a body read.
pub(crate) const MAX_BODY: usize = 1024 * 1024;

/// The body as JSON: `{}` when it is empty or not declared JSON; a 400
/// when it is declared JSON and is not.
pub(crate) fn json(
    headers: &HeaderMap,
    body: &Result<Bytes, BytesRejection>,
) -> Result<Value, ApiError> {
    let bytes = match body {
        Ok(bytes) => bytes,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(ApiError::TooLarge)
        }
        Err(rejection) => return Err(ApiError::BadRequest(rejection.body_text())),
    };
    let declared_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.to_ascii_lowercase().contains("json"));
    if !declared_json || bytes.is_empty() {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    serde_json::from_slice(bytes)
        .map_err(|err| ApiError::BadRequest(format!("Invalid JSON in the request body: {err}")))
}

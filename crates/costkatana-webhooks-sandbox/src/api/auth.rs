//! `Authorization: Bearer <key>` on every route, answered as the live
//! API's guard answers: no token, 401 `No authentication token provided`;
//! another key, 401 `Authentication failed`.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::reply::ApiError;
use crate::shared::Shared;

/// Lets the request through when it carries the sandbox's key.
pub(crate) async fn require_key(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    match bearer_token(request.headers()) {
        None => ApiError::Unauthorized("No authentication token provided").into_response(),
        Some(token) if shared.api_key.matches(token) => next.run(request).await,
        Some(_) => ApiError::Unauthorized("Authentication failed").into_response(),
    }
}

/// The token of a `Bearer` header: `CostKatana-Auth` (the gateway's) first,
/// then `Authorization`.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    ["costkatana-auth", "authorization"]
        .into_iter()
        .find_map(|name| {
            headers
                .get(name)?
                .to_str()
                .ok()?
                .strip_prefix("Bearer ")
                .filter(|token| !token.is_empty())
        })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn bearer_tokens() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer_token(&headers), None);
        headers.insert("authorization", HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&headers), None);
        headers.insert("authorization", HeaderValue::from_static("Bearer dak_1"));
        assert_eq!(bearer_token(&headers), Some("dak_1"));
        headers.insert("costkatana-auth", HeaderValue::from_static("Bearer dak_2"));
        assert_eq!(bearer_token(&headers), Some("dak_2"));
    }
}

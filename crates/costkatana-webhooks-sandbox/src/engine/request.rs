//! A stored request made ready to send again, byte for byte.

use http::header::{HeaderMap, HeaderName, HeaderValue};

use crate::model::delivery::{DeliveryError, StoredRequest};
use crate::sender::{Endpoint, EndpointError, SignedRequest};

/// `stored` as the sender sends it; a request that cannot be sent (a URL
/// that is not http(s), a header that is not valid HTTP) fails as the live
/// service's HTTP client fails it, with a `request_error`.
pub(crate) fn outgoing(stored: &StoredRequest) -> Result<SignedRequest, DeliveryError> {
    let endpoint = Endpoint::parse(&stored.url).map_err(|err| match err {
        EndpointError::NotHttp { scheme, .. } => {
            DeliveryError::new("request_error", format!("Unsupported protocol {scheme}:"))
                .code("ERR_BAD_REQUEST")
        }
        other => DeliveryError::new("request_error", other.to_string()).code("ERR_INVALID_URL"),
    })?;
    let mut headers = HeaderMap::new();
    for (name, value) in &stored.headers {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            DeliveryError::new(
                "request_error",
                format!("Header name must be a valid HTTP token [\"{name}\"]"),
            )
            .code("ERR_INVALID_HTTP_TOKEN")
        })?;
        let value = HeaderValue::from_str(value).map_err(|_| {
            DeliveryError::new(
                "request_error",
                format!("Invalid character in header content [\"{name}\"]"),
            )
            .code("ERR_INVALID_CHAR")
        })?;
        headers.insert(name, value);
    }
    Ok(SignedRequest::from_parts(
        endpoint,
        headers,
        stored.body.clone(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(url: &str, headers: &[(&str, &str)]) -> StoredRequest {
        StoredRequest {
            url: url.into(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).into(), (*v).into()))
                .collect(),
            body: "{}".into(),
            timestamp: 0,
        }
    }

    #[test]
    fn what_cannot_be_sent_is_a_request_error() {
        let ok = outgoing(&stored("http://127.0.0.1:1/x", &[("X-A", "1")])).unwrap();
        assert_eq!(ok.headers()["x-a"], "1");
        let ftp = outgoing(&stored("ftp://example.com/", &[])).unwrap_err();
        assert_eq!(
            (ftp.kind, ftp.message.as_str()),
            ("request_error", "Unsupported protocol ftp:")
        );
        let name = outgoing(&stored("http://127.0.0.1:1/", &[("bad name", "1")])).unwrap_err();
        assert_eq!(name.code.as_deref(), Some("ERR_INVALID_HTTP_TOKEN"));
        let value = outgoing(&stored("http://127.0.0.1:1/", &[("X-A", "a\nb")])).unwrap_err();
        assert_eq!(value.code.as_deref(), Some("ERR_INVALID_CHAR"));
    }
}

//! Sending a request, following redirects as the live sender's HTTP client
//! (axios over follow-redirects) follows them: a 301 or 302 after a POST
//! and any 303 become a GET without a body or its `Content-*` headers; a
//! 307 or 308 keeps the request; credentials are dropped when the host
//! changes. Followed here rather than by reqwest so that the URL of the
//! last hop is known, and with it the address in an error.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderMap, AUTHORIZATION, COOKIE, LOCATION, PROXY_AUTHORIZATION};
use http::{Method, StatusCode};

use super::{Sender, SignedRequest};

/// What the live sender's client says when redirects run out.
pub(super) const TOO_MANY_REDIRECTS: &str = "Maximum number of redirects exceeded";

/// How a send ended.
pub(super) enum Sent {
    /// An answer that is not a redirect to follow.
    Answered(reqwest::Response),
    /// No answer.
    Failed(reqwest::Error),
    /// More redirects than the sender follows.
    TooManyRedirects,
}

impl Sender {
    /// Sends `request` (within `timeout` in all, when given), following up
    /// to the sender's number of redirects; how it ended, and the URL of
    /// the last request made.
    pub(super) async fn send(
        &self,
        request: &SignedRequest,
        timeout: Option<Duration>,
    ) -> (Sent, reqwest::Url) {
        let started = Instant::now();
        let mut url = request.endpoint().url().clone();
        let mut method = Method::POST;
        let mut headers = request.headers().clone();
        let mut body: Option<Bytes> = Some(request.body().clone());
        let mut hops = 0;
        loop {
            let mut builder = self
                .client
                .request(method.clone(), url.clone())
                .headers(headers.clone());
            if let Some(body) = &body {
                builder = builder.body(body.clone());
            }
            if let Some(timeout) = timeout {
                builder = builder.timeout(timeout.saturating_sub(started.elapsed()));
            }
            let response = match builder.send().await {
                Ok(response) => response,
                Err(err) => return (Sent::Failed(err), url),
            };
            let status = response.status();
            let next = redirect_target(&response, &url);
            let Some(next) = next.filter(|_| self.redirects > 0) else {
                return (Sent::Answered(response), url);
            };
            if hops == self.redirects {
                return (Sent::TooManyRedirects, url);
            }
            hops += 1;
            let to_get = matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND)
                && method == Method::POST
                || status == StatusCode::SEE_OTHER && method != Method::HEAD;
            if to_get {
                method = Method::GET;
                body = None;
                drop_content_headers(&mut headers);
            }
            if next.host_str() != url.host_str()
                || next.port_or_known_default() != url.port_or_known_default()
            {
                for name in [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION] {
                    headers.remove(name);
                }
            }
            url = next;
        }
    }
}

/// Where a redirect answer points, resolved against `url`; `None` for any
/// other answer.
fn redirect_target(response: &reqwest::Response, url: &reqwest::Url) -> Option<reqwest::Url> {
    let status = response.status();
    if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = response.headers().get(LOCATION)?.to_str().ok()?;
    url.join(location).ok()
}

fn drop_content_headers(headers: &mut HeaderMap) {
    let content: Vec<_> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("content-"))
        .cloned()
        .collect();
    for name in content {
        headers.remove(name);
    }
}

//! What an adapter knows of a request beyond its method, headers and body.

use std::net::IpAddr;

/// The facts about a request that only the server knows: where it came
/// from and the path it was sent to. [`Receiver::receive_with`] keeps the
/// address beside a refused request, and names the request's span after
/// the path (`POST /webhooks/costkatana`).
///
/// [`Receiver::receive_with`]: super::Receiver::receive_with
///
/// ```
/// use costkatana_webhooks::receiver::RequestInfo;
///
/// let info = RequestInfo::new()
///     .remote("203.0.113.7".parse().unwrap())
///     .path("/webhooks/costkatana");
/// assert_eq!(info.path, Some("/webhooks/costkatana"));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestInfo<'a> {
    /// The peer's address.
    pub remote: Option<IpAddr>,
    /// The request's path, without its query.
    pub path: Option<&'a str>,
}

impl<'a> RequestInfo<'a> {
    /// Nothing known.
    pub fn new() -> Self {
        RequestInfo::default()
    }

    /// The peer's address.
    #[must_use]
    pub fn remote(mut self, remote: IpAddr) -> Self {
        self.remote = Some(remote);
        self
    }

    /// The request's path.
    #[must_use]
    pub fn path(mut self, path: &'a str) -> Self {
        self.path = Some(path);
        self
    }
}

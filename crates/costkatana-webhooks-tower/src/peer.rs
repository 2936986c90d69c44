//! The peer's address, carried in a request's extensions.

use std::net::SocketAddr;

/// The address a request came from, in its extensions: this crate's
/// `serve` puts it there, and [`WebhookEndpoint`](crate::WebhookEndpoint) hands it to the
/// receiver, whose [rejection log](costkatana_webhooks::Receiver::rejections)
/// keeps it beside a refused request. Behind a proxy, insert the client's
/// address yourself (from a header you trust) in a layer before the
/// endpoint.
///
/// ```
/// use costkatana_webhooks_tower::PeerAddr;
///
/// let mut request = http::Request::new(());
/// request.extensions_mut().insert(PeerAddr("203.0.113.7:443".parse().unwrap()));
/// assert_eq!(request.extensions().get::<PeerAddr>().unwrap().0.port(), 443);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

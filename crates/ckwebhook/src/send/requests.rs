//! The requests `ckwebhook send` makes: a fresh sample event, or a body
//! from a file, signed for the endpoint with the user's headers.

use costkatana_webhooks::samples::{sample_event, Shape};
use costkatana_webhooks::{EventType, Payload, Scheme};
use costkatana_webhooks_sandbox::sender::{Endpoint, SignedRequest};
use http::HeaderMap;

use crate::error::CliError;
use crate::util::{now_ms, uuid4};

/// Everything needed to make and sign requests.
pub(crate) struct RequestMaker {
    pub(crate) endpoint: Endpoint,
    /// The user's `--header`s.
    pub(crate) custom: HeaderMap,
    pub(crate) secret: String,
    pub(crate) scheme: Scheme,
    pub(crate) shape: Shape,
    /// The type of the sample events; `system.error` when none was given.
    pub(crate) event_type: Option<EventType>,
}

impl RequestMaker {
    /// A fresh sample event (new id, occurring now) and a label for it.
    pub(crate) fn sample(&self) -> Result<(Vec<u8>, String), CliError> {
        let ty = self.event_type.clone().unwrap_or(EventType::SystemError);
        // The sender's ids: `<type with underscores>_<uuid4>`.
        let id = format!("{}_{}", ty.as_str().replace('.', "_"), uuid4()?);
        let body = sample_event(&ty, self.shape, &id, now_ms());
        Ok((body.into_bytes(), format!("{ty} {id}")))
    }

    /// The request the sender would make for `body`, signed now.
    pub(crate) fn sign(&self, body: Vec<u8>) -> SignedRequest {
        SignedRequest::new(
            self.endpoint.clone(),
            self.scheme,
            &self.secret,
            now_ms(),
            body,
        )
        .with_headers(&self.custom)
    }

    /// A fresh sample event, signed now.
    pub(crate) fn fresh_event(&self) -> Result<SignedRequest, CliError> {
        let (body, _) = self.sample()?;
        Ok(self.sign(body))
    }
}

/// A label for a body from a file: its type and id when it is an event.
pub(crate) fn label_for(body: &[u8]) -> String {
    match Payload::parse(body) {
        Payload::Event(event) => format!(
            "{} {}",
            event.event_type,
            event.id.as_deref().unwrap_or("(no id)")
        ),
        Payload::Template(_) => "template body".into(),
        _ => "body from file".into(),
    }
}

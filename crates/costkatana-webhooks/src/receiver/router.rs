//! Routing verified deliveries to the user's async handlers.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::{Category, ConfigError, Event, EventType, Payload};

use super::Delivery;

/// The error a handler returns. Anything that converts into a boxed error
/// (`String`, `&str`, any `std::error::Error`) converts into it.
///
/// Its message is logged; it is never sent to the sender.
///
/// ```
/// use costkatana_webhooks::receiver::HandlerError;
/// let err = HandlerError::from("database unavailable");
/// assert_eq!(err.to_string(), "database unavailable");
/// ```
pub struct HandlerError(Box<dyn std::error::Error + Send + Sync>);

impl<E: Into<Box<dyn std::error::Error + Send + Sync>>> From<E> for HandlerError {
    fn from(err: E) -> Self {
        HandlerError(err.into())
    }
}

impl fmt::Debug for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// What a handler's future resolves to.
pub type HandlerResult = Result<(), HandlerError>;

pub(crate) type BoxHandlerFuture = Pin<Box<dyn Future<Output = HandlerResult> + Send>>;
type EventHandler = Arc<dyn Fn(Event, Delivery) -> BoxHandlerFuture + Send + Sync>;
type FallbackHandler = Arc<dyn Fn(Payload, Delivery) -> BoxHandlerFuture + Send + Sync>;

/// Maps event types and categories to async handlers, with a required
/// fallback for everything else.
///
/// A handler for an exact type wins over its category's handler; the
/// fallback receives unknown types, template bodies, JSON that is not an
/// event, and types no handler is registered for. Registering a type or a
/// category twice, or no fallback, is reported when the receiver is built.
///
/// ```
/// use costkatana_webhooks::receiver::{Delivery, HandlerError, Router};
/// use costkatana_webhooks::{Category, Event, EventType, Payload};
///
/// let router = Router::new()
///     .on(EventType::BudgetExceeded, |event: Event, _delivery: Delivery| async move {
///         println!("over budget: {:?}", event.data.budget());
///         Ok::<_, HandlerError>(())
///     })
///     .on_category(Category::Security, |event: Event, delivery: Delivery| async move {
///         // A header configured on the sender, such as Authorization:
///         let _auth = delivery.header("authorization");
///         println!("security event {}", event.event_type);
///         Ok::<_, HandlerError>(())
///     })
///     .fallback(|payload: Payload, _delivery: Delivery| async move {
///         println!("something else: {payload:?}");
///         Ok::<_, HandlerError>(())
///     });
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct Router {
    types: HashMap<EventType, EventHandler>,
    categories: HashMap<Category, EventHandler>,
    fallback: Option<FallbackHandler>,
    duplicates: Vec<String>,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("types", &self.types.keys().collect::<Vec<_>>())
            .field("categories", &self.categories.keys().collect::<Vec<_>>())
            .field("fallback", &self.fallback.is_some())
            .finish()
    }
}

impl Router {
    /// An empty router.
    pub fn new() -> Self {
        Router::default()
    }

    /// Handles events of `event_type` with `handler`.
    pub fn on<F, Fut, E>(mut self, event_type: EventType, handler: F) -> Self
    where
        F: Fn(Event, Delivery) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<HandlerError>,
    {
        if self.types.contains_key(&event_type) {
            self.duplicates.push(format!("event type {event_type}"));
        }
        self.types.insert(event_type, boxed(handler));
        self
    }

    /// Handles every event of `category` that has no handler of its own.
    pub fn on_category<F, Fut, E>(mut self, category: Category, handler: F) -> Self
    where
        F: Fn(Event, Delivery) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<HandlerError>,
    {
        if self.categories.contains_key(&category) {
            self.duplicates.push(format!("category {category}"));
        }
        self.categories.insert(category, boxed(handler));
        self
    }

    /// Handles everything else: unknown or unrouted types, template bodies,
    /// JSON that is not an event, bytes that are not JSON. Required.
    pub fn fallback<F, Fut, E>(mut self, handler: F) -> Self
    where
        F: Fn(Payload, Delivery) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<HandlerError>,
    {
        if self.fallback.is_some() {
            self.duplicates.push("fallback".to_owned());
        }
        self.fallback = Some(Arc::new(move |payload, delivery| {
            let future = handler(payload, delivery);
            Box::pin(async move { future.await.map_err(Into::into) })
        }));
        self
    }

    /// Checks the registrations: no duplicates, a fallback present.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if !self.duplicates.is_empty() {
            return Err(ConfigError::new(format!(
                "the router registers a handler twice for: {}",
                self.duplicates.join(", ")
            )));
        }
        if self.fallback.is_none() {
            return Err(ConfigError::new(
                "the router has no fallback handler: add .fallback(..) to receive unknown types, \
                 template bodies and other JSON",
            ));
        }
        Ok(())
    }

    /// The future of the handler for `payload`.
    pub(crate) fn dispatch(&self, payload: Payload, delivery: Delivery) -> BoxHandlerFuture {
        if let Payload::Event(event) = payload {
            let handler = self
                .types
                .get(&event.event_type)
                .or_else(|| self.categories.get(&event.event_type.category()));
            if let Some(handler) = handler {
                return handler(*event, delivery);
            }
            return self.call_fallback(Payload::Event(event), delivery);
        }
        self.call_fallback(payload, delivery)
    }

    fn call_fallback(&self, payload: Payload, delivery: Delivery) -> BoxHandlerFuture {
        match &self.fallback {
            Some(fallback) => fallback(payload, delivery),
            // `validate` guarantees a fallback before any dispatch.
            None => Box::pin(async { Err(HandlerError::from("no fallback handler")) }),
        }
    }
}

fn boxed<F, Fut, E>(handler: F) -> EventHandler
where
    F: Fn(Event, Delivery) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<HandlerError>,
{
    Arc::new(move |event, delivery| {
        let future = handler(event, delivery);
        Box::pin(async move { future.await.map_err(Into::into) })
    })
}

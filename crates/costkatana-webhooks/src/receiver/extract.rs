//! What a handler can ask for: one trait, implemented once per argument
//! type, from which the handler impls are generated for any sequence of
//! arguments (as axum's `FromRequestParts` does for its handlers).

use std::any::{type_name, Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use super::{Delivery, HandlerError};
use crate::{Event, Payload};

/// An argument a handler can ask for.
///
/// A handler is an async function of any sequence of arguments that
/// implement this trait for its input (`In` is [`Event`] for a route and
/// [`Payload`] for the fallback). Each argument is taken from the delivery
/// being handled ([`DeliveryParts`]) just before the call, and says at build
/// time what it needs from the receiver ([`Requirements`]), so a handler that
/// can never get its arguments is reported by `build`, naming the type.
///
/// | argument | gets | needs |
/// |---|---|---|
/// | [`Event`] | the event (routes only) | — |
/// | [`Payload`] | the classified body (routes and the fallback) | — |
/// | [`Delivery`] | scheme, timestamp, captured headers, raw body | — |
/// | [`Shared<T>`] | a clone of shared state | [`share(..)`](super::ReceiverBuilder::share) of a `T` |
/// | [`InboxAttempt`] | which inbox entry and attempt this run is | inbox mode |
///
/// Arguments are owned values, so a handler's future is `'static` and
/// borrows nothing from the receiver; a value that must outlive the call on
/// the receiver's side too (such as a transaction the receiver commits
/// after the handler returns) is a handle sharing its state with the
/// receiver (an `Arc` inside), not a borrow.
///
/// Implement it for your own types to derive an argument from the others:
///
/// ```
/// use costkatana_webhooks::receiver::{DeliveryParts, FromDelivery, Requirements};
/// use costkatana_webhooks::{Delivery, Event, HandlerError, HandlerResult, Payload, Receiver};
///
/// /// The bearer token the sender was configured to send.
/// struct Bearer(String);
///
/// impl<In> FromDelivery<In> for Bearer {
///     fn from_delivery(parts: &mut DeliveryParts<'_, In>) -> Result<Self, HandlerError> {
///         let header = parts.delivery().header("authorization").unwrap_or_default();
///         match header.strip_prefix("Bearer ") {
///             Some(token) => Ok(Bearer(token.to_owned())),
///             None => Err(HandlerError::refuse("no bearer token")),
///         }
///     }
/// }
///
/// async fn on_alert(Bearer(token): Bearer, event: Event) -> HandlerResult {
///     println!("{} with a token of {} bytes", event.event_type, token.len());
///     Ok(())
/// }
///
/// let receiver = Receiver::builder()
///     .secret("s3cret")
///     .on("cost.alert", on_alert)
///     .fallback(|_: Payload| async { Ok(()) })
///     .build()?;
/// # Ok::<(), costkatana_webhooks::ConfigError>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an argument a webhook handler for `{In}` can take",
    note = "handler arguments are Event (routes only), Payload, Delivery, Shared<T> and InboxAttempt, in any order, each at most once"
)]
pub trait FromDelivery<In>: Sized {
    /// Takes the argument from the delivery. An error fails the call as
    /// the handler's own error would (a refusal is not retried).
    ///
    /// # Errors
    ///
    /// What the argument cannot be made from this delivery.
    fn from_delivery(parts: &mut DeliveryParts<'_, In>) -> Result<Self, HandlerError>;

    /// Says what the argument needs from the receiver, checked when it is
    /// built. The default needs nothing.
    fn require(needs: &mut Requirements) {
        let _ = needs;
    }
}

/// The delivery a handler's arguments are taken from.
///
/// ```
/// use costkatana_webhooks::receiver::{DeliveryParts, FromDelivery};
/// use costkatana_webhooks::{HandlerError, Scheme};
///
/// struct SignedWith(Scheme);
///
/// impl<In> FromDelivery<In> for SignedWith {
///     fn from_delivery(parts: &mut DeliveryParts<'_, In>) -> Result<Self, HandlerError> {
///         Ok(SignedWith(parts.delivery().scheme()))
///     }
/// }
/// ```
pub struct DeliveryParts<'a, In> {
    input: Option<In>,
    delivery: Delivery,
    states: &'a States,
    attempt: Option<InboxAttempt>,
    transaction: Option<Arc<dyn Any + Send + Sync>>,
}

impl<'a, In> DeliveryParts<'a, In> {
    pub(crate) fn new(
        input: In,
        delivery: Delivery,
        states: &'a States,
        attempt: Option<InboxAttempt>,
        transaction: Option<Arc<dyn Any + Send + Sync>>,
    ) -> Self {
        DeliveryParts {
            input: Some(input),
            delivery,
            states,
            attempt,
            transaction,
        }
    }

    /// The handler's input (the event, or the fallback's payload), which
    /// only one argument can take; `None` once taken.
    pub fn take_input(&mut self) -> Option<In> {
        self.input.take()
    }

    /// The delivery's facts: scheme, timestamp, captured headers, raw body.
    pub fn delivery(&self) -> &Delivery {
        &self.delivery
    }

    /// A clone of the shared state of type `T`, if the receiver was given one.
    pub fn state<T: Clone + 'static>(&self) -> Option<T> {
        self.states.get::<T>()
    }

    /// The inbox entry and attempt being run, in inbox mode.
    pub fn inbox_attempt(&self) -> Option<InboxAttempt> {
        self.attempt
    }

    /// The handle of this attempt's transaction, as the inbox's backend
    /// made it (see
    /// [`AttemptTransaction`](crate::inbox::AttemptTransaction)), when the
    /// handler asked for one ([`Requirements::transaction`]) and it is of
    /// type `T`.
    pub fn transaction<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        Arc::clone(self.transaction.as_ref()?).downcast::<T>().ok()
    }
}

/// What a handler's arguments need from the receiver, gathered when a
/// handler is registered and checked by
/// [`ReceiverBuilder::build`](super::ReceiverBuilder::build).
///
/// ```
/// use costkatana_webhooks::receiver::{DeliveryParts, FromDelivery, Requirements};
/// use costkatana_webhooks::HandlerError;
///
/// #[derive(Clone)]
/// struct Pool;
///
/// /// A connection from the shared pool.
/// struct Conn;
///
/// impl<In> FromDelivery<In> for Conn {
///     fn from_delivery(parts: &mut DeliveryParts<'_, In>) -> Result<Self, HandlerError> {
///         parts.state::<Pool>().map(|_| Conn).ok_or_else(|| "no pool".into())
///     }
///
///     fn require(needs: &mut Requirements) {
///         needs.state::<Pool>(); // build() fails, naming Pool, without share(Pool)
///     }
/// }
/// ```
#[derive(Debug, Default)]
pub struct Requirements {
    inputs: usize,
    states: Vec<StateType>,
    inbox_only: Vec<&'static str>,
    transaction: Option<&'static str>,
}

impl Requirements {
    /// The argument takes the handler's input; a handler may have one such
    /// argument.
    pub fn input(&mut self) {
        self.inputs += 1;
    }

    /// The argument needs shared state of type `T`.
    pub fn state<T: 'static>(&mut self) {
        self.states.push(StateType::of::<T>());
    }

    /// The argument exists only in inbox mode; `what` names it.
    pub fn inbox_mode(&mut self, what: &'static str) {
        self.inbox_only.push(what);
    }

    /// The argument writes through the attempt's transaction (an inbox
    /// whose backend commits a handler's writes with its done mark); `what`
    /// names it.
    pub fn transaction(&mut self, what: &'static str) {
        self.inbox_only.push(what);
        self.transaction = Some(what);
    }

    /// Whether the handler's writes go through the attempt's transaction.
    pub(crate) fn is_transactional(&self) -> bool {
        self.transaction.is_some()
    }

    /// The mistakes of a handler for `route` with these needs, in a
    /// receiver whose mode is `mode`.
    pub(crate) fn mistakes(&self, route: &str, states: &States, mode: ModeFacts) -> Vec<String> {
        let inbox = mode.inbox;
        let mut mistakes = Vec::new();
        if self.inputs > 1 {
            mistakes.push(format!(
                "the handler for {route} takes its event or payload {} times: take it once",
                self.inputs
            ));
        }
        for state in &self.states {
            if !states.contains(state) {
                mistakes.push(format!(
                    "the handler for {route} takes Shared<{}>, but no such state was given: add \
                     .share(..) with a value of that type",
                    state.name
                ));
            }
        }
        if !inbox {
            for what in &self.inbox_only {
                mistakes.push(format!(
                    "the handler for {route} takes {what}, which exists only in inbox mode: add \
                     .inbox(..) or remove the argument"
                ));
            }
        } else if let Some(what) = self.transaction.filter(|_| !mode.transactions) {
            mistakes.push(format!(
                "the handler for {route} takes {what}, but this inbox's backend cannot commit a \
                 handler's writes with its done mark"
            ));
        }
        mistakes
    }
}

/// What the mode lets handlers have, for [`Requirements::mistakes`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ModeFacts {
    /// Inbox mode.
    pub(crate) inbox: bool,
    /// An inbox whose backend supports transactional handlers.
    pub(crate) transactions: bool,
}

/// An argument asked for after another took it, which `build` rules out.
fn taken(what: &str) -> HandlerError {
    HandlerError::from(format!(
        "the handler's {what} was already taken by another argument"
    ))
}

impl FromDelivery<Event> for Event {
    fn from_delivery(parts: &mut DeliveryParts<'_, Event>) -> Result<Self, HandlerError> {
        parts.take_input().ok_or_else(|| taken("event"))
    }

    fn require(needs: &mut Requirements) {
        needs.input();
    }
}

impl FromDelivery<Payload> for Payload {
    fn from_delivery(parts: &mut DeliveryParts<'_, Payload>) -> Result<Self, HandlerError> {
        parts.take_input().ok_or_else(|| taken("payload"))
    }

    fn require(needs: &mut Requirements) {
        needs.input();
    }
}

/// A route's handler may take the event as a [`Payload`] too.
impl FromDelivery<Event> for Payload {
    fn from_delivery(parts: &mut DeliveryParts<'_, Event>) -> Result<Self, HandlerError> {
        let event = parts.take_input().ok_or_else(|| taken("event"))?;
        Ok(Payload::Event(Box::new(event)))
    }

    fn require(needs: &mut Requirements) {
        needs.input();
    }
}

impl<In> FromDelivery<In> for Delivery {
    fn from_delivery(parts: &mut DeliveryParts<'_, In>) -> Result<Self, HandlerError> {
        Ok(parts.delivery.clone())
    }
}

impl<In, T: Clone + Send + Sync + 'static> FromDelivery<In> for Shared<T> {
    fn from_delivery(parts: &mut DeliveryParts<'_, In>) -> Result<Self, HandlerError> {
        // `build` checked that the state was given; this only guards a bypass.
        parts.state::<T>().map(Shared).ok_or_else(|| {
            HandlerError::from(format!(
                "no state of type {} was registered",
                type_name::<T>()
            ))
        })
    }

    fn require(needs: &mut Requirements) {
        needs.state::<T>();
    }
}

impl<In> FromDelivery<In> for InboxAttempt {
    fn from_delivery(parts: &mut DeliveryParts<'_, In>) -> Result<Self, HandlerError> {
        parts
            .inbox_attempt()
            .ok_or_else(|| HandlerError::from("InboxAttempt exists only in inbox mode"))
    }

    fn require(needs: &mut Requirements) {
        needs.inbox_mode("InboxAttempt");
    }
}

/// Shared application state for handlers, modelled on axum's `State` (and
/// named apart from it, so both can be in scope): register a value with
/// [`ReceiverBuilder::share`](super::ReceiverBuilder::share), and a handler
/// with a `Shared<T>` argument gets a clone of it on every call. Make `T`
/// cheap to clone: a connection pool, an HTTP client, or a struct of such
/// handles (or an `Arc`).
///
/// ```
/// use costkatana_webhooks::{Event, EventType, HandlerResult, Payload, Receiver, Shared};
///
/// #[derive(Clone)]
/// struct App {
///     http: reqwest_like::Client,
/// }
/// # mod reqwest_like { #[derive(Clone, Default)] pub struct Client; }
///
/// async fn on_budget(Shared(app): Shared<App>, event: Event) -> HandlerResult {
///     let _client = &app.http;
///     println!("over budget: {:?}", event.title);
///     Ok(())
/// }
///
/// let receiver = Receiver::builder()
///     .secret("whsec_...")
///     .share(App { http: Default::default() })
///     .on(EventType::BudgetExceeded, on_budget)
///     .fallback(|_: Payload| async { Ok(()) })
///     .build()?;
/// # Ok::<(), costkatana_webhooks::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shared<T>(pub T);

impl<T> std::ops::Deref for Shared<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Shared<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// Which inbox entry and attempt a handler runs for, in inbox mode: for
/// logs, and as an idempotency key downstream that differs per entry.
///
/// ```
/// use costkatana_webhooks::receiver::InboxAttempt;
/// use costkatana_webhooks::{Event, HandlerResult};
///
/// async fn on_alert(attempt: InboxAttempt, event: Event) -> HandlerResult {
///     println!("entry {} attempt {}: {}", attempt.entry_id, attempt.attempt, event.event_type);
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct InboxAttempt {
    /// The inbox entry's id.
    pub entry_id: i64,
    /// This attempt's number, from 1.
    pub attempt: u32,
}

impl InboxAttempt {
    pub(crate) fn new(entry_id: i64, attempt: u32) -> Self {
        InboxAttempt { entry_id, attempt }
    }
}

/// The state values registered on a receiver, one per type.
#[derive(Default)]
pub(crate) struct States(HashMap<TypeId, Box<dyn Any + Send + Sync>>);

impl States {
    pub(crate) fn insert<T: Clone + Send + Sync + 'static>(&mut self, value: T) {
        self.0.insert(TypeId::of::<T>(), Box::new(value));
    }

    fn contains(&self, ty: &StateType) -> bool {
        self.0.contains_key(&ty.id)
    }

    fn get<T: Clone + 'static>(&self) -> Option<T> {
        self.0.get(&TypeId::of::<T>())?.downcast_ref::<T>().cloned()
    }
}

/// A state type a handler asks for, named for error messages.
#[derive(Debug, Clone, Copy)]
struct StateType {
    id: TypeId,
    name: &'static str,
}

impl StateType {
    fn of<T: 'static>() -> Self {
        StateType {
            id: TypeId::of::<T>(),
            name: type_name::<T>(),
        }
    }
}

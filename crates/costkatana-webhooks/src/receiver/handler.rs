//! What a handler is: an async function of the event (or payload), and
//! optionally its delivery and shared application state.

use std::any::{type_name, Any, TypeId};
use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use crate::{Event, Payload};

use super::Delivery;

/// The error a handler returns.
///
/// `?` converts any `std::error::Error + Send + Sync + 'static` into it, and
/// so do `String` and `&str`. An ordinary error is answered 500
/// `handler_failed`, so the sender retries; [`HandlerError::refuse`] says
/// the delivery can never succeed, and is answered 422 `refused`, so the
/// sender stops retrying.
///
/// Its message is logged (through `tracing`), never sent to the sender.
///
/// ```
/// use costkatana_webhooks::{Event, HandlerError, HandlerResult};
///
/// async fn on_event(event: Event) -> HandlerResult {
///     let tenant = event.project_id.as_deref().ok_or("the event names no project")?;
///     if tenant == "deleted-project" {
///         return Err(HandlerError::refuse(format!("project {tenant} no longer exists")));
///     }
///     let amount: f64 = "12.5".parse()?; // any std::error::Error converts
///     println!("{tenant}: {amount}");
///     Ok(())
/// }
/// ```
pub struct HandlerError {
    error: Box<dyn StdError + Send + Sync>,
    refused: bool,
}

impl<E: Into<Box<dyn StdError + Send + Sync>>> From<E> for HandlerError {
    fn from(error: E) -> Self {
        HandlerError {
            error: error.into(),
            refused: false,
        }
    }
}

impl HandlerError {
    /// A permanent refusal: the delivery can never succeed (an unknown
    /// tenant, a payload the business rejects). It is answered 422
    /// `refused`, which the sender does not retry, and the event is
    /// remembered as done, so a later copy is answered as a duplicate.
    /// `reason` is logged, never sent.
    ///
    /// ```
    /// use costkatana_webhooks::HandlerError;
    /// let err = HandlerError::refuse("unknown tenant");
    /// assert!(err.is_refusal());
    /// assert_eq!(err.to_string(), "unknown tenant");
    /// ```
    pub fn refuse(reason: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        HandlerError {
            error: reason.into(),
            refused: true,
        }
    }

    /// Whether this is a permanent refusal rather than a failure to retry.
    ///
    /// ```
    /// use costkatana_webhooks::HandlerError;
    /// assert!(!HandlerError::from("database down").is_refusal());
    /// ```
    pub fn is_refusal(&self) -> bool {
        self.refused
    }

    /// The underlying error, whose `source()` chain leads to the cause.
    ///
    /// ```
    /// use costkatana_webhooks::HandlerError;
    /// let err = HandlerError::from(std::io::Error::other("disk full"));
    /// assert!(err.error().downcast_ref::<std::io::Error>().is_some());
    /// ```
    pub fn error(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &*self.error
    }

    /// The underlying error, owned.
    ///
    /// ```
    /// use costkatana_webhooks::HandlerError;
    /// let boxed = HandlerError::from("timeout").into_error();
    /// assert_eq!(boxed.to_string(), "timeout");
    /// ```
    pub fn into_error(self) -> Box<dyn StdError + Send + Sync> {
        self.error
    }
}

impl fmt::Debug for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerError")
            .field("error", &self.error)
            .field("refused", &self.refused)
            .finish()
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

/// What every handler returns: `Ok(())` once the event is handled.
///
/// ```
/// use costkatana_webhooks::{Event, HandlerResult};
/// async fn on_budget(event: Event) -> HandlerResult {
///     println!("{:?}", event.title);
///     Ok(())
/// }
/// ```
pub type HandlerResult = Result<(), HandlerError>;

/// Shared application state for handlers, modelled on axum's `State` (and
/// named apart from it, so both can be in scope): register a value with
/// [`ReceiverBuilder::share`](super::ReceiverBuilder::share), and a handler
/// whose first argument is `Shared<T>` gets a clone of it on every call. Make `T` cheap to clone: a connection pool, an HTTP client, or a
/// struct of such handles (or an `Arc`).
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

/// The boxed future of a handler call.
pub(crate) type HandlerFuture = Pin<Box<dyn Future<Output = HandlerResult> + Send>>;

/// An async function that handles `In` (an [`Event`] for a route, a
/// [`Payload`] for the fallback). `Args` tells the accepted shapes apart;
/// it is inferred, never written.
///
/// Four shapes are handlers, as `async fn`s or closures returning a
/// future of [`HandlerResult`]:
///
/// | shape | gets |
/// |---|---|
/// | `fn(In)` | the event |
/// | `fn(In, Delivery)` | the event and its [`Delivery`] (scheme, captured headers, raw body) |
/// | `fn(Shared<T>, In)` | shared state and the event |
/// | `fn(Shared<T>, In, Delivery)` | all three |
///
/// ```
/// use costkatana_webhooks::{Delivery, Event, HandlerResult, Payload, Receiver, Shared};
///
/// async fn alone(event: Event) -> HandlerResult { Ok(()) }
/// async fn with_delivery(event: Event, delivery: Delivery) -> HandlerResult { Ok(()) }
/// async fn with_state(Shared(name): Shared<&'static str>, event: Event) -> HandlerResult { Ok(()) }
///
/// let receiver = Receiver::builder()
///     .secret("s3cret")
///     .share("billing")
///     .on("cost.alert", alone)
///     .on("budget.warning", with_delivery)
///     .on("budget.exceeded", with_state)
///     .on("security.*", |event: Event| async move { println!("{}", event.event_type); Ok(()) })
///     .fallback(|payload: Payload, _delivery: Delivery| async move { Ok(()) })
///     .build()?;
/// # Ok::<(), costkatana_webhooks::ConfigError>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a webhook handler for `{In}`",
    note = "a handler is an async fn or closure taking ({In}), ({In}, Delivery), (Shared<T>, {In}) or (Shared<T>, {In}, Delivery), whose future is Send + 'static and resolves to HandlerResult",
    note = "a closure of two arguments needs the type of its first: |event: Event, delivery| ..."
)]
pub trait WebhookHandler<In, Args>: sealed::Call<In, Args> + Send + Sync + 'static {}

impl<H, In, Args> WebhookHandler<In, Args> for H where
    H: sealed::Call<In, Args> + Send + Sync + 'static
{
}

pub(crate) mod sealed {
    use super::{HandlerFuture, States};
    use crate::receiver::Delivery;

    /// How the receiver calls a handler; not nameable outside the crate.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not a webhook handler for `{In}`",
        note = "a handler is an async fn or closure taking ({In}), ({In}, Delivery), (Shared<T>, {In}) or (Shared<T>, {In}, Delivery), whose future is Send + 'static and resolves to HandlerResult"
    )]
    pub trait Call<In, Args> {
        /// Starts the handler.
        fn call(&self, input: In, delivery: Delivery, states: &States) -> HandlerFuture;

        /// The state type the handler takes, if any.
        fn state_type(&self) -> Option<super::StateType> {
            None
        }
    }
}

/// The state values registered on a receiver, one per type.
#[derive(Default)]
pub struct States(HashMap<TypeId, Box<dyn Any + Send + Sync>>);

impl States {
    pub(crate) fn insert<T: Clone + Send + Sync + 'static>(&mut self, value: T) {
        self.0.insert(TypeId::of::<T>(), Box::new(value));
    }

    pub(crate) fn contains(&self, ty: &StateType) -> bool {
        self.0.contains_key(&ty.id)
    }

    fn get<T: Clone + 'static>(&self) -> Option<T> {
        self.0.get(&TypeId::of::<T>())?.downcast_ref::<T>().cloned()
    }
}

/// A state type a handler asks for, named for error messages.
#[derive(Debug, Clone, Copy)]
pub struct StateType {
    id: TypeId,
    pub(crate) name: &'static str,
}

impl StateType {
    fn of<T: 'static>() -> Self {
        StateType {
            id: TypeId::of::<T>(),
            name: type_name::<T>(),
        }
    }
}

/// Called only if the build-time check that every state is present was
/// bypassed; fails the delivery (500) rather than panicking.
fn missing_state<T>() -> HandlerFuture {
    let message = format!("no state of type {} was registered", type_name::<T>());
    Box::pin(async move { Err(HandlerError::from(message)) })
}

macro_rules! handler_shapes {
    ($($input:ty),*) => {$(
        impl<F, Fut> sealed::Call<$input, ($input,)> for F
        where
            F: Fn($input) -> Fut,
            Fut: Future<Output = HandlerResult> + Send + 'static,
        {
            fn call(&self, input: $input, _: Delivery, _: &States) -> HandlerFuture {
                Box::pin(self(input))
            }
        }

        impl<F, Fut> sealed::Call<$input, ($input, Delivery)> for F
        where
            F: Fn($input, Delivery) -> Fut,
            Fut: Future<Output = HandlerResult> + Send + 'static,
        {
            fn call(&self, input: $input, delivery: Delivery, _: &States) -> HandlerFuture {
                Box::pin(self(input, delivery))
            }
        }

        impl<F, Fut, T> sealed::Call<$input, (Shared<T>, $input)> for F
        where
            F: Fn(Shared<T>, $input) -> Fut,
            Fut: Future<Output = HandlerResult> + Send + 'static,
            T: Clone + Send + Sync + 'static,
        {
            fn call(&self, input: $input, _: Delivery, states: &States) -> HandlerFuture {
                match states.get::<T>() {
                    Some(state) => Box::pin(self(Shared(state), input)),
                    None => missing_state::<T>(),
                }
            }

            fn state_type(&self) -> Option<StateType> {
                Some(StateType::of::<T>())
            }
        }

        impl<F, Fut, T> sealed::Call<$input, (Shared<T>, $input, Delivery)> for F
        where
            F: Fn(Shared<T>, $input, Delivery) -> Fut,
            Fut: Future<Output = HandlerResult> + Send + 'static,
            T: Clone + Send + Sync + 'static,
        {
            fn call(&self, input: $input, delivery: Delivery, states: &States) -> HandlerFuture {
                match states.get::<T>() {
                    Some(state) => Box::pin(self(Shared(state), input, delivery)),
                    None => missing_state::<T>(),
                }
            }

            fn state_type(&self) -> Option<StateType> {
                Some(StateType::of::<T>())
            }
        }
    )*};
}

handler_shapes!(Event, Payload);

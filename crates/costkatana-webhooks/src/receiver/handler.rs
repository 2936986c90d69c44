//! What a handler is: an async function of arguments taken from the
//! delivery ([`FromDelivery`]), and what it returns.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use super::extract::{DeliveryParts, FromDelivery, Requirements};

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

/// The boxed future of a handler call.
pub(crate) type HandlerFuture = Pin<Box<dyn Future<Output = HandlerResult> + Send>>;

/// An async function that handles `In` (an [`Event`](crate::Event) for a
/// route, a [`Payload`](crate::Payload) for the fallback). `Args` tells the
/// argument lists apart; it is inferred, never written.
///
/// A handler is an `async fn` or a closure returning a `Send + 'static`
/// future of [`HandlerResult`], whose arguments are any sequence (up to
/// eight) of types that implement [`FromDelivery`]: the event or payload,
/// its [`Delivery`](super::Delivery), [`Shared<T>`](super::Shared) state,
/// the [`InboxAttempt`](super::InboxAttempt), or your own. A closure names
/// the type of every argument.
///
/// ```
/// use costkatana_webhooks::{Delivery, Event, HandlerResult, Payload, Receiver, Shared};
///
/// async fn alone(event: Event) -> HandlerResult { Ok(()) }
/// async fn with_delivery(event: Event, delivery: Delivery) -> HandlerResult { Ok(()) }
/// async fn with_state(Shared(name): Shared<&'static str>, event: Event) -> HandlerResult { Ok(()) }
/// async fn delivery_first(delivery: Delivery, Shared(name): Shared<&'static str>, event: Event)
///     -> HandlerResult { Ok(()) }
///
/// let receiver = Receiver::builder()
///     .secret("s3cret")
///     .share("billing")
///     .on("cost.alert", alone)
///     .on("budget.warning", with_delivery)
///     .on("budget.exceeded", with_state)
///     .on("cost.spike_detected", delivery_first)
///     .on("security.*", |event: Event| async move { println!("{}", event.event_type); Ok(()) })
///     .fallback(|payload: Payload, _delivery: Delivery| async move { Ok(()) })
///     .build()?;
/// # Ok::<(), costkatana_webhooks::ConfigError>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a webhook handler for `{In}`",
    note = "a handler is an async fn or closure whose future is Send + 'static and resolves to HandlerResult, and whose arguments are Event (routes only), Payload, Delivery, Shared<T> or InboxAttempt, in any order, each at most once",
    note = "a closure names the type of every argument: |event: Event, delivery: Delivery| ..."
)]
pub trait WebhookHandler<In, Args>: sealed::Call<In, Args> + Send + Sync + 'static {}

impl<H, In, Args> WebhookHandler<In, Args> for H where
    H: sealed::Call<In, Args> + Send + Sync + 'static
{
}

pub(crate) mod sealed {
    use super::super::extract::{DeliveryParts, Requirements};
    use super::HandlerFuture;

    /// How the receiver calls a handler; not nameable outside the crate,
    /// so [`WebhookHandler`](super::WebhookHandler)'s message is the one a
    /// mistake shows.
    pub trait Call<In, Args> {
        /// Takes the arguments and starts the handler.
        fn call(&self, parts: DeliveryParts<'_, In>) -> HandlerFuture;

        /// What the arguments need from the receiver.
        fn require(&self, needs: &mut Requirements);
    }
}

/// One impl of [`sealed::Call`] per number of arguments, each generic over
/// the arguments' types.
macro_rules! impl_handler {
    ($($arg:ident),*) => {
        impl<F, Fut, In, $($arg,)*> sealed::Call<In, ($($arg,)*)> for F
        where
            F: Fn($($arg),*) -> Fut,
            Fut: Future<Output = HandlerResult> + Send + 'static,
            $($arg: FromDelivery<In>,)*
        {
            #[allow(non_snake_case, unused_mut, unused_variables)]
            fn call(&self, mut parts: DeliveryParts<'_, In>) -> HandlerFuture {
                $(
                    let $arg = match $arg::from_delivery(&mut parts) {
                        Ok(arg) => arg,
                        Err(err) => return Box::pin(std::future::ready(Err(err))),
                    };
                )*
                Box::pin(self($($arg),*))
            }

            #[allow(unused_variables)]
            fn require(&self, needs: &mut Requirements) {
                $($arg::require(needs);)*
            }
        }
    };
}

impl_handler!();
impl_handler!(A1);
impl_handler!(A1, A2);
impl_handler!(A1, A2, A3);
impl_handler!(A1, A2, A3, A4);
impl_handler!(A1, A2, A3, A4, A5);
impl_handler!(A1, A2, A3, A4, A5, A6);
impl_handler!(A1, A2, A3, A4, A5, A6, A7);
impl_handler!(A1, A2, A3, A4, A5, A6, A7, A8);

//! Which handler a delivery goes to: by event type, by category, else the
//! fallback.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::extract::{DeliveryParts, InboxAttempt, ModeFacts, Requirements, States};
use super::handler::{sealed::Call, HandlerFuture};
use super::{Delivery, DEFAULT_ATTEMPT_TIMEOUT};
use crate::{Category, ConfigError, Event, EventType, Payload};

/// What [`ReceiverBuilder::on`](super::ReceiverBuilder::on) routes: an
/// event type, a category, or a name as the Cost Katana docs spell it.
///
/// From a string: a dotted type name (`"budget.exceeded"`, aliases such as
/// `"savings.milestone_reached"` included), or a category as `"budget.*"`.
/// A name this version does not know is reported when the receiver is
/// built, since it is most often a typo; route a type that is newer than
/// this crate with `EventType::from("…")`.
///
/// ```
/// use costkatana_webhooks::{Category, EventSelector, EventType};
///
/// assert_eq!(EventSelector::from("budget.exceeded"), EventSelector::from(EventType::BudgetExceeded));
/// assert_eq!(EventSelector::from("usage.spike_detected"), EventSelector::from(EventType::UsageSpike));
/// assert_eq!(EventSelector::from("security.*"), EventSelector::from(Category::Security));
/// assert_eq!(EventSelector::from("budget.exceeded").to_string(), "budget.exceeded");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSelector(Selector);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Selector {
    Type(EventType),
    Category(Category),
    /// A name that is no known type or category, with why.
    Unknown(String),
}

impl From<EventType> for EventSelector {
    fn from(event_type: EventType) -> Self {
        EventSelector(Selector::Type(event_type))
    }
}

impl From<Category> for EventSelector {
    fn from(category: Category) -> Self {
        EventSelector(Selector::Category(category))
    }
}

impl From<&str> for EventSelector {
    fn from(name: &str) -> Self {
        if let Some(category) = name.strip_suffix(".*") {
            return match Category::from_name(category) {
                Category::Other(_) => EventSelector(Selector::Unknown(format!(
                    "{name:?} names no category this version knows ({}); route a newer one with \
                     Category::from_name({category:?})",
                    known(Category::KNOWN.iter().map(Category::to_string))
                ))),
                known => EventSelector(Selector::Category(known)),
            };
        }
        match EventType::from(name) {
            EventType::Other(_) => {
                let category = name.split('.').next().unwrap_or_default();
                let siblings: Vec<String> = EventType::KNOWN
                    .iter()
                    .filter(|ty| ty.category().as_str() == category)
                    .map(EventType::to_string)
                    .collect();
                let hint = if siblings.is_empty() {
                    "run `ckwebhook events` for the list".to_owned()
                } else {
                    format!("{category} types: {}", known(siblings.into_iter()))
                };
                EventSelector(Selector::Unknown(format!(
                    "{name:?} is no event type this version knows ({hint}); for a category write \
                     \"{category}.*\", and route a type newer than this crate with \
                     EventType::from({name:?})"
                )))
            }
            known => EventSelector(Selector::Type(known)),
        }
    }
}

impl From<String> for EventSelector {
    fn from(name: String) -> Self {
        EventSelector::from(name.as_str())
    }
}

impl fmt::Display for EventSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Selector::Type(ty) => write!(f, "{ty}"),
            Selector::Category(category) => write!(f, "{category}.*"),
            Selector::Unknown(why) => f.write_str(why),
        }
    }
}

fn known(names: impl Iterator<Item = String>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

/// A handler's call, its argument types erased.
type ErasedCall<In> = Arc<dyn Fn(DeliveryParts<'_, In>) -> HandlerFuture + Send + Sync>;

/// A registered handler, erased, and whether it writes through the
/// attempt's transaction.
struct Erased<In> {
    call: ErasedCall<In>,
    transactional: bool,
}

fn erase<In, Args, H>(handler: H, needs: &Requirements) -> Erased<In>
where
    H: Call<In, Args> + Send + Sync + 'static,
{
    Erased {
        call: Arc::new(move |parts| handler.call(parts)),
        transactional: needs.is_transactional(),
    }
}

/// The routing table, with the mistakes found while it was filled, which
/// [`Routes::validate`] reports.
pub(crate) struct Routes {
    types: HashMap<EventType, Erased<Event>>,
    categories: HashMap<Category, Erased<Event>>,
    fallback: Option<Erased<Payload>>,
    mistakes: Vec<String>,
    /// What each handler's arguments need, with the route it serves.
    needs: Vec<(String, Requirements)>,
    /// How long an inbox attempt may run: by type, by category, else the
    /// default.
    limits: Limits,
    /// The runs the testing kit waits on.
    #[cfg(feature = "testing")]
    pub(crate) runs: Arc<super::handler_runs::HandlerRuns>,
}

struct Limits {
    types: HashMap<EventType, Duration>,
    categories: HashMap<Category, Duration>,
    default: Duration,
}

impl Default for Routes {
    fn default() -> Self {
        Routes {
            types: HashMap::new(),
            categories: HashMap::new(),
            fallback: None,
            mistakes: Vec::new(),
            needs: Vec::new(),
            limits: Limits {
                types: HashMap::new(),
                categories: HashMap::new(),
                default: DEFAULT_ATTEMPT_TIMEOUT,
            },
            #[cfg(feature = "testing")]
            runs: Arc::default(),
        }
    }
}

impl fmt::Debug for Routes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Routes")
            .field("types", &self.types.keys().collect::<Vec<_>>())
            .field("categories", &self.categories.keys().collect::<Vec<_>>())
            .field("fallback", &self.fallback.is_some())
            .finish()
    }
}

impl Routes {
    pub(crate) fn on<Args, H>(&mut self, selector: EventSelector, handler: H)
    where
        H: Call<Event, Args> + Send + Sync + 'static,
    {
        let label = selector.to_string();
        let handler = self.erase(label.clone(), handler);
        let twice = match selector.0 {
            Selector::Type(ty) => self.types.insert(ty, handler).is_some(),
            Selector::Category(category) => self.categories.insert(category, handler).is_some(),
            Selector::Unknown(why) => {
                self.mistakes.push(why);
                false
            }
        };
        if twice {
            self.mistakes
                .push(format!("a handler for {label} is registered twice"));
        }
    }

    pub(crate) fn fallback<Args, H>(&mut self, handler: H)
    where
        H: Call<Payload, Args> + Send + Sync + 'static,
    {
        let handler = self.erase("the fallback".to_owned(), handler);
        if self.fallback.replace(handler).is_some() {
            self.mistakes
                .push("the fallback handler is registered twice".to_owned());
        }
    }

    /// Erases `handler`, keeping what its arguments need for `validate`.
    fn erase<In, Args, H>(&mut self, route: String, handler: H) -> Erased<In>
    where
        H: Call<In, Args> + Send + Sync + 'static,
    {
        let mut needs = Requirements::default();
        handler.require(&mut needs);
        let erased = erase(handler, &needs);
        self.needs.push((route, needs));
        erased
    }

    /// Attempts of the events `selector` picks may run for `limit`.
    pub(crate) fn time_limit_for(&mut self, selector: EventSelector, limit: Duration) {
        if limit.is_zero() {
            self.mistakes.push(format!(
                "the attempt time limit for {selector} must be longer than zero"
            ));
        }
        match selector.0 {
            Selector::Type(ty) => {
                self.limits.types.insert(ty, limit);
            }
            Selector::Category(category) => {
                self.limits.categories.insert(category, limit);
            }
            Selector::Unknown(why) => self.mistakes.push(why),
        }
    }

    /// Attempts of events no other limit covers may run for `limit`.
    pub(crate) fn default_time_limit(&mut self, limit: Duration) {
        if limit.is_zero() {
            self.mistakes
                .push("the attempt time limit must be longer than zero".to_owned());
        }
        self.limits.default = limit;
    }

    /// How long an attempt at `payload` may run: its type's limit, else its
    /// category's, else the default.
    pub(crate) fn time_limit(&self, payload: &Payload) -> Duration {
        let Payload::Event(event) = payload else {
            return self.limits.default;
        };
        let limits = &self.limits;
        limits
            .types
            .get(&event.event_type)
            .or_else(|| limits.categories.get(&event.event_type.category()))
            .copied()
            .unwrap_or(limits.default)
    }

    /// Reports every mistake: unknown names, duplicates, no fallback, an
    /// argument no handler can get (a state never given, an inbox-only
    /// argument outside inbox mode or a transaction the inbox cannot give,
    /// the event taken twice).
    pub(crate) fn validate(&self, states: &States, mode: ModeFacts) -> Result<(), ConfigError> {
        let mut mistakes = self.mistakes.clone();
        if self.fallback.is_none() {
            mistakes.push(
                "there is no fallback handler: add .fallback(..) to receive unknown types, \
                 template bodies and other JSON"
                    .to_owned(),
            );
        }
        for (route, needs) in &self.needs {
            mistakes.extend(needs.mistakes(route, states, mode));
        }
        if mistakes.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::new(mistakes.join("; ")))
        }
    }

    /// The handler that takes `payload`: the exact type's, else its
    /// category's, else the fallback (`None` only before `validate`).
    fn route(&self, payload: &Payload) -> Option<Route<'_>> {
        if let Payload::Event(event) = payload {
            let handler = self
                .types
                .get(&event.event_type)
                .or_else(|| self.categories.get(&event.event_type.category()));
            if let Some(handler) = handler {
                return Some(Route::Event(handler));
            }
        }
        self.fallback.as_ref().map(Route::Fallback)
    }

    /// Whether the handler that takes `payload` writes through the
    /// attempt's transaction.
    pub(crate) fn is_transactional(&self, payload: &Payload) -> bool {
        match self.route(payload) {
            Some(Route::Event(handler)) => handler.transactional,
            Some(Route::Fallback(handler)) => handler.transactional,
            None => false,
        }
    }

    /// The handler future for `payload`.
    pub(crate) fn dispatch(
        &self,
        payload: Payload,
        delivery: Delivery,
        states: &States,
        attempt: Option<InboxAttempt>,
        transaction: Option<Arc<dyn Any + Send + Sync>>,
    ) -> HandlerFuture {
        #[cfg(feature = "testing")]
        let key = self.runs.key_of(&delivery);
        let run = self.route_to_handler(payload, delivery, states, attempt, transaction);
        #[cfg(feature = "testing")]
        let run = self.runs.count(key, run);
        run
    }

    fn route_to_handler(
        &self,
        payload: Payload,
        delivery: Delivery,
        states: &States,
        attempt: Option<InboxAttempt>,
        transaction: Option<Arc<dyn Any + Send + Sync>>,
    ) -> HandlerFuture {
        match (self.route(&payload), payload) {
            (Some(Route::Event(handler)), Payload::Event(event)) => (handler.call)(
                DeliveryParts::new(*event, delivery, states, attempt, transaction),
            ),
            (Some(Route::Fallback(handler)), payload) => (handler.call)(DeliveryParts::new(
                payload,
                delivery,
                states,
                attempt,
                transaction,
            )),
            // `validate` guarantees a fallback before any dispatch.
            _ => Box::pin(async { Err("no fallback handler".into()) }),
        }
    }
}

/// Where a payload goes.
enum Route<'a> {
    Event(&'a Erased<Event>),
    Fallback(&'a Erased<Payload>),
}

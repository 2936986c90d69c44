//! Handler arguments: any sequence of them, each taken from the delivery,
//! and what a handler cannot get is reported when the receiver is built.

mod support;

use std::sync::{Arc, Mutex};

use costkatana_webhooks::receiver::{DeliveryParts, FromDelivery, InboxAttempt};
use costkatana_webhooks::{
    Delivery, Event, HandlerError, HandlerResult, Payload, Receiver, Scheme, Shared,
};
use support::{Request, SECRET};

/// What the handlers saw.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    fn push(&self, what: impl Into<String>) {
        self.0.lock().unwrap().push(what.into());
    }

    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

fn base() -> costkatana_webhooks::ReceiverBuilder {
    Receiver::builder()
        .secret(SECRET)
        .dangerously_disable_timestamp_check()
}

#[tokio::test]
async fn arguments_come_in_any_order_and_number() {
    let seen = Seen::default();
    let receiver = base()
        .share(seen.clone())
        .share(7_u32)
        .on(
            "cost.alert",
            |Shared(seen): Shared<Seen>, delivery: Delivery, event: Event| async move {
                seen.push(format!("{} {:?}", event.event_type, delivery.scheme()));
                Ok(())
            },
        )
        .on(
            "budget.exceeded",
            |delivery: Delivery, Shared(n): Shared<u32>, Shared(seen): Shared<Seen>| async move {
                seen.push(format!("{n} {}", !delivery.verified().body().is_empty()));
                Ok(())
            },
        )
        .on("budget.warning", |Shared(seen): Shared<Seen>| async move {
            seen.push("no event at all");
            Ok(())
        })
        .on(
            "cost.spike_detected",
            |payload: Payload, Shared(seen): Shared<Seen>| async move {
                seen.push(format!("payload {}", matches!(payload, Payload::Event(_))));
                Ok(())
            },
        )
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .unwrap();
    for (ty, id) in [
        (costkatana_webhooks::EventType::CostAlert, "e1"),
        (costkatana_webhooks::EventType::BudgetExceeded, "e2"),
        (costkatana_webhooks::EventType::BudgetWarning, "e3"),
        (costkatana_webhooks::EventType::CostSpikeDetected, "e4"),
    ] {
        let outcome = Request::of(ty, id).send(&receiver).await;
        assert_eq!(outcome.label(), "processed", "{outcome:?}");
    }
    assert_eq!(
        seen.all(),
        [
            format!("cost.alert {:?}", Scheme::Current),
            "7 true".to_owned(),
            "no event at all".to_owned(),
            "payload true".to_owned(),
        ]
    );
}

#[test]
fn a_state_never_shared_is_named_at_build() {
    #[derive(Clone)]
    struct Pool;
    let err = base()
        .on("cost.alert", |_: Shared<Pool>, _: Event| async { Ok(()) })
        .fallback(|_: Payload, _: Shared<String>| async { Ok(()) })
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("the handler for cost.alert takes Shared<")
            && err.contains("Pool>, but no such state was given"),
        "{err}"
    );
    assert!(
        err.contains("the handler for the fallback takes Shared<alloc::string::String>"),
        "{err}"
    );
}

#[test]
fn the_event_taken_twice_is_refused_at_build() {
    let err = base()
        .on("cost.alert", |_: Event, _: Payload| async { Ok(()) })
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the handler for cost.alert takes its event or payload 2 times: take it once"
    );
}

#[test]
fn an_inbox_only_argument_outside_inbox_mode_is_refused_at_build() {
    let err = base()
        .on("cost.alert", |_: InboxAttempt, _: Event| async { Ok(()) })
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("takes InboxAttempt, which exists only in inbox mode"),
        "{err}"
    );
}

/// A custom argument: the bearer token the sender was configured with.
struct Bearer(String);

impl<In> FromDelivery<In> for Bearer {
    fn from_delivery(parts: &mut DeliveryParts<'_, In>) -> Result<Self, HandlerError> {
        match parts.delivery().header("authorization") {
            Some(value) => Ok(Bearer(value.trim_start_matches("Bearer ").to_owned())),
            None => Err(HandlerError::refuse("no Authorization header")),
        }
    }
}

async fn with_token(Bearer(token): Bearer, Shared(seen): Shared<Seen>) -> HandlerResult {
    seen.push(token);
    Ok(())
}

#[tokio::test]
async fn a_custom_argument_is_taken_like_the_others_and_can_refuse() {
    let seen = Seen::default();
    let receiver = base()
        .share(seen.clone())
        .on("cost.alert", with_token)
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .unwrap();
    let mut request = Request::event("evt_token");
    request
        .headers
        .push(("Authorization".into(), "Bearer t0ken".into()));
    assert_eq!(request.send(&receiver).await.label(), "processed");
    assert_eq!(seen.all(), ["t0ken"]);
    // Without the header the argument refuses: answered as the handler's
    // own refusal would be.
    let refused = Request::event("evt_no_token").send(&receiver).await;
    assert_eq!(refused.label(), "refused");
}

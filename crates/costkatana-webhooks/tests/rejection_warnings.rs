//! The WARN lines of a misconfigured sender, rate-limited. Alone in its
//! test binary: tracing caches whether a log site is wanted per process,
//! and a test logging without a subscriber beside it would make this one's
//! lines vanish.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use costkatana_webhooks::signing::sign;
use costkatana_webhooks::{ManualClock, Payload, Receiver, Scheme};
use support::{NOW, SECRET};

const BODY: &str = r#"{"eventId":"evt_1","eventType":"cost.alert","data":{"amount":125.50}}"#;

fn receiver(clock: &Arc<ManualClock>) -> Receiver {
    Receiver::builder()
        .secret(SECRET)
        .clock(clock.clone())
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .unwrap()
}

/// Counts the WARN events it sees.
struct Warnings(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Warnings {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if *event.metadata().level() == tracing::Level::WARN {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[test]
fn a_misconfigured_sender_is_a_warning_once_every_ten_seconds() {
    use tracing_subscriber::layer::SubscriberExt;
    let warnings = Arc::new(AtomicUsize::new(0));
    let subscriber = tracing_subscriber::registry().with(Warnings(warnings.clone()));
    tracing::subscriber::with_default(subscriber, || {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(async {
                let clock = Arc::new(ManualClock::new(NOW));
                let receiver = receiver(&clock);
                let wrong = sign(Scheme::Current, "whsec_other", NOW, BODY.as_bytes());
                for _ in 0..50 {
                    receiver.receive("POST", &wrong, BODY).await;
                }
                assert_eq!(
                    warnings.load(Ordering::SeqCst),
                    1,
                    "one line for 50 refusals"
                );
                clock.advance_ms(10_000);
                receiver.receive("POST", &wrong, BODY).await;
                assert_eq!(warnings.load(Ordering::SeqCst), 2);
                // A request that is no sender's (a scanner's GET) stays at INFO.
                receiver.receive("GET", &[("Host", "x")], "").await;
                assert_eq!(warnings.load(Ordering::SeqCst), 2);
            });
    });
}

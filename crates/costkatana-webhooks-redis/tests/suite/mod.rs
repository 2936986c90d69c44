//! The claim / complete / release / lease / TTL cases every `DedupeStore`
//! must pass, generic over the store and over how its time passes: a
//! manual clock for the in-memory store, real time for Redis (short
//! durations, polled until the expected state, bounded).

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use costkatana_webhooks::dedupe::{Claim, ClaimToken, Completion, DedupeStore};
use costkatana_webhooks::ManualClock;

/// Longer than any test runs: never expires here.
const LONG: Duration = Duration::from_secs(3600);
/// Real time may be read this much early between our clock and Redis's.
const SKEW: Duration = Duration::from_millis(25);

/// How the store's time passes.
#[derive(Clone, Copy)]
pub enum Time<'a> {
    /// The store reads this clock; the suite moves it.
    Manual(&'a ManualClock),
    /// The store keeps real time (Redis): short durations, polled.
    Real,
}

impl Time<'_> {
    /// A lease or TTL that must end during the suite.
    pub fn short(self) -> Duration {
        match self {
            // Moka reclaims entries in real time too: keep that far away.
            Time::Manual(_) => Duration::from_secs(300),
            // Long enough that a stalled test thread does not see it end early.
            Time::Real => Duration::from_millis(500),
        }
    }

    /// Waits until `key`, which answers `before` now and whose state ends
    /// `d` after `since`, can be claimed afresh; claims it (for [`LONG`]).
    /// Checks that it answered `before` until then, and not fresh early.
    async fn fresh_after(
        self,
        store: &impl DedupeStore,
        key: &str,
        since: Instant,
        d: Duration,
        before: &Claim,
    ) -> ClaimToken {
        match self {
            Time::Manual(clock) => {
                let d = i64::try_from(d.as_millis()).unwrap();
                clock.advance_ms(d - 1);
                assert_eq!(&claim(store, key, LONG).await, before, "{key}: 1 ms early");
                clock.advance_ms(1);
                fresh(store, key, LONG).await
            }
            Time::Real => {
                let deadline = since + d + Duration::from_secs(5);
                loop {
                    match claim(store, key, LONG).await {
                        Claim::Fresh(token) => {
                            assert!(since.elapsed() + SKEW >= d, "{key}: fresh too early");
                            return token;
                        }
                        other => assert_eq!(&other, before, "{key}: while waiting"),
                    }
                    assert!(Instant::now() < deadline, "{key}: never freed");
                    tokio::time::sleep(Duration::from_millis(10)).await; // polling real time
                }
            }
        }
    }
}

async fn claim(store: &impl DedupeStore, key: &str, lease: Duration) -> Claim {
    store.claim(key, lease).await.expect("the store answers")
}

async fn fresh(store: &impl DedupeStore, key: &str, lease: Duration) -> ClaimToken {
    match claim(store, key, lease).await {
        Claim::Fresh(token) => token,
        other => panic!("{key}: expected a fresh claim, got {other:?}"),
    }
}

/// Every case, each on its own keys.
pub async fn run<S: DedupeStore>(store: Arc<S>, time: Time<'_>) {
    fresh_then_in_flight_then_done(&*store).await;
    one_of_many_concurrent_claims_wins(store.clone()).await;
    release_frees_the_key(&*store).await;
    done_until_the_ttl_then_fresh(&*store, time).await;
    an_expired_lease_is_claimed_afresh_and_the_old_token_is_void(&*store, time).await;
    an_unchallenged_expired_holder_still_completes(&*store, time).await;
    tokens_only_settle_their_own_key(&*store).await;
    namespaced_keys_do_not_collide(&*store).await;
    any_key_text_works(&*store).await;
}

async fn fresh_then_in_flight_then_done(store: &impl DedupeStore) {
    let token = fresh(store, "ns:event:a", LONG).await;
    assert_eq!(claim(store, "ns:event:a", LONG).await, Claim::InFlight);
    assert_eq!(claim(store, "ns:event:a", LONG).await, Claim::InFlight);
    assert_eq!(
        store.complete("ns:event:a", token, LONG).await.unwrap(),
        Completion::Recorded
    );
    assert_eq!(claim(store, "ns:event:a", LONG).await, Claim::Done);
    // Settling again changes nothing: the token no longer owns a claim.
    store.release("ns:event:a", token).await.unwrap();
    assert_eq!(
        store.complete("ns:event:a", token, LONG).await.unwrap(),
        Completion::Overtaken
    );
    assert_eq!(claim(store, "ns:event:a", LONG).await, Claim::Done);
}

async fn one_of_many_concurrent_claims_wins<S: DedupeStore>(store: Arc<S>) {
    async fn race<S: DedupeStore>(store: &Arc<S>) -> Vec<Claim> {
        let start = Arc::new(tokio::sync::Barrier::new(50));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (store, start) = (store.clone(), start.clone());
                tokio::spawn(async move {
                    start.wait().await;
                    claim(&*store, "ns:event:race", LONG).await
                })
            })
            .collect();
        let mut claims = Vec::new();
        for task in tasks {
            claims.push(task.await.unwrap());
        }
        claims
    }
    let claims = race(&store).await;
    let winners: Vec<_> = claims
        .iter()
        .filter_map(|c| match c {
            Claim::Fresh(token) => Some(*token),
            _ => None,
        })
        .collect();
    assert_eq!(winners.len(), 1, "{claims:?}");
    assert_eq!(claims.iter().filter(|c| **c == Claim::InFlight).count(), 49);
    store
        .complete("ns:event:race", winners[0], LONG)
        .await
        .unwrap();
    assert!(race(&store).await.iter().all(|c| *c == Claim::Done));
}

async fn release_frees_the_key(store: &impl DedupeStore) {
    let first = fresh(store, "ns:event:b", LONG).await;
    store.release("ns:event:b", first).await.unwrap();
    let second = fresh(store, "ns:event:b", LONG).await;
    assert_eq!(claim(store, "ns:event:b", LONG).await, Claim::InFlight);
    // The first token was released: it cannot release the second claim.
    store.release("ns:event:b", first).await.unwrap();
    assert_eq!(claim(store, "ns:event:b", LONG).await, Claim::InFlight);
    store.release("ns:event:b", second).await.unwrap();
    fresh(store, "ns:event:b", LONG).await;
}

async fn done_until_the_ttl_then_fresh(store: &impl DedupeStore, time: Time<'_>) {
    let token = fresh(store, "ns:event:c", LONG).await;
    let since = Instant::now();
    store
        .complete("ns:event:c", token, time.short())
        .await
        .unwrap();
    assert_eq!(claim(store, "ns:event:c", LONG).await, Claim::Done);
    time.fresh_after(store, "ns:event:c", since, time.short(), &Claim::Done)
        .await;
}

async fn an_expired_lease_is_claimed_afresh_and_the_old_token_is_void(
    store: &impl DedupeStore,
    time: Time<'_>,
) {
    let since = Instant::now();
    let old = fresh(store, "ns:event:d", time.short()).await;
    assert_eq!(claim(store, "ns:event:d", LONG).await, Claim::InFlight);
    let new = time
        .fresh_after(store, "ns:event:d", since, time.short(), &Claim::InFlight)
        .await;
    // The old holder outlived its lease and was overtaken: nothing changes.
    assert_eq!(
        store.complete("ns:event:d", old, LONG).await.unwrap(),
        Completion::Overtaken
    );
    assert_eq!(claim(store, "ns:event:d", LONG).await, Claim::InFlight);
    store.release("ns:event:d", old).await.unwrap();
    assert_eq!(claim(store, "ns:event:d", LONG).await, Claim::InFlight);
    store.complete("ns:event:d", new, LONG).await.unwrap();
    assert_eq!(claim(store, "ns:event:d", LONG).await, Claim::Done);
}

/// A holder that outlived its lease with nobody taking over still records
/// its success, so the next copy is a duplicate and not a second run.
async fn an_unchallenged_expired_holder_still_completes(store: &impl DedupeStore, time: Time<'_>) {
    let old = fresh(store, "ns:event:e", time.short()).await;
    // A probe claimed after it with the same lease: once the probe is
    // free, so is the key, without claiming the key to find out.
    let since = Instant::now();
    fresh(store, "ns:event:e-probe", time.short()).await;
    time.fresh_after(
        store,
        "ns:event:e-probe",
        since,
        time.short(),
        &Claim::InFlight,
    )
    .await;
    assert_eq!(
        store.complete("ns:event:e", old, LONG).await.unwrap(),
        Completion::Recorded
    );
    assert_eq!(claim(store, "ns:event:e", LONG).await, Claim::Done);
}

async fn tokens_only_settle_their_own_key(store: &impl DedupeStore) {
    let one = fresh(store, "ns:event:f1", LONG).await;
    fresh(store, "ns:event:f2", LONG).await;
    store.complete("ns:event:f2", one, LONG).await.unwrap();
    store.release("ns:event:f2", one).await.unwrap();
    assert_eq!(claim(store, "ns:event:f2", LONG).await, Claim::InFlight);
    assert_eq!(claim(store, "ns:event:f1", LONG).await, Claim::InFlight);
}

async fn namespaced_keys_do_not_collide(store: &impl DedupeStore) {
    let a = fresh(store, "alpha:event:1", LONG).await;
    fresh(store, "beta:event:1", LONG).await;
    fresh(store, "alpha:event:10", LONG).await;
    fresh(store, "alpha:signature:1", LONG).await;
    store.complete("alpha:event:1", a, LONG).await.unwrap();
    assert_eq!(claim(store, "alpha:event:1", LONG).await, Claim::Done);
    assert_eq!(claim(store, "beta:event:1", LONG).await, Claim::InFlight);
}

async fn any_key_text_works(store: &impl DedupeStore) {
    let long = format!("ns:event:{}", "x".repeat(4096));
    for key in [
        "",
        "ns:event:évènement ✓",
        "ns:event:with space\r\nand newline",
        "ns:event:{braces}*?[glob]",
        &long,
    ] {
        let token = fresh(store, key, LONG).await;
        assert_eq!(claim(store, key, LONG).await, Claim::InFlight, "{key:?}");
        store.complete(key, token, LONG).await.unwrap();
        assert_eq!(claim(store, key, LONG).await, Claim::Done, "{key:?}");
    }
}

//! A store that remembers nothing: every claim is fresh. Only for the
//! diagnostic route that separates the dedupe store's cost from the rest
//! of the receiver's; it deduplicates nothing.

use std::time::Duration;

use costkatana_webhooks::dedupe::{Claim, ClaimToken, Completion, DedupeStore, StoreFuture};

pub(crate) struct NullStore;

impl DedupeStore for NullStore {
    fn claim<'a>(&'a self, _: &'a str, _: Duration) -> StoreFuture<'a, Claim> {
        Box::pin(std::future::ready(Ok(Claim::Fresh(ClaimToken::random()))))
    }

    fn complete<'a>(
        &'a self,
        _: &'a str,
        _: ClaimToken,
        _: Duration,
    ) -> StoreFuture<'a, Completion> {
        Box::pin(std::future::ready(Ok(Completion::Recorded)))
    }

    fn release<'a>(&'a self, _: &'a str, _: ClaimToken) -> StoreFuture<'a, ()> {
        Box::pin(std::future::ready(Ok(())))
    }
}

//! Turning a panicking handler into an ordinary failure.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::handler::{HandlerError, HandlerFuture, HandlerResult};

/// Polls a handler future, converting a panic into a `HandlerError`, so
/// the claim is released and the process keeps serving.
pub(crate) struct CatchPanic(pub(crate) HandlerFuture);

impl Future for CatchPanic {
    type Output = HandlerResult;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<HandlerResult> {
        let future = &mut self.0;
        match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(panic) => Poll::Ready(Err(HandlerError::from(format!(
                "the handler panicked: {}",
                panic_message(&*panic)
            )))),
        }
    }
}

/// Calls `make` (which builds the handler future), catching a panic there too.
pub(crate) fn call(make: impl FnOnce() -> HandlerFuture) -> CatchPanic {
    match catch_unwind(AssertUnwindSafe(make)) {
        Ok(future) => CatchPanic(future),
        Err(panic) => {
            let message = format!("the handler panicked: {}", panic_message(&*panic));
            CatchPanic(Box::pin(async move { Err(HandlerError::from(message)) }))
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

//! The adapter seam: a method, arbitrary headers (a declared length among
//! them) and a body arriving in arbitrary chunks, through
//! `Verifier::verify_request`. Every request gets an answer at once (no
//! chunk here makes the reader wait), and a verified body is the chunks
//! joined, within the limit.

#![no_main]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use costkatana_webhooks::{Error, RequestBody};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

/// The body in chunks, optionally failing after them.
struct Chunks {
    chunks: Vec<Bytes>,
    then_fail: bool,
}

impl RequestBody for Chunks {
    fn poll_chunk(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Bytes, Error>>> {
        if self.chunks.is_empty() {
            let fail = std::mem::take(&mut self.then_fail);
            return Poll::Ready(fail.then(|| Err(Error::body_failed("connection reset"))));
        }
        Poll::Ready(Some(Ok(self.chunks.remove(0))))
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let (_, mut headers, body) = common::split_request(rest);
    if control & 0x80 != 0 {
        // A declared length that may lie.
        headers.push(("Content-Length".to_owned(), (body.len() + usize::from(control & 3)).to_string().into_bytes()));
    }
    let method = ["POST", "GET", "post", "PUT"][usize::from(control >> 5 & 3)];
    let step = usize::from(control & 0x1f) + 1;
    let chunks: Vec<Bytes> = body.chunks(step).map(Bytes::copy_from_slice).collect();
    let then_fail = control & 0x40 != 0;
    let verifier = &common::verifiers()[0];
    let future = verifier.verify_request(method, &headers, Chunks { chunks, then_fail });
    let mut future = std::pin::pin!(future);
    let Poll::Ready(result) = future.as_mut().poll(&mut Context::from_waker(Waker::noop())) else {
        panic!("a body that never waits is answered at once");
    };
    match result {
        Ok(verified) => {
            assert!(method == "POST" && !then_fail);
            assert_eq!(verified.body(), body);
            assert!(body.len() <= 4096);
        }
        Err(err) => assert!(err.status() >= 400 && !err.message().is_empty()),
    }
});

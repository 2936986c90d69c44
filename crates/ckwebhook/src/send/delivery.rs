//! One delivery: POST a signed request, retrying it unchanged like the sender.

use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;

use super::policy::RetryPolicy;

/// What one attempt got back.
#[derive(Debug, Clone)]
pub(crate) enum Answer {
    /// An HTTP answer: status and (truncated) body text.
    Status(u16, String),
    /// No answer within the timeout.
    Timeout,
    /// Could not connect (refused, unreachable, DNS).
    Unreachable(String),
    /// Any other transport failure.
    Broken(String),
}

impl Answer {
    /// Whether the sender would try again after this answer.
    pub(crate) fn is_retried(&self) -> bool {
        matches!(self, Answer::Status(500..=599, _) | Answer::Timeout)
    }

    pub(crate) fn is_delivered(&self) -> bool {
        matches!(self, Answer::Status(200..=299, _))
    }

    /// A short label for histograms: the status code or the failure kind.
    pub(crate) fn label(&self) -> String {
        match self {
            Answer::Status(status, _) => status.to_string(),
            Answer::Timeout => "timeout".into(),
            Answer::Unreachable(_) => "unreachable".into(),
            Answer::Broken(_) => "error".into(),
        }
    }
}

/// One attempt and how long it took.
#[derive(Debug, Clone)]
pub(crate) struct Attempt {
    pub(crate) number: u32,
    pub(crate) answer: Answer,
    pub(crate) latency: Duration,
    /// The wait before the next attempt, when there will be one.
    pub(crate) next_delay: Option<Duration>,
}

/// A signed request, sent byte for byte the same on every attempt.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) url: reqwest::Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: bytes::Bytes,
}

/// Sends `request` until it is delivered, fails for good, or retries run
/// out; `report` sees every attempt. Returns whether it was delivered.
pub(crate) async fn deliver(
    client: &reqwest::Client,
    request: &Request,
    policy: &RetryPolicy,
    mut report: impl FnMut(&Attempt),
) -> bool {
    for number in 1..=policy.retries.saturating_add(1) {
        let started = Instant::now();
        let answer = attempt(client, request).await;
        let latency = started.elapsed();
        let next_delay =
            (answer.is_retried() && number <= policy.retries).then(|| policy.delay(number));
        report(&Attempt {
            number,
            answer: answer.clone(),
            latency,
            next_delay,
        });
        if answer.is_delivered() {
            return true;
        }
        match next_delay {
            Some(delay) => tokio::time::sleep(delay).await,
            None => return false,
        }
    }
    false
}

async fn attempt(client: &reqwest::Client, request: &Request) -> Answer {
    let sent = client
        .post(request.url.clone())
        .headers(request.headers.clone())
        .body(request.body.clone())
        .send()
        .await;
    let response = match sent {
        Ok(response) => response,
        Err(err) => return classify(&err),
    };
    let status = response.status().as_u16();
    match response.text().await {
        Ok(text) => Answer::Status(status, truncate(text)),
        Err(err) if err.is_timeout() => Answer::Timeout,
        Err(err) => Answer::Status(status, format!("<body unreadable: {}>", describe(&err))),
    }
}

fn classify(err: &reqwest::Error) -> Answer {
    if err.is_timeout() {
        Answer::Timeout
    } else if err.is_connect() {
        Answer::Unreachable(describe(err))
    } else {
        Answer::Broken(describe(err))
    }
}

/// The error and its causes on one line (reqwest's top level says little).
fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn truncate(mut text: String) -> String {
    const MAX: usize = 500;
    if text.len() > MAX {
        let mut end = MAX;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

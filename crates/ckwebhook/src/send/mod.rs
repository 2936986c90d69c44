//! `ckwebhook send`: sign and POST events the way the Cost Katana sender does.

mod bulk;
mod delivery;
mod policy;

use costkatana_webhooks::signing::{sign, SENDER_HEADERS};
use costkatana_webhooks::testing::sample_event;
use costkatana_webhooks::{EventType, Payload};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::cli::SendArgs;
use crate::events::lookup;
use crate::util::{now_ms, read_file, uuid4};
use crate::Exit;

pub(crate) use delivery::{deliver, Answer, Attempt, Request};
pub(crate) use policy::RetryPolicy;

pub(crate) fn run(args: &SendArgs) -> Result<Exit, String> {
    if args.secret.is_empty() {
        return Err("the secret is empty: pass --secret".into());
    }
    let url = parse_url(&args.url)?;
    let extra = parse_extra_headers(&args.headers)?;
    let event_type = match &args.event_type {
        Some(name) => Some(lookup(name)?),
        None => None,
    };
    if !args.multiplier.is_finite() || args.multiplier < 1.0 {
        return Err(format!(
            "--multiplier must be at least 1 (got {})",
            args.multiplier
        ));
    }
    let policy = RetryPolicy {
        retries: args.retries,
        initial_delay: args.initial_delay,
        multiplier: args.multiplier,
    };
    let client = reqwest::Client::builder()
        // The sender does not follow redirects to a POST: a 3xx is a failure.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(args.timeout)
        .build()
        .map_err(|err| format!("cannot build the HTTP client: {err}"))?;
    let builder = RequestBuilder {
        url,
        extra,
        secret: args.secret.clone(),
        scheme: args.scheme.into(),
        shape: args.shape.into(),
        event_type,
    };
    let runtime = crate::runtime()?;
    match args.count {
        Some(count) => runtime.block_on(bulk::run(
            client,
            builder,
            policy,
            bulk::Plan {
                count,
                concurrency: args.concurrency.max(1),
                duplicates: args.duplicates.max(1),
            },
        )),
        None => {
            let (body, label) = match &args.body {
                Some(path) => {
                    let body = read_file(path)?;
                    let label = describe_body(&body);
                    (body, label)
                }
                None => builder.sample()?,
            };
            Ok(runtime.block_on(send_one(&client, builder.sign(body), &policy, &label)))
        }
    }
}

/// Everything needed to build and sign requests.
pub(crate) struct RequestBuilder {
    url: reqwest::Url,
    extra: HeaderMap,
    secret: String,
    scheme: costkatana_webhooks::Scheme,
    shape: costkatana_webhooks::testing::Shape,
    event_type: Option<EventType>,
}

impl RequestBuilder {
    /// A fresh sample event (new id, occurring now) and a label for it.
    pub(crate) fn sample(&self) -> Result<(Vec<u8>, String), String> {
        let ty = self.event_type.clone().unwrap_or(EventType::SystemError);
        let id = format!("{}_{}", ty.as_str().replace('.', "_"), uuid4()?);
        let body = sample_event(&ty, self.shape, &id, now_ms());
        Ok((body.into_bytes(), format!("{ty} {id}")))
    }

    /// The request the sender would make for `body`, signed now.
    pub(crate) fn sign(&self, body: Vec<u8>) -> Request {
        let mut headers = HeaderMap::new();
        let signed = sign(self.scheme, &self.secret, now_ms(), &body);
        let fixed = SENDER_HEADERS
            .iter()
            .map(|(n, v)| (*n, *v))
            .chain(signed.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        for (name, value) in fixed {
            // Constant names and hex/digit values: always valid header text.
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.insert(name, value);
            }
        }
        for (name, value) in &self.extra {
            headers.insert(name.clone(), value.clone());
        }
        Request {
            url: self.url.clone(),
            headers,
            body: body.into(),
        }
    }
}

/// One delivery with every attempt printed; exit 0 only when delivered.
async fn send_one(
    client: &reqwest::Client,
    request: Request,
    policy: &RetryPolicy,
    label: &str,
) -> Exit {
    outln!(
        "POST {} ({label}, {} bytes)",
        request.url,
        request.body.len()
    );
    let mut last = None;
    let delivered = deliver(client, &request, policy, |attempt| {
        outln!("{}", format_attempt(attempt));
        last = Some(attempt.clone());
    })
    .await;
    let attempts = last.as_ref().map_or(0, |a| a.number);
    if delivered {
        outln!("delivered after {attempts} attempt(s)");
        return Exit::Success;
    }
    let why = match last.map(|a| a.answer) {
        Some(answer) if answer.is_retried() => format!("retries exhausted ({})", answer.label()),
        Some(Answer::Unreachable(_)) => "permanent failure: the receiver is unreachable".into(),
        Some(Answer::Status(status, _)) => {
            format!("permanent failure: {status} is not retried by the sender")
        }
        Some(answer) => format!("permanent failure ({})", answer.label()),
        None => "no attempt made".into(),
    };
    eprintln!("not delivered after {attempts} attempt(s): {why}");
    Exit::Failure
}

fn format_attempt(attempt: &Attempt) -> String {
    let latency = format_latency(attempt.latency);
    let mut line = match &attempt.answer {
        Answer::Status(status, body) => {
            let reason = reqwest::StatusCode::from_u16(*status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("");
            format!(
                "attempt {}: {status} {reason} in {latency}: {}",
                attempt.number,
                body.trim()
            )
        }
        Answer::Timeout => format!("attempt {}: timed out after {latency}", attempt.number),
        Answer::Unreachable(err) => format!("attempt {}: cannot connect: {err}", attempt.number),
        Answer::Broken(err) => format!("attempt {}: request failed: {err}", attempt.number),
    };
    if let Some(delay) = attempt.next_delay {
        line.push_str(&format!(
            "\n  retrying in {} with the same headers and timestamp",
            format_latency(delay)
        ));
    }
    line
}

pub(crate) fn format_latency(duration: std::time::Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else if ms < 10_000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

fn describe_body(body: &[u8]) -> String {
    match Payload::parse(body) {
        Payload::Event(event) => format!(
            "{} {}",
            event.event_type,
            event.id.as_deref().unwrap_or("(no id)")
        ),
        Payload::Template(_) => "template body".into(),
        _ => "body from file".into(),
    }
}

fn parse_url(text: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(text).map_err(|err| format!("invalid --url {text:?}: {err}"))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(format!("--url must be http or https, not {other}")),
    }
}

/// `Name: value` (or `Name:value`) headers from the command line.
fn parse_extra_headers(raw: &[String]) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::new();
    for text in raw {
        let (name, value) = text
            .split_once(':')
            .ok_or_else(|| format!("invalid --header {text:?}: expected NAME:VALUE"))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
            format!(
                "invalid --header {text:?}: {:?} is not a header name",
                name.trim()
            )
        })?;
        let value = HeaderValue::from_str(value.trim()).map_err(|_| {
            format!("invalid --header {text:?}: the value has forbidden characters")
        })?;
        headers.append(name, value);
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_extra_headers() {
        let headers =
            parse_extra_headers(&["Authorization: Bearer t".into(), "X-A:b".into()]).unwrap();
        assert_eq!(headers["authorization"], "Bearer t");
        assert_eq!(headers["x-a"], "b");
        assert!(parse_extra_headers(&["no colon".into()]).is_err());
        assert!(parse_extra_headers(&["bad name: v".into()]).is_err());
        assert!(parse_extra_headers(&["X-A: line\nbreak".into()]).is_err());
    }
}

//! `ckwebhook send`: sign and POST events the way the Cost Katana sender
//! does. The sending is `costkatana-webhooks-sandbox`'s; this checks the
//! arguments and prints what it reports.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use costkatana_webhooks::samples::Shape;
use costkatana_webhooks::Backoff;
use costkatana_webhooks_sandbox::bulk::{send_many, Plan};
use costkatana_webhooks_sandbox::sender::{Endpoint, EndpointError, Sender};
use http::header::{HeaderMap, HeaderName, HeaderValue};

use crate::duration::parse_duration;
use crate::error::{CliError, CliResult, ErrorKind};
use crate::scheme_arg::SchemeArg;
use crate::send::requests::{label_for, RequestMaker};
use crate::send::{report, summary};
use crate::util::{read_file, require_secret};

#[derive(Debug, Args)]
#[command(
    about = "Send a signed event like the Cost Katana sender does",
    long_about = "Send a signed event like the Cost Katana sender does.\n\n\
        Builds a realistic event of EVENT_TYPE (or sends --body as is), signs it and POSTs it \
        with the sender's headers. 2xx means delivered; 5xx and timeouts are retried with the \
        ORIGINAL headers and timestamp (delay = initial-delay x multiplier^(n-1) x jitter \
        0.85-1.15, capped at 1 h); any other answer (4xx, 3xx, connection refused) is a \
        permanent failure. Exits 0 only when delivered.\n\nWith --count, sends that many \
        distinct events (each --duplicates times, concurrently) and prints a summary."
)]
pub(crate) struct SendArgs {
    /// The event type, such as budget.exceeded (see `ckwebhook events`)
    #[arg(value_name = "EVENT_TYPE", required_unless_present = "body")]
    event_type: Option<String>,
    /// Where to POST, such as http://127.0.0.1:3000/webhooks/costkatana
    #[arg(long, value_name = "URL")]
    url: String,
    /// The webhook secret, used as given
    #[arg(
        long,
        value_name = "SECRET",
        env = "COSTKATANA_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    secret: String,
    /// The signing scheme
    #[arg(long, value_enum, value_name = "SCHEME", default_value_t = SchemeArg::Current)]
    scheme: SchemeArg,
    /// The body shape of the generated event
    #[arg(long, value_enum, value_name = "SHAPE", default_value_t = ShapeArg::Camel)]
    shape: ShapeArg,
    /// Send this file's raw bytes instead of a generated event
    #[arg(long, value_name = "FILE", conflicts_with = "count")]
    body: Option<PathBuf>,
    /// An extra header, repeatable (e.g. `Authorization: Bearer t0ken`)
    #[arg(long = "header", value_name = "NAME:VALUE")]
    headers: Vec<String>,
    /// Retries after the first attempt, on 5xx and timeouts
    #[arg(long, value_name = "N", default_value_t = 3)]
    retries: u32,
    /// Delay before the first retry (e.g. 200ms, 5s, 1m)
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    initial_delay: Duration,
    /// Factor between successive retry delays
    #[arg(long, value_name = "FACTOR", default_value_t = 2.0)]
    multiplier: f64,
    /// Per-attempt timeout (e.g. 500ms, 30s)
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    timeout: Duration,
    /// Send this many distinct events and print a summary
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// With --count: requests in flight at once
    #[arg(long, value_name = "C", default_value_t = 8, requires = "count")]
    concurrency: usize,
    /// With --count: identical copies of each event, sent concurrently
    #[arg(long, value_name = "K", default_value_t = 1, requires = "count")]
    duplicates: u32,
}

/// A body shape on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ShapeArg {
    /// The live sender's camelCase body (eventId, data.title, ...)
    Camel,
    /// The documented snake_case body (event_id, top-level title, ...)
    Snake,
}

impl From<ShapeArg> for Shape {
    fn from(arg: ShapeArg) -> Self {
        match arg {
            ShapeArg::Camel => Shape::Camel,
            ShapeArg::Snake => Shape::Snake,
        }
    }
}

pub(crate) fn exec(args: SendArgs) -> CliResult {
    require_secret(&args.secret)?;
    let endpoint = parse_url(&args.url)?;
    let custom = parse_extra_headers(&args.headers)?;
    let event_type = match &args.event_type {
        Some(name) => Some(super::events::lookup(name).map_err(CliError::bad_input)?),
        None => None,
    };
    if !args.multiplier.is_finite() || args.multiplier < 1.0 {
        return Err(CliError::bad_input(format!(
            "--multiplier must be at least 1 (got {})",
            args.multiplier
        )));
    }
    let sender = Sender::builder()
        .timeout(args.timeout)
        .retries(args.retries)
        // The sender's schedule (jitter 0.85-1.15, capped at 1 h) with the
        // webhook's own first delay and factor.
        .backoff(
            Backoff::sender()
                .first_delay(args.initial_delay)
                .multiplier(args.multiplier),
        )
        .build()
        .map_err(|err| CliError::system(&err).with_source(err))?;
    let maker = RequestMaker {
        endpoint,
        custom,
        secret: args.secret,
        scheme: args.scheme.into(),
        shape: args.shape.into(),
        event_type,
    };
    let runtime = crate::runtime()?;
    let Some(count) = args.count else {
        let (body, label) = match &args.body {
            Some(path) => {
                let body = read_file(path)?;
                let label = label_for(&body);
                (body, label)
            }
            None => maker.sample()?,
        };
        let request = maker.sign(body);
        return runtime.block_on(report::deliver(&sender, args.timeout, &request, &label));
    };
    let plan = Plan::new(count)
        .concurrency(args.concurrency)
        .duplicates(args.duplicates);
    let progress = summary::progress_bar(count);
    let ticks = progress.clone();
    let sent = runtime.block_on(send_many(
        &sender,
        plan,
        move || maker.fresh_event(),
        move || ticks.inc(1),
    ))?;
    progress.finish_and_clear();
    summary::print(&sent);
    if sent.all_delivered() {
        Ok(())
    } else {
        Err(CliError::reported(ErrorKind::NotDelivered))
    }
}

fn parse_url(text: &str) -> Result<Endpoint, CliError> {
    Endpoint::parse(text).map_err(|err| {
        let message = match &err {
            EndpointError::NotHttp { scheme, .. } => {
                format!("--url must be http or https, not {scheme}")
            }
            EndpointError::Invalid { reason, .. } => format!("invalid --url {text:?}: {reason}"),
            other => format!("invalid --url: {other}"),
        };
        CliError::bad_input(message).with_source(err)
    })
}

/// `Name: value` (or `Name:value`) headers from the command line.
fn parse_extra_headers(raw: &[String]) -> Result<HeaderMap, CliError> {
    let mut headers = HeaderMap::new();
    for text in raw {
        let (name, value) = text.split_once(':').ok_or_else(|| {
            CliError::bad_input(format!("invalid --header {text:?}: expected NAME:VALUE"))
        })?;
        let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
            CliError::bad_input(format!(
                "invalid --header {text:?}: {:?} is not a header name",
                name.trim()
            ))
        })?;
        let value = HeaderValue::from_str(value.trim()).map_err(|_| {
            CliError::bad_input(format!(
                "invalid --header {text:?}: the value has forbidden characters"
            ))
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

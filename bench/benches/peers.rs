//! Verification side by side with its floor and with the peers, on bodies
//! of 300 B, 4 KiB, 64 KiB and 1 MiB:
//!
//! - the floor: HMAC-SHA256 of `<timestamp>.<body>` from a state keyed
//!   once (what no verifier of this scheme can beat);
//! - our `Verifier::verify` through an `http::HeaderMap`, as the adapters
//!   call it, and verify plus the typed event;
//! - the full parse the lean event reader replaced: verification, then the
//!   whole body into a `serde_json::Value`, the title read from it;
//! - svix's and standardwebhooks' `Webhook::verify` (HeaderMap, their own
//!   scheme), and async-stripe's `Webhook::construct_event` (verify plus its
//!   event, a Stripe-shaped body of the same size).
//!
//! Each round times every contender in batches of about 2 ms, in a
//! rotating order (round r starts at contender r), five passes, and keeps
//! each contender's fastest batch: on a shared machine a short batch is
//! often run whole, and the fastest is the one no other process
//! interrupted. The ratios are taken within the round (the load drifts
//! between rounds), and their median and range over rounds are printed,
//! then every round's.
//!
//! `cargo bench -p costkatana-webhooks-bench --bench peers`
//! (`PEERS_ROUNDS=<n>`, default 21; `PEERS_PASSES=<n>`, default 5;
//! `PEERS_BATCH_MS=<ms>`, default 2). To profile one contender at one size,
//! `PEERS_PROFILE=<name>:<bytes>` runs only it (names: floor, ours,
//! ours-typed, full-parse, svix, standardwebhooks, async-stripe) for about 5 s.

use std::hint::black_box;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use costkatana_webhooks::signing::sign;
use costkatana_webhooks::{Scheme, Verifier};
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName, HeaderValue};
use sha2::Sha256;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SIZES: [(&str, usize); 4] = [
    ("300 B", 300),
    ("4 KiB", 4 << 10),
    ("64 KiB", 64 << 10),
    ("1 MiB", 1 << 20),
];

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// `head` + padding + `tail`, exactly `size` bytes.
fn padded(head: &str, tail: &str, size: usize) -> String {
    let pad = size.saturating_sub(head.len() + tail.len());
    format!("{head}{}{tail}", "x".repeat(pad))
}

/// A camelCase Cost Katana event of `size` bytes.
fn costkatana_body(size: usize) -> String {
    padded(
        r#"{"eventId":"cost_alert_bench","eventType":"cost.alert","occurredAt":"2026-04-28T12:00:00.000Z","userId":"user_1","projectId":"proj_1","data":{"title":"Daily cost","severity":"high","cost":{"amount":125.5,"currency":"USD"},"notes":""#,
        r#""}}"#,
        size,
    )
}

/// A Stripe event of `size` bytes (a type this build has no struct for,
/// so async-stripe keeps its object as parsed JSON: its cheapest path).
fn stripe_body(size: usize) -> String {
    padded(
        r#"{"id":"evt_bench","object":"event","api_version":"2017-05-25","created":1533204620,"livemode":false,"pending_webhooks":1,"request":{"id":"req_1","idempotency_key":"k_1"},"type":"cost.alert","data":{"object":{"object":"bench","notes":""#,
        r#""}}}"#,
        size,
    )
}

fn header_map(pairs: &[(&str, String)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(name, value)| {
            (
                HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
                HeaderValue::from_str(value).expect("a header value"),
            )
        })
        .collect()
}

/// One contender: a name and one verification.
struct Contender {
    name: &'static str,
    run: Box<dyn Fn()>,
}

fn contenders(size: usize) -> Vec<Contender> {
    let now = now_ms();
    let body = Bytes::from(costkatana_body(size));

    // The floor: keyed once, cloned per message.
    let keyed = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key");
    let timestamp = now.to_string();
    let floor = {
        let (body, timestamp) = (body.clone(), timestamp.clone());
        move || {
            let mut mac = keyed.clone();
            mac.update(timestamp.as_bytes());
            mac.update(b".");
            mac.update(&body);
            black_box(mac.finalize().into_bytes());
        }
    };

    let verifier = Verifier::builder()
        .secret(SECRET)
        .build()
        .expect("a verifier");
    let ours_headers = header_map(
        &sign(Scheme::Current, SECRET, now, &body)
            .iter()
            .map(|(n, v)| (n.as_str(), v.clone()))
            .collect::<Vec<_>>(),
    );
    let ours = {
        let (verifier, headers, body) = (verifier.clone(), ours_headers.clone(), body.clone());
        move || {
            black_box(verifier.verify(&headers, body.clone()).expect("authentic"));
        }
    };
    let ours_typed = {
        let (verifier, headers, body) = (verifier.clone(), ours_headers.clone(), body.clone());
        move || {
            let verified = verifier.verify(&headers, body.clone()).expect("authentic");
            black_box(verified.event().expect("an event").title.as_deref());
        }
    };
    // What the lean reader replaced: the whole body parsed into a
    // `serde_json::Value` after verification, the title read from it.
    let full_parse = {
        let (headers, body) = (ours_headers, body.clone());
        move || {
            let verified = verifier.verify(&headers, body.clone()).expect("authentic");
            let value: serde_json::Value = serde_json::from_slice(verified.body()).expect("JSON");
            black_box(value["data"]["title"].as_str().map(str::to_owned));
        }
    };

    let svix = {
        let webhook = svix::webhooks::Webhook::new(SECRET).expect("a svix secret");
        let signature = webhook
            .sign("msg_bench", now / 1000, &body)
            .expect("signed");
        let headers = header_map(&[
            ("svix-id", "msg_bench".to_owned()),
            ("svix-timestamp", (now / 1000).to_string()),
            ("svix-signature", signature),
        ]);
        let body = body.clone();
        move || {
            webhook
                .verify(black_box(&body), &headers)
                .expect("authentic");
        }
    };

    let standard = {
        let webhook = standardwebhooks::Webhook::new(SECRET).expect("a secret");
        let signature = webhook
            .sign("msg_bench", now / 1000, &body)
            .expect("signed");
        let headers = header_map(&[
            ("webhook-id", "msg_bench".to_owned()),
            ("webhook-timestamp", (now / 1000).to_string()),
            ("webhook-signature", signature),
        ]);
        let body = body.clone();
        move || {
            webhook
                .verify(black_box(&body), &headers)
                .expect("authentic");
        }
    };

    let stripe = {
        let payload = stripe_body(size);
        let header =
            stripe_webhook::Webhook::generate_test_header(&payload, SECRET, Some(now / 1000));
        move || {
            let event =
                stripe_webhook::Webhook::construct_event(black_box(&payload), &header, SECRET)
                    .expect("authentic");
            black_box(event);
        }
    };

    vec![
        Contender {
            name: "floor",
            run: Box::new(floor),
        },
        Contender {
            name: "ours",
            run: Box::new(ours),
        },
        Contender {
            name: "ours-typed",
            run: Box::new(ours_typed),
        },
        Contender {
            name: "full-parse",
            run: Box::new(full_parse),
        },
        Contender {
            name: "svix",
            run: Box::new(svix),
        },
        Contender {
            name: "standardwebhooks",
            run: Box::new(standard),
        },
        Contender {
            name: "async-stripe",
            run: Box::new(stripe),
        },
    ]
}

/// Nanoseconds per call of `run`, over a batch of `batch` calls.
fn time(run: &dyn Fn(), batch: usize) -> f64 {
    let started = Instant::now();
    for _ in 0..batch {
        run();
    }
    started.elapsed().as_nanos() as f64 / batch as f64
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    if let Ok(spec) = std::env::var("PEERS_PROFILE") {
        let (name, size) = spec.split_once(':').expect("PEERS_PROFILE=<name>:<bytes>");
        let size: usize = size.parse().expect("a size in bytes");
        let contender = contenders(size)
            .into_iter()
            .find(|c| c.name == name)
            .expect("a contender's name");
        let until = Instant::now() + std::time::Duration::from_secs(5);
        while Instant::now() < until {
            time(&*contender.run, 1000);
        }
        return;
    }
    let setting = |name: &str, default: usize| -> usize {
        std::env::var(name)
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(default)
    };
    let rounds = setting("PEERS_ROUNDS", 21);
    let passes = setting("PEERS_PASSES", 5).max(1);
    let batch_ms = setting("PEERS_BATCH_MS", 2) as f64;
    println!(
        "median over {rounds} rounds of per-round figures (ns per call, the fastest of {passes} \
         batches of ~{batch_ms} ms; ratios within a round: median (range))\n"
    );
    println!("| body | floor | ours | ours / floor | ours typed | full parse / ours typed | svix / ours | standardwebhooks / ours | async-stripe | async-stripe / ours typed |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut every_round = Vec::new();
    for (label, size) in SIZES {
        let contenders = contenders(size);
        // Batches of about 20 ms, sized from one warm-up call each.
        // Batches of about `batch_ms`, sized from the fastest of a few
        // warm-up calls.
        let batches: Vec<usize> = contenders
            .iter()
            .map(|c| {
                let once = (0..5)
                    .map(|_| time(&*c.run, 1))
                    .fold(f64::MAX, f64::min)
                    .max(1.0);
                ((batch_ms * 1e6 / once) as usize).max(1)
            })
            .collect();
        let mut per_round: Vec<Vec<f64>> = vec![Vec::new(); contenders.len()];
        let mut ratios: Vec<[f64; 5]> = Vec::new();
        for round in 0..rounds {
            let mut ns = vec![f64::MAX; contenders.len()];
            for _ in 0..passes {
                for k in 0..contenders.len() {
                    let i = (k + round) % contenders.len();
                    ns[i] = ns[i].min(time(&*contenders[i].run, batches[i]));
                }
            }
            ratios.push([
                ns[1] / ns[0],
                ns[3] / ns[2],
                ns[4] / ns[1],
                ns[5] / ns[1],
                ns[6] / ns[2],
            ]);
            for (i, t) in ns.into_iter().enumerate() {
                per_round[i].push(t);
            }
        }
        let ns: Vec<f64> = per_round.into_iter().map(median).collect();
        // The median of the per-round ratios, and their range.
        let ratio = |i: usize| {
            let each: Vec<f64> = ratios.iter().map(|r| r[i]).collect();
            let (low, high) = each
                .iter()
                .fold((f64::MAX, f64::MIN), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
            format!("{:.2}× ({low:.2}–{high:.2})", median(each))
        };
        println!(
            "| {label} | {:.0} | {:.0} | {} | {:.0} | {} | {} | {} | {:.0} | {} |",
            ns[0],
            ns[1],
            ratio(0),
            ns[2],
            ratio(1),
            ratio(2),
            ratio(3),
            ns[6],
            ratio(4),
        );
        let shown = |i: usize| {
            let each: Vec<String> = ratios.iter().map(|r| format!("{:.2}", r[i])).collect();
            each.join(" ")
        };
        every_round.push(format!(
            "{label}: ours/floor {}; full parse/ours typed {}; svix/ours {}; standardwebhooks/ours {}; async-stripe/ours typed {}",
            shown(0),
            shown(1),
            shown(2),
            shown(3),
            shown(4)
        ));
    }
    println!("\nthe ratios of each round:");
    for line in every_round {
        println!("{line}");
    }
}

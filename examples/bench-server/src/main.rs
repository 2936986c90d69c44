//! What `scripts/bench-http.sh` runs. Two modes:
//!
//! - `example-bench-server` serves, on `ADDR`: `POST /bare` reads the body
//!   as bytes and answers (the floor), `POST /naive` checks the HMAC and
//!   the timestamp as the published examples do, then parses the body into
//!   a `serde_json::Value` and answers (no dedupe), `POST
//!   /webhooks/costkatana` runs a handler behind the full receiver (verify,
//!   parse, in-memory dedupe, route, settle, metrics); `POST
//!   /diagnostic/no-store` is that receiver with a store that remembers
//!   nothing, to tell the store's cost from the rest (not in inbox mode).
//!   `GET /metrics` counts outcomes, so the script can tell fresh
//!   deliveries from duplicates. With `INBOX_URL` the receiver runs in
//!   inbox mode (`scripts/bench-inbox.sh`).
//! - `example-bench-server generate <count> <file> [<id prefix>]` writes
//!   `count` deliveries of 1 KiB, each with its own event id (`<id
//!   prefix><n>`, default prefix `evt_bench_`), signed now with
//!   `COSTKATANA_WEBHOOK_SECRET`, one per line: `timestamp\tsignature\tbody`.

mod generate;
mod null_store;
mod serve;

#[tokio::main]
async fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => serve::run().await,
        [mode, count, file, rest @ ..] if mode == "generate" && rest.len() <= 1 => {
            let count = count
                .parse()
                .map_err(|_| format!("count must be a whole number, not {count:?}"))?;
            let prefix = rest.first().map_or("evt_bench_", String::as_str);
            generate::write(count, file, prefix)
        }
        _ => Err("usage: example-bench-server [generate <count> <file> [<id prefix>]]".to_owned()),
    }
}

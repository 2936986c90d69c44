//! Hostile traffic against a receiver already running on 127.0.0.1 (the
//! axum example, started by `scripts/hostile.sh`), one scenario after the
//! other, each bounded in time. For each: the server's resident memory
//! before, at its peak and after, and the p50/p99 latency of valid
//! deliveries sent meanwhile by a light prober, against a quiet baseline.
//!
//! `example-hostile <addr> <secret> <server pid>`; prints a Markdown table.

mod wire;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::net::TcpStream;

/// What every scenario shares.
struct Ctx {
    addr: SocketAddr,
    secret: String,
    pid: u32,
    next_id: AtomicU64,
}

impl Ctx {
    fn fresh_id(&self) -> String {
        format!(
            "evt_hostile_{}",
            self.next_id.fetch_add(1, Ordering::Relaxed)
        )
    }
}

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis()),
    )
    .unwrap_or(0)
}

/// The server's resident memory in MiB, from /proc.
fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// Valid deliveries from two keep-alive connections, 2 ms apart, until
/// `stop`: their latencies in µs.
async fn probe(ctx: Arc<Ctx>, stop: Arc<AtomicBool>) -> Vec<u64> {
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (ctx, stop) = (ctx.clone(), stop.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut stream = TcpStream::connect(ctx.addr)
                    .await
                    .expect("the server listens");
                let mut buf = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let request = wire::delivery(&ctx.secret, &ctx.fresh_id(), now_ms());
                    let started = Instant::now();
                    let answered = wire::write(&mut stream, &request).await
                        && wire::read_response(&mut stream, &mut buf).await == Some(200);
                    if answered {
                        latencies
                            .push(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
                    } else {
                        stream = TcpStream::connect(ctx.addr)
                            .await
                            .expect("the server listens");
                        buf.clear();
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.expect("a prober"));
    }
    all
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p) as usize] as f64 / 1000.0
}

/// One row of the report.
struct Row {
    scenario: &'static str,
    rss: (f64, f64, f64),
    p50_p99_ms: (f64, f64),
    /// The p99 over a quiet phase's p99 (the median over rounds when paired).
    vs_quiet: f64,
    facts: String,
}

/// Runs `attack` while probing latency and sampling memory.
async fn observe<F>(ctx: &Arc<Ctx>, scenario: &'static str, attack: F) -> Row
where
    F: std::future::Future<Output = String>,
{
    let before = rss_mib(ctx.pid);
    let stop = Arc::new(AtomicBool::new(false));
    let prober = tokio::spawn(probe(ctx.clone(), stop.clone()));
    let peak = {
        let (pid, stop) = (ctx.pid, stop.clone());
        tokio::spawn(async move {
            let mut peak = 0f64;
            while !stop.load(Ordering::Relaxed) {
                peak = peak.max(rss_mib(pid));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            peak
        })
    };
    let facts = attack.await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = prober.await.expect("the prober");
    latencies.sort_unstable();
    let peak = peak.await.expect("the sampler");
    tokio::time::sleep(Duration::from_millis(500)).await;
    Row {
        scenario,
        rss: (before, peak, rss_mib(ctx.pid)),
        p50_p99_ms: (percentile(&latencies, 0.5), percentile(&latencies, 0.99)),
        vs_quiet: f64::NAN,
        facts,
    }
}

/// `rounds` of a quiet phase then an attack, so that each attack is judged
/// against the quiet moment just before it (the machine's load drifts):
/// the last attack's row, with the median of the rounds' p99 ratios.
async fn paired<F, A>(ctx: &Arc<Ctx>, scenario: &'static str, rounds: usize, mut attack: F) -> Row
where
    F: FnMut() -> A,
    A: std::future::Future<Output = String>,
{
    let mut ratios = Vec::with_capacity(rounds);
    let mut last = None;
    for _ in 0..rounds {
        let calm = observe(ctx, "quiet", quiet(5)).await;
        let row = observe(ctx, scenario, attack()).await;
        ratios.push(row.p50_p99_ms.1 / calm.p50_p99_ms.1);
        last = Some(row);
    }
    let mut row = last.expect("at least one round");
    let shown: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
    ratios.sort_by(f64::total_cmp);
    row.vs_quiet = ratios[ratios.len() / 2];
    row.facts = format!("{}; p99 ratio per round {}", row.facts, shown.join(", "));
    row
}

async fn quiet(seconds: u64) -> String {
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    "no attack".to_owned()
}

/// `workers` keep-alive connections sending forged signatures, at `rate`
/// forgeries per second in all, or back to back when `rate` is `None`.
async fn forged_flood(ctx: Arc<Ctx>, workers: u32, rate: Option<u32>, seconds: u64) -> String {
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    // Each worker's share of the rate, as the gap between its sends.
    let gap = rate.map(|rate| Duration::from_secs(1) * workers / rate);
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                let (mut sent, mut refused) = (0u64, 0u64);
                let mut stream = TcpStream::connect(ctx.addr).await.expect("connect");
                let mut buf = Vec::new();
                let forgery = wire::forgery("evt_forged", now_ms());
                let mut next = Instant::now();
                while Instant::now() < until {
                    if let Some(gap) = gap {
                        tokio::time::sleep_until(next.into()).await;
                        next += gap;
                    }
                    sent += 1;
                    let status = match wire::write(&mut stream, &forgery).await {
                        true => wire::read_response(&mut stream, &mut buf).await,
                        false => None,
                    };
                    match status {
                        Some(401) => refused += 1,
                        Some(_) => {}
                        None => {
                            stream = TcpStream::connect(ctx.addr).await.expect("connect");
                            buf.clear();
                        }
                    }
                }
                (sent, refused)
            })
        })
        .collect();
    let (mut sent, mut refused) = (0, 0);
    for task in tasks {
        let (s, r) = task.await.expect("a flooder");
        sent += s;
        refused += r;
    }
    format!(
        "{:.0} forgeries/s from {workers} connections, {refused} of {sent} answered 401",
        sent as f64 / started.elapsed().as_secs_f64()
    )
}

/// Bodies declared (or streamed chunked) far over the limit, written as
/// fast as the server accepts them: how much it reads before it cuts.
async fn huge_bodies_fast(ctx: Arc<Ctx>, seconds: u64) -> String {
    let until = Instant::now() + Duration::from_secs(seconds);
    let chunk = vec![b'x'; 1 << 20];
    let tasks: Vec<_> = (0..8)
        .map(|worker| {
            let (ctx, chunk) = (ctx.clone(), chunk.clone());
            tokio::spawn(async move {
                let (mut connections, mut due, mut cut, mut max_sent) = (0u64, 0u64, 0u64, 0usize);
                while Instant::now() < until {
                    let Ok(mut stream) = TcpStream::connect(ctx.addr).await else {
                        continue;
                    };
                    connections += 1;
                    let chunked = worker % 2 == 1;
                    let head = wire::oversized_head(chunked, now_ms());
                    let mut sent = 0usize;
                    let mut ok = wire::write(&mut stream, head.as_bytes()).await;
                    while ok && sent < (64 << 20) && Instant::now() < until {
                        let piece = if chunked {
                            let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
                            framed.extend_from_slice(&chunk);
                            framed.extend_from_slice(b"\r\n");
                            framed
                        } else {
                            chunk.clone()
                        };
                        ok = wire::write(&mut stream, &piece).await;
                        if ok {
                            sent += chunk.len();
                        }
                    }
                    // A declared 1 GiB is refused at once; a chunked body once
                    // it reaches the 1 MiB limit (not if the run ended before).
                    if !chunked || !ok || sent >= 1 << 20 {
                        let (closed, _) =
                            wire::closed_within(&mut stream, Duration::from_secs(2)).await;
                        due += 1;
                        cut += u64::from(closed || !ok);
                    }
                    max_sent = max_sent.max(sent);
                }
                (connections, due, cut, max_sent)
            })
        })
        .collect();
    let (mut connections, mut due, mut cut, mut max_sent) = (0, 0, 0, 0);
    for task in tasks {
        let (c, d, k, m) = task.await.expect("a sender");
        connections += c;
        due += d;
        cut += k;
        max_sent = max_sent.max(m);
    }
    format!(
        "{connections} connections of 1 GiB declared or endless chunked bodies, {cut} of the {due} over the limit cut; at most {} MiB written into one before the cut (socket buffers included)",
        max_sent >> 20
    )
}

/// Bodies that trickle in, one byte every 500 ms, declared huge or chunked.
async fn huge_bodies_slow(ctx: Arc<Ctx>, connections: usize) -> String {
    let tasks: Vec<_> = (0..connections)
        .map(|i| {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(ctx.addr).await.expect("connect");
                let chunked = i % 2 == 1;
                let head = wire::oversized_head(chunked, now_ms());
                wire::write(&mut stream, head.as_bytes()).await;
                let started = Instant::now();
                let trickle = async {
                    loop {
                        let byte: &[u8] = if chunked { b"1\r\nx\r\n" } else { b"x" };
                        if !wire::write(&mut stream, byte).await {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                };
                let _ = tokio::time::timeout(Duration::from_secs(15), trickle).await;
                let (closed, status) =
                    wire::closed_within(&mut stream, Duration::from_secs(1)).await;
                (closed, status, started.elapsed())
            })
        })
        .collect();
    let (mut cut, mut statuses) = (0, std::collections::BTreeMap::<String, u32>::new());
    for task in tasks {
        let (closed, status, _) = task.await.expect("a trickler");
        cut += usize::from(closed);
        *statuses
            .entry(status.map_or("none".to_owned(), |s| s.to_string()))
            .or_default() += 1;
    }
    format!("{connections} trickling connections (half declared 1 GiB, half chunked), {cut} cut within 16 s; answers {statuses:?}")
}

/// `total` valid deliveries, each with its own event id.
async fn million_ids(ctx: Arc<Ctx>, total: u64) -> String {
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (ctx, next) = (ctx.clone(), next.clone());
            tokio::spawn(async move {
                let mut processed = 0u64;
                let mut stream = TcpStream::connect(ctx.addr).await.expect("connect");
                let mut buf = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < total {
                    let request = wire::delivery(&ctx.secret, &ctx.fresh_id(), now_ms());
                    if wire::write(&mut stream, &request).await
                        && wire::read_response(&mut stream, &mut buf).await == Some(200)
                    {
                        processed += 1;
                    } else {
                        stream = TcpStream::connect(ctx.addr).await.expect("connect");
                        buf.clear();
                    }
                }
                processed
            })
        })
        .collect();
    let mut processed = 0;
    for task in tasks {
        processed += task.await.expect("a sender");
    }
    let secs = started.elapsed().as_secs_f64();
    format!(
        "{processed} of {total} distinct ids processed in {secs:.0} s ({:.0}/s)",
        processed as f64 / secs
    )
}

/// Headers far over hyper's limits: one 1 MiB value, or 10,000 repeats.
async fn header_abuse(ctx: Arc<Ctx>) -> String {
    let mut outcomes = std::collections::BTreeMap::<String, u32>::new();
    for round in 0..40 {
        let Ok(mut stream) = TcpStream::connect(ctx.addr).await else {
            continue;
        };
        let mut head = format!("POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\n", wire::PATH);
        if round % 2 == 0 {
            head.push_str(&format!("X-Padding: {}\r\n", "a".repeat(1 << 20)));
        } else {
            head.push_str(&"X-Repeat: 1\r\n".repeat(10_000));
        }
        head.push_str("Content-Length: 2\r\n\r\n{}");
        wire::write(&mut stream, head.as_bytes()).await;
        let (closed, status) = wire::closed_within(&mut stream, Duration::from_secs(5)).await;
        let kind = if round % 2 == 0 {
            "1 MiB value"
        } else {
            "10,000 headers"
        };
        let what = format!(
            "{kind}: {} {}",
            status.map_or("no answer".to_owned(), |s| s.to_string()),
            if closed { "closed" } else { "OPEN" }
        );
        *outcomes.entry(what).or_default() += 1;
    }
    format!("{outcomes:?}")
}

/// Many connections sending their headers one byte a second.
async fn slow_headers(ctx: Arc<Ctx>, connections: usize) -> String {
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                let Ok(mut stream) = TcpStream::connect(ctx.addr).await else {
                    return None;
                };
                let head = format!(
                    "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ",
                    wire::PATH
                );
                wire::write(&mut stream, head.as_bytes()).await;
                let started = Instant::now();
                let trickle = async {
                    while wire::write(&mut stream, b"a").await {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                };
                let _ = tokio::time::timeout(Duration::from_secs(15), trickle).await;
                let (closed, _) = wire::closed_within(&mut stream, Duration::from_secs(1)).await;
                Some((closed, started.elapsed()))
            })
        })
        .collect();
    let (mut opened, mut cut) = (0, 0);
    for task in tasks {
        if let Some((closed, _)) = task.await.expect("a slow client") {
            opened += 1;
            cut += usize::from(closed);
        }
    }
    format!("{opened} connections sending a header byte a second, {cut} cut within 16 s")
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, secret, pid] = args.as_slice() else {
        return Err("usage: example-hostile <addr> <secret> <server pid>".to_owned());
    };
    let addr: SocketAddr = addr.parse().map_err(|e| format!("addr: {e}"))?;
    if !addr.ip().is_loopback() {
        return Err("hostile traffic targets 127.0.0.1 only".to_owned());
    }
    let ctx = Arc::new(Ctx {
        addr,
        secret: secret.clone(),
        pid: pid.parse().map_err(|e| format!("pid: {e}"))?,
        next_id: AtomicU64::new(0),
    });
    let total_ids: u64 = std::env::var("HOSTILE_IDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let mut rows = vec![
        observe(&ctx, "quiet (baseline)", quiet(10)).await,
        paired(&ctx, "forged-signature flood, 20,000/s", 3, || {
            forged_flood(ctx.clone(), 32, Some(20_000), 5)
        })
        .await,
        paired(
            &ctx,
            "forged-signature flood, as fast as it goes",
            3,
            || forged_flood(ctx.clone(), 32, None, 5),
        )
        .await,
        observe(
            &ctx,
            "bodies far over the limit, fast",
            huge_bodies_fast(ctx.clone(), 10),
        )
        .await,
        observe(
            &ctx,
            "bodies far over the limit, slow",
            huge_bodies_slow(ctx.clone(), 200),
        )
        .await,
        observe(
            &ctx,
            "oversized and repeated headers",
            header_abuse(ctx.clone()),
        )
        .await,
        observe(
            &ctx,
            "slow headers, many connections",
            slow_headers(ctx.clone(), 1000),
        )
        .await,
        observe(
            &ctx,
            "distinct valid event ids",
            million_ids(ctx.clone(), total_ids),
        )
        .await,
    ];
    let quiet_p99 = rows[0].p50_p99_ms.1;
    for row in &mut rows {
        if row.vs_quiet.is_nan() {
            row.vs_quiet = row.p50_p99_ms.1 / quiet_p99;
        }
    }
    println!("| scenario | RSS before / peak / after (MiB) | valid p50 / p99 (ms) | p99 vs quiet | what happened |");
    println!("|---|---|---|---|---|");
    for row in &rows {
        let (before, peak, after) = row.rss;
        let (p50, p99) = row.p50_p99_ms;
        println!(
            "| {} | {before:.1} / {peak:.1} / {after:.1} | {p50:.2} / {p99:.2} | {:.2}× | {} |",
            row.scenario, row.vs_quiet, row.facts
        );
    }
    Ok(())
}

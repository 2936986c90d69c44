//! What the inbox remembers of the attempts it ran: each entry's failed
//! attempts ([`Attempt`]), and attempts per minute with their durations
//! ([`MinuteActivity`]), for the console's history and charts.
//!
//! Failed attempts are written with their settlement, in its transaction;
//! the done attempt is the row itself (its start, its settle time), so a
//! delivery that succeeds first time costs no extra row. Per-minute counts
//! are gathered in memory by each process ([`ActivityBuffer`]) and added
//! to the table about once a second, with a settlement, so the writer does
//! one small upsert per second instead of one per attempt.

use std::collections::BTreeMap;
use std::sync::Mutex;

use costkatana_webhooks::inbox::Settlement;

/// Longest error text kept per attempt, in bytes.
pub(crate) const MAX_ERROR: usize = 2_048;

/// How often a process adds its buffered counts to the table, in ms.
const FLUSH_EVERY_MS: i64 = 1_000;

/// Per-minute counts are kept this long, in ms (the console charts 24 h).
pub(crate) const ACTIVITY_KEPT_MS: i64 = 48 * 3_600_000;

/// How an attempt ended.
///
/// ```
/// use costkatana_webhooks_inbox::AttemptOutcome;
/// assert_eq!(AttemptOutcome::Retried.as_str(), "retried");
/// assert_eq!(AttemptOutcome::parse("dead"), Some(AttemptOutcome::Dead));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AttemptOutcome {
    /// The handler succeeded; the entry is done.
    Done,
    /// It failed and a later attempt was scheduled.
    Retried,
    /// It failed for the last time, or was refused: the entry is dead.
    Dead,
}

impl AttemptOutcome {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Done => "done",
            AttemptOutcome::Retried => "retried",
            AttemptOutcome::Dead => "dead",
        }
    }

    /// The outcome named `name`, if it is one.
    pub fn parse(name: &str) -> Option<AttemptOutcome> {
        match name {
            "done" => Some(AttemptOutcome::Done),
            "retried" => Some(AttemptOutcome::Retried),
            "dead" => Some(AttemptOutcome::Dead),
            _ => None,
        }
    }

    /// The outcome a settlement records, if it ends an attempt (a release
    /// gives an entry back before its handler started).
    pub(crate) fn of(settlement: &Settlement) -> Option<AttemptOutcome> {
        match settlement {
            Settlement::Done => Some(AttemptOutcome::Done),
            Settlement::Retry { .. } => Some(AttemptOutcome::Retried),
            Settlement::Dead { .. } => Some(AttemptOutcome::Dead),
            Settlement::Release => None,
        }
    }
}

impl std::fmt::Display for AttemptOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One attempt of an entry ([`Inbox::attempts`](crate::Inbox::attempts)).
///
/// ```
/// use costkatana_webhooks_inbox::{Attempt, AttemptOutcome};
/// let attempt = Attempt {
///     number: 1,
///     started_at_ms: 1_000,
///     duration_ms: 250,
///     outcome: AttemptOutcome::Retried,
///     error: Some("slack answered 503".into()),
///     worker: Some("web-1:4242".into()),
/// };
/// assert_eq!(attempt.ended_at_ms(), 1_250);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Its number, from 1 (counted again from 1 after a manual retry).
    pub number: u32,
    /// When its lease was taken, in ms since the epoch.
    pub started_at_ms: i64,
    /// How long it ran, in ms.
    pub duration_ms: i64,
    /// How it ended.
    pub outcome: AttemptOutcome,
    /// Why it failed (at most 2 KiB of it).
    pub error: Option<String>,
    /// The process that ran it (`host:pid`); not kept for a done attempt.
    pub worker: Option<String>,
}

impl Attempt {
    /// When it ended, in ms since the epoch.
    pub fn ended_at_ms(&self) -> i64 {
        self.started_at_ms.saturating_add(self.duration_ms)
    }
}

/// Attempts that ended in one minute, with their durations' percentiles
/// ([`Inbox::activity`](crate::Inbox::activity)).
///
/// Durations are counted in buckets a fifth of a doubling wide, so a
/// percentile is within about 8 % of the true one.
///
/// ```
/// use costkatana_webhooks_inbox::MinuteActivity;
/// let minute = MinuteActivity { minute_ms: 60_000, handled: 9, failed: 1, dead: 0,
///     p50_ms: Some(12.0), p90_ms: Some(40.0), p99_ms: Some(90.0) };
/// assert_eq!(minute.attempts(), 10);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MinuteActivity {
    /// The minute's start, in ms since the epoch.
    pub minute_ms: i64,
    /// Attempts that ended done.
    pub handled: u64,
    /// Attempts that failed and were retried.
    pub failed: u64,
    /// Attempts that ended dead.
    pub dead: u64,
    /// Median duration, ms; `None` with no attempts.
    pub p50_ms: Option<f64>,
    /// 90th percentile duration, ms.
    pub p90_ms: Option<f64>,
    /// 99th percentile duration, ms.
    pub p99_ms: Option<f64>,
}

impl MinuteActivity {
    /// Every attempt that ended in the minute.
    pub fn attempts(&self) -> u64 {
        self.handled + self.failed + self.dead
    }
}

/// One minute's counts as its rows are read: attempts per outcome, and
/// per duration bucket (an array, not a map: the read folds a day of
/// minutes, 33,120 rows in the console's million-row bench).
struct Tally {
    minute: MinuteActivity,
    buckets: [u64; LAST_BUCKET as usize + 1],
}

impl Tally {
    fn new(minute_ms: i64) -> Tally {
        Tally {
            minute: MinuteActivity {
                minute_ms,
                handled: 0,
                failed: 0,
                dead: 0,
                p50_ms: None,
                p90_ms: None,
                p99_ms: None,
            },
            buckets: [0; LAST_BUCKET as usize + 1],
        }
    }

    fn add(&mut self, (outcome, bucket): (Option<AttemptOutcome>, Option<i64>), n: i64) {
        let n = u64::try_from(n).unwrap_or(0);
        match outcome {
            Some(AttemptOutcome::Done) => self.minute.handled += n,
            Some(AttemptOutcome::Retried) => self.minute.failed += n,
            Some(AttemptOutcome::Dead) => self.minute.dead += n,
            None => {}
        }
        if let Some(bucket) = bucket {
            let at = usize::try_from(bucket.clamp(0, LAST_BUCKET)).unwrap_or(0);
            self.buckets[at] += n;
        }
    }

    fn finish(mut self) -> MinuteActivity {
        let total: u64 = self.buckets.iter().sum();
        let percentile = |q: f64| {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let rank = ((q * total as f64).ceil() as u64).max(1);
            let mut seen = 0;
            (0..=LAST_BUCKET)
                .zip(&self.buckets)
                .find_map(|(bucket, &n)| {
                    seen += n;
                    (seen >= rank).then(|| bucket_ms(bucket))
                })
        };
        self.minute.p50_ms = percentile(0.50);
        self.minute.p90_ms = percentile(0.90);
        self.minute.p99_ms = percentile(0.99);
        self.minute
    }
}

/// Buckets per doubling of the duration.
const PER_DOUBLING: f64 = 5.0;
/// The last bucket (about 12 days): longer durations count in it.
const LAST_BUCKET: i64 = 150;

/// The bucket of a duration: 0 under 1 ms, then a fifth of a doubling each.
pub(crate) fn bucket(duration_ms: i64) -> i64 {
    if duration_ms < 1 {
        return 0;
    }
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
    let b = ((duration_ms as f64).log2() * PER_DOUBLING).floor() as i64 + 1;
    b.clamp(1, LAST_BUCKET)
}

/// A bucket's middle, in ms (its geometric mean; half a ms for bucket 0).
fn bucket_ms(bucket: i64) -> f64 {
    if bucket <= 0 {
        return 0.5;
    }
    #[allow(clippy::cast_precision_loss)]
    let lower = (bucket - 1) as f64 / PER_DOUBLING;
    (lower + 0.5 / PER_DOUBLING).exp2()
}

/// The bucket of an activity row that counts attempts by outcome.
const OUTCOME_ROW: i64 = -1;
/// The outcome of an activity row that counts attempts by duration.
const ANY_OUTCOME: &str = "all";

/// What an activity row counts: attempts with one outcome (its bucket is
/// [`OUTCOME_ROW`]), or attempts of any outcome in one duration bucket (its
/// outcome is [`ANY_OUTCOME`]); a row of both, as written before schema
/// version 5, counts as both.
pub(crate) fn counted(outcome: &str, bucket: i64) -> (Option<AttemptOutcome>, Option<i64>) {
    let duration = (bucket != OUTCOME_ROW).then_some(bucket);
    match outcome {
        ANY_OUTCOME => (None, duration),
        named => (AttemptOutcome::parse(named), duration),
    }
}

/// The minute a time falls in, in ms since the epoch.
pub(crate) fn minute_of(ms: i64) -> i64 {
    ms.div_euclid(60_000) * 60_000
}

/// `(minute, outcome, bucket)` and how many attempts.
pub(crate) type Counts = BTreeMap<(i64, &'static str, i64), i64>;

/// Attempts this process ended since its last flush.
#[derive(Debug, Default)]
pub(crate) struct ActivityBuffer {
    inner: Mutex<Buffered>,
}

#[derive(Debug, Default)]
struct Buffered {
    counts: Counts,
    flushed_at_ms: i64,
}

impl ActivityBuffer {
    /// Counts an attempt that ended at `ended_ms` after `duration_ms`.
    pub(crate) fn record(&self, outcome: AttemptOutcome, ended_ms: i64, duration_ms: i64) {
        let minute = minute_of(ended_ms);
        let mut inner = self.lock();
        *inner
            .counts
            .entry((minute, outcome.as_str(), OUTCOME_ROW))
            .or_default() += 1;
        *inner
            .counts
            .entry((minute, ANY_OUTCOME, bucket(duration_ms)))
            .or_default() += 1;
    }

    /// What to add to the table now: everything, when the last flush is a
    /// second old or `force`; else nothing. What is taken is the caller's
    /// to write; if that write fails, [`ActivityBuffer::restore`] puts it
    /// back.
    pub(crate) fn take_due(&self, now_ms: i64, force: bool) -> Counts {
        let mut inner = self.lock();
        if inner.counts.is_empty() || (!force && now_ms - inner.flushed_at_ms < FLUSH_EVERY_MS) {
            return Counts::new();
        }
        inner.flushed_at_ms = now_ms;
        std::mem::take(&mut inner.counts)
    }

    /// Puts back counts whose write failed.
    pub(crate) fn restore(&self, counts: Counts) {
        let mut inner = self.lock();
        for (key, n) in counts {
            *inner.counts.entry(key).or_default() += n;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buffered> {
        // Counts only: a panic elsewhere while the lock was held leaves
        // them usable.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A failed attempt as its row holds it: number, start, end, outcome,
/// error, worker.
pub(crate) type AttemptRow = (i64, i64, i64, String, Option<String>, Option<String>);

/// What a row says of its last attempt: state, attempts, start, settle
/// time.
pub(crate) type LastAttempt = (String, i64, Option<i64>, Option<i64>);

/// An entry's attempts: its failed ones as recorded, then the done one
/// the row itself describes.
pub(crate) fn attempts(failed: Vec<AttemptRow>, last: LastAttempt) -> Vec<Attempt> {
    let number = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
    let mut attempts: Vec<Attempt> = failed
        .into_iter()
        .filter_map(|(n, started, ended, outcome, error, worker)| {
            Some(Attempt {
                number: number(n),
                started_at_ms: started,
                duration_ms: ended.saturating_sub(started).max(0),
                outcome: AttemptOutcome::parse(&outcome)?,
                error,
                worker,
            })
        })
        .collect();
    if let (state, n, Some(started), Some(settled)) = last {
        if state == "done" {
            attempts.push(Attempt {
                number: number(n),
                started_at_ms: started,
                duration_ms: settled.saturating_sub(started).max(0),
                outcome: AttemptOutcome::Done,
                error: None,
                worker: None,
            });
        }
    }
    attempts
}

/// The minutes in `rows` (`minute`, what the row counts as [`counted`]
/// tells, `n`; ordered by minute, as both backends read them), each with
/// its counts and percentiles.
pub(crate) fn minutes(
    rows: impl IntoIterator<Item = (i64, (Option<AttemptOutcome>, Option<i64>), i64)>,
) -> Vec<MinuteActivity> {
    let mut minutes = Vec::new();
    let mut current: Option<Tally> = None;
    for (minute_ms, counts, n) in rows {
        if current
            .as_ref()
            .is_none_or(|t| t.minute.minute_ms != minute_ms)
        {
            minutes.extend(current.replace(Tally::new(minute_ms)).map(Tally::finish));
        }
        if let Some(tally) = current.as_mut() {
            tally.add(counts, n);
        }
    }
    minutes.extend(current.map(Tally::finish));
    minutes
}

/// An attempt's error as kept: at most [`MAX_ERROR`] bytes, cut at a
/// character boundary.
pub(crate) fn bounded(error: &str) -> String {
    if error.len() <= MAX_ERROR {
        return error.to_owned();
    }
    let mut end = MAX_ERROR;
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &error[..end])
}

/// This process, as attempts name their worker: `host:pid`.
pub(crate) fn worker_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|host| host.trim().to_owned())
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{host}:{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_a_fifth_of_a_doubling_and_percentiles_land_within_one() {
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(1), 1);
        assert_eq!(bucket(2), 6);
        assert!(bucket(i64::MAX) == LAST_BUCKET);
        for ms in [1_i64, 3, 10, 99, 1_000, 60_000] {
            #[allow(clippy::cast_precision_loss)]
            let error = (bucket_ms(bucket(ms)) - ms as f64).abs() / ms as f64;
            assert!(
                error < 0.08,
                "{ms} ms read back as {}",
                bucket_ms(bucket(ms))
            );
        }
    }

    #[test]
    fn a_minute_counts_its_outcomes_and_reads_its_percentiles() {
        // Version 5's rows, and one of each older row's kind.
        let rows = [
            (0, "done", -1, 98),
            (0, "retried", -1, 1),
            (0, "all", bucket(10), 98),
            (0, "all", bucket(500), 1),
            (0, "unknown", -1, 50),
            (0, "dead", bucket(2_000), 1),
            (60_000, "done", bucket(3), 1),
        ]
        .map(|(minute, outcome, bucket, n)| (minute, counted(outcome, bucket), n));
        let read = minutes(rows);
        assert_eq!(read.len(), 2);
        let minute = &read[0];
        assert_eq!((minute.handled, minute.failed, minute.dead), (98, 1, 1));
        let near = |got: Option<f64>, want: f64| (got.unwrap() - want).abs() / want < 0.08;
        assert!(near(minute.p50_ms, 10.0), "{:?}", minute.p50_ms);
        assert!(near(minute.p90_ms, 10.0), "{:?}", minute.p90_ms);
        assert!(near(minute.p99_ms, 500.0), "{:?}", minute.p99_ms);
        assert_eq!((read[1].minute_ms, read[1].handled), (60_000, 1));
        assert!(near(read[1].p99_ms, 3.0), "{:?}", read[1].p99_ms);
        assert!(minutes([]).is_empty());
        assert_eq!(Tally::new(0).finish().p50_ms, None);
    }

    #[test]
    fn the_buffer_hands_out_its_counts_once_a_second_and_takes_back_a_failed_write() {
        let buffer = ActivityBuffer::default();
        buffer.record(AttemptOutcome::Done, 61_000, 5);
        buffer.record(AttemptOutcome::Done, 61_500, 5);
        let first = buffer.take_due(2_000, false);
        // Each attempt counts once by outcome and once by duration.
        assert_eq!(first.values().sum::<i64>(), 4);
        buffer.record(AttemptOutcome::Dead, 62_000, 5);
        assert!(buffer.take_due(2_500, false).is_empty(), "not a second yet");
        buffer.restore(first);
        let all = buffer.take_due(2_500, true);
        assert_eq!(all.len(), 3);
        assert_eq!(all[&(60_000, "done", OUTCOME_ROW)], 2);
        assert_eq!(all[&(60_000, "dead", OUTCOME_ROW)], 1);
        assert_eq!(all[&(60_000, ANY_OUTCOME, bucket(5))], 3);
    }

    #[test]
    fn long_errors_are_cut_at_a_character_boundary() {
        let long = "é".repeat(MAX_ERROR);
        let cut = bounded(&long);
        assert!(cut.len() <= MAX_ERROR + '…'.len_utf8());
        assert!(cut.ends_with('…'));
        assert_eq!(bounded("short"), "short");
    }
}

//! Does the time of verification depend on how much of a forged signature
//! is right? A dudect-style check: two classes of forgeries, one wrong in
//! its first byte (no leading byte right), one wrong in its last (31
//! leading bytes right), verified in a random interleaving; Welch's t-test
//! on the two timing distributions (also after cropping the slowest
//! samples, where interrupts land). |t| above 4.5 is evidence of a leak.
//!
//! A control runs the same measurement on an early-exit byte comparison,
//! which does leak: it shows the method can see a leak of a few
//! nanoseconds on this machine. A null check measures one forgery against
//! itself: with a million samples the t-test also flags sub-nanosecond
//! differences of layout and timer rounding, and this row shows how large
//! those are here.
//!
//! `cargo bench -p costkatana-webhooks --features testing --bench timing`
//! (`TIMING_SAMPLES=<per class>`, default 1,000,000).

use std::hint::black_box;
use std::time::Instant;

use costkatana_webhooks::signing::signature_hex;
use costkatana_webhooks::Verifier;

const SECRET: &str = "whsec_timing";
const NOW: i64 = 1_777_377_600_000;
const BODY: &[u8] =
    br#"{"eventId":"evt_timing","eventType":"cost.alert","data":{"title":"Daily cost"}}"#;

/// Welch's t statistic of two samples.
fn welch_t(a: &[f64], b: &[f64]) -> f64 {
    let stats = |xs: &[f64]| {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, var, n)
    };
    let ((ma, va, na), (mb, vb, nb)) = (stats(a), stats(b));
    (ma - mb) / (va / na + vb / nb).sqrt()
}

/// Samples below the `keep` quantile of both classes pooled.
fn cropped(a: &[f64], b: &[f64], keep: f64) -> (Vec<f64>, Vec<f64>) {
    let mut pooled: Vec<f64> = a.iter().chain(b).copied().collect();
    pooled.sort_by(f64::total_cmp);
    let limit = pooled[((pooled.len() as f64) * keep) as usize];
    let below = |xs: &[f64]| xs.iter().copied().filter(|x| *x < limit).collect();
    (below(a), below(b))
}

/// A fast deterministic RNG for the interleaving (xorshift64*).
struct Rng(u64);

impl Rng {
    fn bit(&mut self) -> bool {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 63 == 1
    }
}

/// Times `run(slot)` `per_class` times for each of two classes, in a
/// random interleaving; before each (untimed), `set` puts the class's input
/// into the one `slot`, so both classes run on the same memory and differ
/// only in content. Returns the nanoseconds of each class.
fn measure<S>(
    per_class: usize,
    slot: &mut S,
    mut set: impl FnMut(&mut S, bool),
    mut run: impl FnMut(&S),
) -> (Vec<f64>, Vec<f64>) {
    let (mut zero, mut many) = (Vec::with_capacity(per_class), Vec::with_capacity(per_class));
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    while zero.len() < per_class || many.len() < per_class {
        let class = rng.bit();
        if (class && many.len() == per_class) || (!class && zero.len() == per_class) {
            continue;
        }
        set(slot, class);
        let started = Instant::now();
        run(slot);
        let nanos = started.elapsed().as_nanos() as f64;
        if class {
            many.push(nanos)
        } else {
            zero.push(nanos)
        }
    }
    (zero, many)
}

fn report(what: &str, zero: &[f64], many: &[f64]) -> f64 {
    let raw = welch_t(zero, many);
    let (z, m) = cropped(zero, many, 0.9);
    let crop = welch_t(&z, &m);
    let median = |xs: &[f64]| {
        let mut xs = xs.to_vec();
        xs.sort_by(f64::total_cmp);
        xs[xs.len() / 2]
    };
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    println!(
        "{what:<36} median {:>4.0} vs {:>4.0} ns, mean difference {:>6.2} ns   t = {raw:>7.2} (all)   t = {crop:>7.2} (fastest 90 %)",
        median(zero),
        median(many),
        mean(zero) - mean(many)
    );
    raw.abs().max(crop.abs())
}

fn main() {
    let per_class: usize = std::env::var("TIMING_SAMPLES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let timestamp = NOW.to_string();
    let expected = signature_hex(SECRET, &timestamp, BODY);
    // Forged by changing the first or the last hex digit to its neighbour of
    // the same kind (digit or letter), so that both forgeries decode along
    // the same path and differ only in where they stop matching.
    let flip = |hex: &str, at: usize| {
        let mut bytes = hex.as_bytes().to_vec();
        bytes[at] = match bytes[at] {
            b'9' => b'8',
            b'f' => b'e',
            digit => digit + 1,
        };
        String::from_utf8(bytes).expect("hex")
    };
    let wrong_first = flip(&expected, 0);
    let wrong_last = flip(&expected, 63);
    let verifier = Verifier::builder()
        .secret(SECRET)
        .build()
        .expect("a verifier");
    let body = bytes::Bytes::from_static(BODY);
    let mut headers = [
        ("X-Webhook-Timestamp", timestamp.clone()),
        ("X-Webhook-Signature", wrong_first.clone()),
    ];
    let mut verify_with = |signatures: [&str; 2]| {
        let set = |headers: &mut [(&str, String); 2], class: bool| {
            // Same length, so the String keeps its allocation.
            headers[1].1.clear();
            headers[1].1.push_str(signatures[usize::from(class)]);
        };
        measure(per_class, &mut headers, set, |headers| {
            let result = verifier.verify_at(black_box(headers), body.clone(), NOW);
            assert!(black_box(result).is_err());
        })
    };

    println!("{per_class} forgeries per class, interleaved at random\n");
    let (zero, many) = verify_with([&wrong_first, &wrong_last]);
    let ours = report("Verifier::verify_at (0 vs 31 right)", &zero, &many);
    // The null check: one forgery in both classes, so any |t| here is the
    // method's own noise floor on this machine.
    let (zero, many) = verify_with([&wrong_first, &wrong_first]);
    let null = report("null: the same forgery twice", &zero, &many);

    // The control: an early-exit comparison of the decoded signatures.
    let decode = |hex: &str| -> Vec<u8> {
        (0..32)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
            .collect()
    };
    let (want, forged) = (
        decode(&expected),
        [decode(&wrong_first), decode(&wrong_last)],
    );
    let leaky = |a: &[u8], b: &[u8]| {
        for (x, y) in a.iter().zip(b) {
            if x != y {
                return false;
            }
        }
        true
    };
    let mut candidate = forged[0].clone();
    let (zero, many) = measure(
        per_class,
        &mut candidate,
        |candidate, class| candidate.copy_from_slice(&forged[usize::from(class)]),
        |candidate| assert!(!black_box(leaky(black_box(&want), black_box(candidate)))),
    );
    let control = report("control: early-exit compare", &zero, &many);

    println!();
    println!(
        "verify: {} (|t| = {ours:.2}, threshold 4.5; null check |t| = {null:.2}); control: {} (|t| = {control:.2})",
        if ours < 4.5 {
            "no evidence of a timing leak"
        } else {
            "TIMING DIFFERENCE FOUND"
        },
        if control >= 4.5 {
            "leak detected, as it should be"
        } else {
            "leak NOT detected: the check lacks power"
        }
    );
}

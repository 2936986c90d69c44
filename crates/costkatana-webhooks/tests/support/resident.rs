//! This process's resident memory: for the memory store's per-entry
//! figure, in its test and in the stores bench.

/// Resident set size from /proc (Linux), 0 elsewhere.
pub(crate) fn resident_bytes() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse::<usize>().ok()
        })
        .map_or(0, |kib| kib * 1024)
}

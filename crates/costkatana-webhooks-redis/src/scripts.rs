//! The three atomic steps, each one Lua script on one key: one round trip
//! (`EVALSHA`, falling back to loading the script once per server).

use redis::Script;

/// `SET key inflight:<token> NX PX <lease ms>`. Answers nil when the claim
/// was taken, else what the key holds (`done` or another holder's
/// `inflight:<token>`), read in the same atomic step.
pub(crate) fn claim() -> Script {
    Script::new(
        r"
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
        return redis.call('GET', KEYS[1])
        ",
    )
}

/// Sets the key to `done` for `<ttl ms>` if `inflight:<token>` still holds
/// it or nothing does (our lease lapsed and no one took it over). Answers
/// 1 if it did, 0 if another holder's claim or completion is there.
pub(crate) fn complete() -> Script {
    Script::new(
        r"
        local held = redis.call('GET', KEYS[1])
        if held == ARGV[1] or held == false then
            redis.call('SET', KEYS[1], 'done', 'PX', ARGV[2])
            return 1
        end
        return 0
        ",
    )
}

/// Deletes the key, only if `inflight:<token>` still holds it. Answers 1 if
/// it did, 0 if the claim was no longer ours.
pub(crate) fn release() -> Script {
    Script::new(
        r"
        if redis.call('GET', KEYS[1]) == ARGV[1] then
            redis.call('DEL', KEYS[1])
            return 1
        end
        return 0
        ",
    )
}

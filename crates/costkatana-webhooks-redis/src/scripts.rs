//! The three atomic steps, each one Lua script: one round trip, one key.

use redis::Script;

/// `SET key inflight:<token> NX PX lease`; on failure, what is there:
/// 1 = claimed, 2 = done, 3 = in flight elsewhere.
pub(crate) fn claim() -> Script {
    Script::new(
        r"
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
        if redis.call('GET', KEYS[1]) == 'done' then return 2 end
        return 3
        ",
    )
}

/// Marks the key done for `ttl` ms, only if `token` still holds it.
pub(crate) fn complete() -> Script {
    Script::new(
        r"
        if redis.call('GET', KEYS[1]) == ARGV[1] then
            redis.call('SET', KEYS[1], 'done', 'PX', ARGV[2])
            return 1
        end
        return 0
        ",
    )
}

/// Deletes the key, only if `token` still holds it.
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

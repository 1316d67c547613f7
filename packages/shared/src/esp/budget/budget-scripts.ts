/**
 * The budgets' Lua scripts: each decision reads and writes a budget in one atomic step, so any
 * number of processes (api replicas, workers) can take from one budget without racing. Every
 * script reads the clock from Redis (`TIME`), so processes whose clocks differ still agree on
 * windows and lease expiries. A script returns 0 when the call may go, else how many ms to wait
 * before asking again. Asking again with the same member is safe: a grant whose reply was lost
 * (a command timeout) is found and not counted twice.
 */

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * Rolling window (Kit): a sorted set of the window's sends, each scored by when the vendor may
 * have counted it at the latest. The vendor counts a request when it arrives, somewhere between
 * our send and its answer; so a send in flight is scored in the future (now + lease: it counts
 * until answered) and, once answered, at the answer's time (ROLLING_WINDOW_ANSWERED). Our window
 * then always holds every request the vendor's holds, whatever the latency.
 * KEYS[1] the set. ARGV: [1] sends this call may find in the window (the budget minus the
 * reserve it must leave), [2] window ms, [3] a unique member for this send, [4] lease ms.
 */
export const ROLLING_WINDOW_TAKE = `${NOW}
local allowed = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local lease = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
-- Asked again after a reply that never reached us: the send is already counted.
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then return 0 end
local used = redis.call('ZCARD', KEYS[1])
if used < allowed then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window + lease)
  return 0
end
-- Room for this call once the (used - allowed + 1)-th oldest send has left the window; a send
-- still in flight will be answered soon (ask again shortly).
local entry = redis.call('ZRANGE', KEYS[1], used - allowed, used - allowed, 'WITHSCORES')
local at = tonumber(entry[2])
if at > now then return 50 end
return math.max(1, at + window - now + 1)
`;

/** A rolling-window send was answered: KEYS[1] the set, ARGV[1] its member; scored now. */
export const ROLLING_WINDOW_ANSWERED = `${NOW}
redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1])
return 0
`;

/**
 * Concurrency (Mailchimp): a sorted set of leases, scored by expiry. A lease ends when its call
 * releases it, or by itself once expired: a process that dies mid-request blocks its slot for
 * one lease at most. KEYS[1] the set. ARGV: [1] slots this call may find taken, [2] lease ms,
 * [3] the lease id. Returns 0 or the time until the first lease expires (the caller polls more
 * often: a release frees a slot sooner).
 */
export const CONCURRENCY_TAKE = `${NOW}
local allowed = tonumber(ARGV[1])
local lease = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then return 0 end
local used = redis.call('ZCARD', KEYS[1])
if used < allowed then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], lease)
  return 0
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(first[2]) - now)
`;

/** KEYS[1] a set of leases; ARGV[1] the lease id. */
export const LEASE_RELEASE = `redis.call('ZREM', KEYS[1], ARGV[1]) return 0`;

/**
 * Vendor window (beehiiv). KEYS[1] a hash: `remaining` (the vendor's RateLimit-Remaining for the
 * window, lowest seen), `reset` (ms: its RateLimit-Reset), `limit`, `guessed` (1 while no answer
 * has described the window: the documented quota is assumed). KEYS[2] a sorted set of leases of
 * the calls in flight: sent, not yet answered, so not yet in `remaining` — the calls the budget
 * holds back for. ARGV: [1] share of the window's limit to leave unused, [2] assumed limit, [3] assumed window ms, [4] lease
 * ms, [5] lease id, [6] margin ms after a reset (clocks differ).
 */
export const VENDOR_WINDOW_TAKE = `${NOW}
local share = tonumber(ARGV[1])
local lease = tonumber(ARGV[4])
local margin = tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZSCORE', KEYS[2], ARGV[5]) then return 0 end
local inflight = redis.call('ZCARD', KEYS[2])
local state = redis.call('HMGET', KEYS[1], 'remaining', 'reset', 'limit')
local remaining = tonumber(state[1])
local reset = tonumber(state[2])
local limit = tonumber(state[3]) or tonumber(ARGV[2])
if (not reset) or (not remaining) or now >= reset + margin then
  -- Nothing known, or the window the vendor described is over: assume a fresh one until an
  -- answer says otherwise.
  remaining = limit
  reset = now + tonumber(ARGV[3])
  redis.call('HSET', KEYS[1], 'remaining', remaining, 'reset', reset, 'limit', limit, 'guessed', 1)
end
redis.call('PEXPIRE', KEYS[1], reset - now + margin + 60000)
-- The reserve is a share of the limit the vendor reports, not of the one assumed.
local reserve = 0
if share > 0 and limit >= 2 then reserve = math.max(1, math.floor(limit * share)) end
if remaining - inflight > reserve then
  redis.call('ZADD', KEYS[2], now + lease, ARGV[5])
  redis.call('PEXPIRE', KEYS[2], lease)
  return 0
end
return math.max(1, reset + margin - now)
`;

/**
 * An answer of a vendor-window call: its lease ends, and its RateLimit-* headers update the
 * window. Within one window the vendor's Remaining only goes down, so the lowest value seen wins
 * (answers can arrive out of order); a later Reset starts a new window; an earlier one is a late
 * answer from a window already over, unless the window was only assumed.
 * KEYS as VENDOR_WINDOW_TAKE. ARGV: [1] lease id, [2] '1' when the answer had the headers,
 * [3] Remaining, [4] Reset (ms), [5] Limit (0: not given).
 */
export const VENDOR_WINDOW_REPORT = `${NOW}
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] ~= '1' then return 0 end
local remaining = tonumber(ARGV[3])
local reset = tonumber(ARGV[4])
local limit = tonumber(ARGV[5])
local state = redis.call('HMGET', KEYS[1], 'remaining', 'reset', 'guessed')
local known = tonumber(state[2])
if (not known) or state[3] == '1' or reset > known then
  redis.call('HSET', KEYS[1], 'remaining', remaining, 'reset', reset, 'guessed', 0)
elseif reset == known then
  redis.call('HSET', KEYS[1], 'remaining', math.min(tonumber(state[1]) or remaining, remaining))
end
if limit > 0 then redis.call('HSET', KEYS[1], 'limit', limit) end
redis.call('PEXPIRE', KEYS[1], math.max(reset - now, 0) + 120000)
return 0
`;

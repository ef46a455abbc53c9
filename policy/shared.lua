-- shared.lua - authguard's shared state in Redis: one script, many servers.
--
-- Loaded once per connection (SCRIPT LOAD) and run with EVALSHA, so that
-- each operation is atomic: two servers racing at a threshold see each
-- other's reservations and failures, and lock at exactly the limit. It
-- mirrors lib/limits.c, which keeps the same state in one process.
--
-- An entry (KEYS[1] an account, KEYS[2] an address; a missing one is
-- named in the flags) is one string, "LU LL LT|F|M|R" (one GET to read,
-- one SET to write):
--   LU LL LT  locked until, lock level, when last locked (unix seconds)
--   F         failures in the window, "T:FP:WHO:ID," each (FP a keyed
--             password fingerprint, WHO the keyed name of the other side
--             (limits_hash, keyed by the fingerprint key), ID
--             unique per failure so that a merge never counts twice)
--   M         familiar addresses, "WHO:T," (account entries)
--   R         reservations of attempts in flight, "ID:EXPIRES,"
-- Every entry expires when nothing in it matters any more.
--
-- ARGV: 1 operation, 2 now, 3-11 the limits (below), then per operation.

local op, now = ARGV[1], tonumber(ARGV[2])
local acct_n, acct_secs = tonumber(ARGV[3]), tonumber(ARGV[4])
local addr_n, addr_secs = tonumber(ARGV[5]), tonumber(ARGV[6])
local lock_time, lock_max = tonumber(ARGV[7]), tonumber(ARGV[8])
local fam_ttl, guess, stale_gap = tonumber(ARGV[9]), tonumber(ARGV[10]),
    tonumber(ARGV[11])
local fp, who, flags = tonumber(ARGV[12]), tonumber(ARGV[13]),
    tonumber(ARGV[14])
local resid = ARGV[15]

local function bit(n) return math.floor(flags / 2 ^ n) % 2 == 1 end

-- load - an entry with what is still current
local function load(key, secs)
	local v = redis.call('GET', key) or ''
	local lu, ll, lt, f, m, r = string.match(v,
	    '^(%d+) (%d+) (%d+)|([^|]*)|([^|]*)|([^|]*)$')
	local e = {key = key, secs = secs, lu = tonumber(lu) or 0,
	    ll = tonumber(ll) or 0, lt = tonumber(lt) or 0, f = {}, m = {},
	    r = {}}
	for t, p, w, id in string.gmatch(f or '', '(%d+):(%d+):(%d+):([^,]*),') do
		t = tonumber(t)
		if t + secs > now then
			e.f[#e.f + 1] = {t, tonumber(p), tonumber(w), id}
		end
	end
	for w, t in string.gmatch(m or '', '(%d+):(%d+),') do
		t = tonumber(t)
		if t + fam_ttl > now then e.m[#e.m + 1] = {tonumber(w), t} end
	end
	for id, x in string.gmatch(r or '', '([^:,|]+):(%d+),') do
		x = tonumber(x)
		if x > now then e.r[#e.r + 1] = {id, x} end
	end
	return e
end

-- save - write back, with an expiry that outlives what still matters
local function save(e)
	local f, m, r, ttl = {}, {}, {}, 0
	for _, x in ipairs(e.f) do
		f[#f + 1] = x[1] .. ':' .. x[2] .. ':' .. x[3] .. ':' .. x[4] .. ','
		ttl = math.max(ttl, x[1] + e.secs - now)
	end
	for _, x in ipairs(e.m) do
		m[#m + 1] = x[1] .. ':' .. x[2] .. ','
		ttl = math.max(ttl, x[2] + fam_ttl - now)
	end
	for _, x in ipairs(e.r) do
		r[#r + 1] = x[1] .. ':' .. x[2] .. ','
		ttl = math.max(ttl, x[2] - now)
	end
	ttl = math.max(ttl, e.lu - now)
	-- the level counts until 2 * lock_max have passed, that second too
	if e.ll > 0 then ttl = math.max(ttl, e.lt + 2 * lock_max - now + 1) end
	if ttl <= 0 then
		redis.call('DEL', e.key)
		return
	end
	redis.call('SET', e.key, e.lu .. ' ' .. e.ll .. ' ' .. e.lt .. '|' ..
	    table.concat(f) .. '|' .. table.concat(m) .. '|' .. table.concat(r),
	    'EX', math.floor(ttl) + 1)
end

local function locked(e) return e.lu > now end

-- Redis's clock: a change sent again after an outage carries the time it
-- happened ("now"), which may be long past
local clock = tonumber(redis.call('TIME')[1])

-- forget - failures up to now leave the window (later ones, which a change
-- sent again after an outage may find, stay)
local function forget(e)
	for k = #e.f, 1, -1 do
		if e.f[k][1] <= now then table.remove(e.f, k) end
	end
end

-- lock - the limit was reached: lock, longer each time (lock_entry); a
-- lock that would have ended already (an old failure sent again) is none,
-- and none ever shortens a later one
local function lock(e)
	local level = e.ll
	if e.lt > 0 and now - e.lt > 2 * lock_max then level = 0 end
	local secs = math.min(lock_time * 2 ^ math.min(level, 30), lock_max)
	forget(e)
	if now + secs <= clock then return 0 end
	e.lu, e.ll = math.max(e.lu, now + secs), math.min(level + 1, 30)
	e.lt = math.max(e.lt, now)
	return e.lu
end

local function has_fp(e, p)
	if p == 0 then return nil end
	for _, x in ipairs(e.f) do if x[2] == p then return x end end
	return nil
end

local function familiar(e, w)
	for _, x in ipairs(e.m) do if x[1] == w then return true end end
	return false
end

-- full - attempts in flight could bring the window to its limit
local function full(e, n, p)
	return #e.r > 0 and not has_fp(e, p) and #e.f + #e.r >= n
end

local function unreserve(e)
	for i = #e.r, 1, -1 do
		if e.r[i][1] == resid then table.remove(e.r, i) end
	end
end

-- record - one failure; returns 1 for a repeat old enough to be stale
local function record(e, n, p, w, id)
	for _, x in ipairs(e.f) do
		if x[4] == id then return 0 end		-- merged twice
	end
	local x = has_fp(e, p)
	if x then return (now - x[1] >= stale_gap) and 1 or 0 end
	if #e.f >= n then
		local oldest = 1
		for i = 2, #e.f do if e.f[i][1] < e.f[oldest][1] then oldest = i end end
		table.remove(e.f, oldest)
	end
	e.f[#e.f + 1] = {now, p, w, id}
	return 0
end

local function distinct(e, field)
	local seen, n = {}, 0
	for _, x in ipairs(e.f) do
		local v = x[field]
		if v ~= 0 and not seen[v] then seen[v], n = true, n + 1 end
	end
	return n
end

local entries = op ~= 'keycheck'
local a = entries and bit(0) and load(KEYS[1], acct_secs) or nil
local i = entries and bit(1) and load(KEYS[2], addr_secs) or nil
local no_limit = bit(2)

-- check: may an attempt go ahead? {verdict, retry_at, reserved account,
-- reserved address, account locked until, address locked until};
-- verdicts as enum limits_verdict
if op == 'check' then
	local expires = tonumber(ARGV[16])
	if i and not locked(i) and #i.f >= addr_n then lock(i); save(i) end
	if i and locked(i) then return {3, i.lu, 0, 0} end
	if a and not no_limit and not locked(a) and #a.f >= acct_n then
		lock(a); save(a)
	end
	local applies = a and not no_limit and not familiar(a, who)
	if applies and locked(a) then return {2, a.lu, 0, 0} end
	if i and full(i, addr_n, fp) then return {1, 0, 0, 0} end
	if applies and full(a, acct_n, fp) then return {1, 0, 0, 0} end
	local ra, ri = 0, 0
	if i and not has_fp(i, fp) then
		i.r[#i.r + 1] = {resid, expires}; ri = 1; save(i)
	end
	if applies and not has_fp(a, fp) then
		a.r[#a.r + 1] = {resid, expires}; ra = 1; save(a)
	end
	return {0, 0, ra, ri, a and a.lu or 0, i and i.lu or 0}
end

-- fail: {stale, guessing, locked_until, the account was locked}
if op == 'fail' then
	local acct_who, id = tonumber(ARGV[16]), ARGV[17]
	local out = {0, 0, 0, 0}
	if i then unreserve(i) end
	if a then unreserve(a) end
	-- KEYS[3] names this failure: one sent again (after a lost
	-- connection) is not counted again, even after a lock emptied the window
	local new = redis.call('SET', KEYS[3], 1, 'NX', 'EX',
	    math.max(acct_secs, addr_secs)) ~= false
	if not new then
		if i then save(i) end
		if a then save(a) end
		return out
	end
	if i and bit(4) then
		out[1] = math.max(out[1], record(i, addr_n, fp, acct_who, id))
		if distinct(i, 3) >= guess then out[2] = 1 end
		if #i.f >= addr_n then out[3] = lock(i) end
	end
	if a and bit(3) and not no_limit then
		out[1] = math.max(out[1], record(a, acct_n, fp, who, id))
		if distinct(a, 2) >= guess then out[2] = 1 end
		if #a.f >= acct_n then
			local lu = lock(a)
			if lu > 0 then out[3], out[4] = lu, 1 end
		end
	end
	if i then save(i) end
	if a then save(a) end
	return out
end

-- pass: the account's window starts over; the address becomes familiar
if op == 'pass' then
	if i then unreserve(i); save(i) end
	if a then
		unreserve(a)
		forget(a)		-- a change sent again keeps later failures
		if bit(1) then
			local slot = nil
			for k, x in ipairs(a.m) do if x[1] == who then slot = k end end
			if not slot and #a.m >= 8 then
				slot = 1
				for k = 2, #a.m do if a.m[k][2] < a.m[slot][2] then slot = k end end
			end
			a.m[slot or #a.m + 1] = {who, math.max(now,
			    slot and a.m[slot][1] == who and a.m[slot][2] or 0)}
		end
		save(a)
	end
	return 1
end

-- release: an attempt ended without an outcome worth recording
if op == 'release' then
	if i then unreserve(i); save(i) end
	if a then unreserve(a); save(a) end
	return 1
end

-- lock: the admin locks until ARGV[16]
if op == 'lock' then
	local e = a or i
	if e.lt > now then		-- sent again after a later lock: keep that
		e.lu = math.max(e.lu, tonumber(ARGV[16]))
	else
		-- a level that had lapsed (lock) does not come back with it
		if e.lt > 0 and now - e.lt > 2 * lock_max then e.ll = 0 end
		e.lu, e.lt = tonumber(ARGV[16]), now
	end
	forget(e)
	save(e)
	return e.lu
end

-- unlock: lift locks; how many entries there were
if op == 'unlock' then
	local n = 0
	for _, e in ipairs({a, i}) do
		-- an unlock sent again after an outage lifts no later lock
		if e and redis.call('EXISTS', e.key) == 1 and e.lt <= now then
			e.lu, e.ll, n = 0, 0, n + 1
			forget(e)
			save(e)
		end
	end
	return n
end

-- locked: after a relayed mechanism's OK, the account's lock time, 0
-- when it is not locked for this address (familiar)
if op == 'locked' then
	if a and not no_limit and locked(a) and not familiar(a, who) then
		return a.lu
	end
	return 0
end

-- info: {account locked until, failures, familiar, address locked
-- until, failures}, for authguard why
if op == 'info' then
	return {a and a.lu or 0, a and #a.f or 0, a and #a.m or 0,
	    i and i.lu or 0, i and #i.f or 0}
end

-- keycheck: the first server's fingerprint key check value wins
if op == 'keycheck' then
	redis.call('SET', KEYS[1], ARGV[16], 'NX')
	return redis.call('GET', KEYS[1])
end

return redis.error_reply('authguard: unknown operation ' .. tostring(op))

-- Hostile and broken input: huge headers, many forged headers, header names and values
-- with control characters, aborts mid-message, connections dropped at every stage.
-- After each, the milter must still answer a normal session.
dofile(DIR .. "/common.lua")

local function still_serving(what)
	local conn = open(POSTFIX_CONNECT, POSTFIX_TLS)
	local ok = mail(conn, POSTFIX_AUTH) == SMFIR_CONTINUE
	message(conn, {})
	ok = ok and mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results",
		SERVID .. "; auth=pass smtp.auth=alice@example.test")
	mt.disconnect(conn)
	check(ok, "still serving after " .. what)
end

-- Long header lines.  miltertest overflows its own stack on a header over about 1 KiB,
-- so the 64 KiB lines go through real Postfix in tests/lab/test_milter.py.
local conn = open(POSTFIX_CONNECT, POSTFIX_TLS)
mail(conn, POSTFIX_AUTH)
local big = string.rep("x", 900)
message(conn, {{"X-Big", big},
	{"Authentication-Results", SERVID .. "; auth=pass (" .. big .. ")"}})
check(mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results"),
	"long forged Authentication-Results deleted")
check(mt.eom_check(conn, MT_HDRINSERT, "X-Authguard"), "long headers: X-Authguard added")
mt.disconnect(conn)

-- Forged headers in every disguise, 200 of them.
conn = open(POSTFIX_CONNECT, POSTFIX_TLS)
mail(conn, POSTFIX_AUTH)
local hs = {}
for i = 1, 50 do
	hs[#hs + 1] = {"Authentication-Results", SERVID .. "; auth=pass smtp.auth=x" .. i}
	hs[#hs + 1] = {"authentication-results", "(comment) " .. string.upper(SERVID) .. " ; none"}
	hs[#hs + 1] = {"Authentication-Results", "\"" .. SERVID .. "\"; auth=pass"}
	hs[#hs + 1] = {"x-authguard", "ref=FORGED" .. i}
end
message(conn, hs)
check(mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results") and
	mt.eom_check(conn, MT_HDRDELETE, "X-Authguard"),
	"200 forged headers (case, comments, quotes) deleted")
mt.disconnect(conn)
still_serving("200 forged headers")

-- Control characters, quotes and 8-bit bytes in the user name and TLS macros.
conn = open(POSTFIX_CONNECT, {"{tls_version}", "TLSv1.3\r\nX-Evil: 1", "{cipher}", "A;B\"C"})
mail(conn, {"{auth_type}", "PLAIN", "{auth_authen}", "eve\r\nX-Injected: yes\"\\\255"})
message(conn, {})
local ar = mt.getheader(conn, "Authentication-Results", 0)
local d = mt.getheader(conn, "X-Authguard", 0)
check(ar == SERVID .. "; auth=pass smtp.auth=\"eve??X-Injected: yes\\\"\\\\?\"",
	"user name with CR LF, quote, backslash, 8-bit: one quoted value in A-R")
check(d ~= nil and not string.find(d, "\r", 1, true) and
	not string.find(d, "\nX-", 1, true) and has(d, "tls=\"TLSv1.3??X-Evil: 1\"") and
	has(d, "cipher=\"A;B\\\"C\""), "TLS macros with CR LF and quotes: quoted, no new header line")
mt.disconnect(conn)

-- A user name longer than 256 bytes is not written (miltertest's macro buffer holds
-- about 1 KiB).
conn = open(POSTFIX_CONNECT, POSTFIX_TLS)
mail(conn, {"{auth_type}", "LOGIN", "{auth_authen}", string.rep("u", 900)})
message(conn, {})
check(mt.getheader(conn, "Authentication-Results", 0) ==
	SERVID .. "; auth=pass (user name too long to show)", "900-byte user name left out of A-R")
mt.disconnect(conn)

-- Abort mid-message, then a new message on the same connection.
conn = open(POSTFIX_CONNECT, POSTFIX_TLS)
mail(conn, POSTFIX_AUTH)
mt.header(conn, "Authentication-Results", SERVID .. "; auth=pass")
mt.abort(conn)
check(mail(conn, POSTFIX_AUTH) == SMFIR_CONTINUE, "MAIL after an abort continues")
message(conn, {})
check(not mt.eom_check(conn, MT_HDRDELETE),
	"a header of the aborted message does not count for the next")
mt.disconnect(conn)

-- Connections dropped at every stage, politely and not.
for _, polite in ipairs({true, false}) do
	conn = mt.connect(SOCK, 50, 0.1)
	mt.disconnect(conn, polite)
	conn = mt.connect(SOCK, 50, 0.1)
	mt.conninfo(conn, "client.example", "127.0.0.1")
	mt.disconnect(conn, polite)
	conn = open(POSTFIX_CONNECT, POSTFIX_TLS)
	mt.disconnect(conn, polite)
	conn = open(POSTFIX_CONNECT, POSTFIX_TLS)
	mail(conn, POSTFIX_AUTH)
	mt.disconnect(conn, polite)
	conn = open(POSTFIX_CONNECT, POSTFIX_TLS)
	mail(conn, POSTFIX_AUTH)
	mt.header(conn, "Authentication-Results", SERVID .. "; auth=pass")
	mt.disconnect(conn, polite)
	still_serving(polite and "polite disconnects at every stage"
		or "abrupt disconnects at every stage")
end

-- 100 connections open at once, then all served.
local conns = {}
for i = 1, 100 do conns[i] = open(POSTFIX_CONNECT, POSTFIX_TLS) end
local all = true
for i = 1, 100 do
	all = all and mail(conns[i], POSTFIX_AUTH) == SMFIR_CONTINUE
	message(conns[i], {})
	all = all and mt.eom_check(conns[i], MT_HDRINSERT, "Authentication-Results")
end
for i = 1, 100 do mt.disconnect(conns[i]) end
check(all, "100 concurrent connections each get their headers")

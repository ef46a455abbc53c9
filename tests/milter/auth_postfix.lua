-- Postfix macros: an authenticated message over TLS gets our two headers at the top,
-- forged copies of them are deleted, a foreign Authentication-Results stays.
dofile(DIR .. "/common.lua")

local conn = open(POSTFIX_CONNECT, POSTFIX_TLS)
check(mail(conn, POSTFIX_AUTH) == SMFIR_CONTINUE, "authenticated MAIL over TLS continues")
local r = message(conn, {
	{"Authentication-Results", SERVID .. "; auth=pass smtp.auth=mallory@example.test"},
	{"Authentication-Results", "other.example; spf=pass smtp.mailfrom=example.test"},
	{"X-Authguard", "ref=FORGED0000; auth=PLAIN; failed=none"},
})
check(r == SMFIR_ACCEPT or r == SMFIR_CONTINUE, "end of message accepted")
check(mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results",
	SERVID .. "; auth=pass smtp.auth=alice@example.test", 0),
	"Authentication-Results: auth=pass smtp.auth=<user> inserted at the top")
check(mt.eom_check(conn, MT_HDRINSERT, "X-Authguard"), "X-Authguard inserted")
check(mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results"),
	"forged Authentication-Results naming our authserv-id deleted")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Authguard"), "incoming X-Authguard deleted")
local d = mt.getheader(conn, "X-Authguard", 0)
mt.echo("# X-Authguard: " .. string.gsub(tostring(d), "\n", "\\n"))
check(has(d, "auth=PLAIN") and has(d, "user=alice@example.test") and
	has(d, "tls=TLSv1.3") and has(d, "cipher=TLS_AES_256_GCM_SHA384"),
	"diagnostic header: mechanism, user, TLS version and cipher")
check(string.match(d or "", "^ref=[0-9A-Z]+;") ~= nil, "diagnostic header starts with a ref")
if POLICYD == "yes" then
	check(has(d, "failed=none") and not has(d, "details=unavailable"),
		"session details from authguard-policyd: no failed attempt")
else
	check(has(d, "details=unavailable") and not has(d, "failed=") and
		not has(d, "proto="),
		"authguard-policyd down: details=unavailable, mail not held")
end

-- A second message on the same connection: a fresh message context.
check(mail(conn, POSTFIX_AUTH) == SMFIR_CONTINUE, "second MAIL on the connection continues")
message(conn, {{"Authentication-Results", "other.example; dkim=pass"}})
check(not mt.eom_check(conn, MT_HDRDELETE), "foreign Authentication-Results kept")
check(mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results"), "second message gets A-R too")
mt.disconnect(conn)

-- The milter asks for no reply to HELO and headers, and for no RCPT, EOH or body: fewer
-- round trips for every message. It does reply to connect: the MTA then waits for it, so the
-- session's start (from which authguard-policyd lists its AUTH attempts) is taken before the
-- client can send AUTH, however late the milter gets to the connection.
conn = open(POSTFIX_CONNECT, POSTFIX_TLS)
check(mt.test_option(conn, SMFIP_NR_HDR) and mt.test_option(conn, SMFIP_NR_HELO) and
	mt.test_option(conn, SMFIP_NORCPT) and mt.test_option(conn, SMFIP_NOBODY),
	"negotiated: no replies for HELO and headers")
check(not mt.test_option(conn, SMFIP_NR_CONN), "negotiated: a reply to connect")
check(mt.test_action(conn, SMFIF_ADDHDRS) and mt.test_action(conn, SMFIF_CHGHDRS),
	"negotiated: add and change headers")
mt.disconnect(conn)

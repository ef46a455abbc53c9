-- Missing and odd macros: documented fallbacks, never a crash.
dofile(DIR .. "/common.lua")

-- No macros at all: not authenticated, not on a submission daemon: accepted, no headers.
local conn = open({}, {})
check(mail(conn, {}) == SMFIR_CONTINUE, "no macros: MAIL continues")
message(conn, {{"Authentication-Results", SERVID .. "; auth=pass"}})
check(not mt.eom_check(conn, MT_HDRINSERT), "no macros: no headers added")
check(mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results"),
	"no macros: forged Authentication-Results still deleted")
mt.disconnect(conn)

-- {auth_type} without {auth_authen}: A-R without smtp.auth, diagnostic header without user.
conn = open(POSTFIX_CONNECT, POSTFIX_TLS)
check(mail(conn, {"{auth_type}", "CRAM-MD5"}) == SMFIR_CONTINUE, "auth_type alone continues")
message(conn, {})
check(mt.getheader(conn, "Authentication-Results", 0) == SERVID .. "; auth=pass",
	"no {auth_authen}: A-R says auth=pass without smtp.auth")
check(not has(mt.getheader(conn, "X-Authguard", 0), "user="),
	"no {auth_authen}: no user= in X-Authguard")
mt.disconnect(conn)

-- Only {cipher} (an MTA that does not send {tls_version}) counts as TLS.
conn = open(POSTFIX_CONNECT, {"{cipher}", "ECDHE-RSA-AES256-GCM-SHA384"})
check(mail(conn, POSTFIX_AUTH) == SMFIR_CONTINUE, "{cipher} alone counts as TLS")
mt.disconnect(conn)

-- TLS macros sent with MAIL instead of HELO (milter_mail_macros) count too.
conn = open(POSTFIX_CONNECT, {})
check(mail(conn, concat(POSTFIX_AUTH, POSTFIX_TLS)) == SMFIR_CONTINUE,
	"TLS macros at MAIL count")
mt.disconnect(conn)

-- Unknown address family, no {client_addr}: still decided, still logged.
conn = mt.connect(SOCK, 50, 0.1)
mt.conninfo(conn, "localhost", "unspec")
mt.helo(conn, "client.example")	-- before the MAIL macros: HELO clears them
check(mail(conn, POSTFIX_AUTH) == SMFIR_REPLYCODE,
	"unknown client address, AUTH without TLS: refused")
mt.disconnect(conn)

-- IPv6 client.
conn = open({"{daemon_name}", "ORIGINATING"}, POSTFIX_TLS, "::1")
check(mail(conn, {}) == SMFIR_REPLYCODE,
	"IPv6 client on a submission daemon without AUTH: refused")
mt.disconnect(conn)

-- Headers disabled by the runner's second configuration are tested in test_milter.py.
check(mt.test_action ~= nil, "miltertest API present")

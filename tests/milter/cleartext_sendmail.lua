-- Sendmail macros: authenticated without TLS is refused at MAIL (cleartext-auth);
-- with TLS it goes on; unauthenticated mail on the MSA daemon is refused when the
-- daemon is listed in milter_submission_daemons, accepted on the MTA daemon.
dofile(DIR .. "/common.lua")

local conn = open(SENDMAIL_CONNECT, {})
check(mail(conn, SENDMAIL_AUTH) == SMFIR_REPLYCODE,
	"Sendmail: AUTH without TLS refused at MAIL with a reply code")
mt.disconnect(conn)

conn = open(SENDMAIL_CONNECT, SENDMAIL_TLS)
check(mail(conn, SENDMAIL_AUTH) == SMFIR_CONTINUE, "Sendmail: AUTH over TLS continues")
message(conn, {})
local ar = mt.getheader(conn, "Authentication-Results", 0)
check(ar == SERVID .. "; auth=pass smtp.auth=alice", "Sendmail: A-R names the SASL user")
mt.disconnect(conn)

conn = open(SENDMAIL_CONNECT, SENDMAIL_TLS)
check(mail(conn, {"i", "2AR1x5Kq0", "{mail_addr}", "x@example.test"}) == SMFIR_REPLYCODE,
	"Sendmail MSA (a submission daemon): MAIL without AUTH refused")
mt.disconnect(conn)

local mta = {"{daemon_name}", "MTA", "{client_addr}", "127.0.0.1"}
conn = open(mta, SENDMAIL_TLS)
check(mail(conn, {"{mail_addr}", "x@example.test"}) == SMFIR_CONTINUE,
	"Sendmail MTA daemon: MAIL without AUTH continues")
message(conn, {})
check(not mt.eom_check(conn, MT_HDRINSERT), "no headers on unauthenticated mail")
mt.disconnect(conn)

-- Postfix macros, AUTH in cleartext: refused as well.
conn = open(POSTFIX_CONNECT, {})
check(mail(conn, POSTFIX_AUTH) == SMFIR_REPLYCODE, "Postfix: AUTH without TLS refused at MAIL")
mt.disconnect(conn)

-- An address in tls_exempt_networks (the runner exempts 127.0.0.2) may.
conn = open({"{client_addr}", "127.0.0.2"}, {}, "127.0.0.2")
check(mail(conn, POSTFIX_AUTH) == SMFIR_CONTINUE, "tls_exempt_networks: cleartext AUTH continues")
mt.disconnect(conn)

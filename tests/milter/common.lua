-- Shared by the miltertest scripts: TAP-style "ok"/"not ok" lines and an SMTP session
-- driven as Postfix or Sendmail would drive it.  Globals from tests/lab/test_milter.py
-- (miltertest -D): SOCK (the milter's socket), SERVID (its authserv_id), POLICYD
-- ("yes" when authguard-policyd answers on the control socket), SCRIPT (this script's name).

local unpack = table.unpack or unpack

function check(cond, name)
	if cond then
		print("ok - milter/" .. SCRIPT .. ": " .. name)
	else
		print("not ok - milter/" .. SCRIPT .. ": " .. name)
	end
end

-- Postfix 3.7 with the macro lists of conf-examples/postfix-main.cf.
POSTFIX_CONNECT = {"j", "lab.example.test", "{daemon_name}", "ORIGINATING",
	"{client_addr}", "127.0.0.1", "{client_port}", "40001", "v", "Postfix 3.7.11"}
POSTFIX_TLS = {"{tls_version}", "TLSv1.3", "{cipher}", "TLS_AES_256_GCM_SHA384",
	"{cipher_bits}", "256"}
POSTFIX_AUTH = {"i", "4Fq9Zx1Y2kz3", "{auth_type}", "PLAIN",
	"{auth_authen}", "alice@example.test", "{mail_addr}", "alice@example.test"}

-- Sendmail 8.17: the MSA daemon, macros from its default confMILTER_MACROS_*.
SENDMAIL_CONNECT = {"j", "mx.example.test", "_", "client.example [127.0.0.1]",
	"{daemon_name}", "MSA", "{client_addr}", "127.0.0.1", "{client_port}", "40002",
	"{if_name}", "localhost", "{if_addr}", "127.0.0.1"}
SENDMAIL_TLS = {"{tls_version}", "TLSv1.3", "{cipher}", "TLS_AES_256_GCM_SHA384",
	"{cipher_bits}", "256", "{cert_subject}", "", "{cert_issuer}", ""}
SENDMAIL_AUTH = {"i", "2AR1x5Kq012345", "{auth_type}", "PLAIN",
	"{auth_authen}", "alice", "{auth_ssf}", "0", "{mail_mailer}", "esmtp",
	"{mail_host}", "example.test", "{mail_addr}", "alice@example.test"}

function concat(...)
	local out = {}
	for _, t in ipairs({...}) do
		for _, v in ipairs(t) do out[#out + 1] = v end
	end
	return out
end

-- open: connect, connect macros, conninfo, helo macros, HELO; the connection
function open(connect_macros, helo_macros, ip)
	local conn = mt.connect(SOCK, 50, 0.1)
	if conn == nil then error("cannot connect to " .. SOCK) end
	if connect_macros and #connect_macros > 0 then
		mt.macro(conn, SMFIC_CONNECT, unpack(connect_macros))
	end
	assert(mt.conninfo(conn, "client.example", ip or "127.0.0.1") == nil)
	assert(mt.getreply(conn) == SMFIR_CONTINUE)
	if helo_macros and #helo_macros > 0 then
		mt.macro(conn, SMFIC_HELO, unpack(helo_macros))
	end
	assert(mt.helo(conn, "client.example") == nil)
	return conn
end

-- mail: MAIL FROM with its macros; the milter's reply
function mail(conn, macros, from)
	if macros and #macros > 0 then
		mt.macro(conn, SMFIC_MAIL, unpack(macros))
	end
	assert(mt.mailfrom(conn, from or "<alice@example.test>") == nil)
	return mt.getreply(conn)
end

-- message: RCPT, headers {{name, value}, ...}, EOH, a body line, EOM.  The milter asks
-- for no RCPT, EOH or body (SMFIP_NORCPT, SMFIP_NOEOH, SMFIP_NOBODY): an MTA sends none.
function message(conn, headers)
	if not mt.test_option(conn, SMFIP_NORCPT) then
		assert(mt.rcptto(conn, "<bob@example.net>") == nil)
	end
	for _, h in ipairs(headers or {}) do
		assert(mt.header(conn, h[1], h[2]) == nil)
	end
	assert(mt.header(conn, "Subject", "test") == nil)
	if not mt.test_option(conn, SMFIP_NOEOH) then
		assert(mt.eoh(conn) == nil)
	end
	if not mt.test_option(conn, SMFIP_NOBODY) then
		assert(mt.bodystring(conn, "hello\r\n") == nil)
	end
	assert(mt.eom(conn) == nil)
	return mt.getreply(conn)
end

function has(s, pat)
	return s ~= nil and string.find(s, pat, 1, true) ~= nil
end

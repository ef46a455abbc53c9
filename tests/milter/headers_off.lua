-- milter_auth_results = no, milter_header_user = no: no Authentication-Results is added
-- (forged ones still go), and X-Authguard does not name the user.
dofile(DIR .. "/common.lua")

local conn = open(POSTFIX_CONNECT, POSTFIX_TLS)
check(mail(conn, POSTFIX_AUTH) == SMFIR_CONTINUE, "authenticated MAIL continues")
message(conn, {{"Authentication-Results", SERVID .. "; auth=pass smtp.auth=mallory"}})
check(not mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results"),
	"milter_auth_results = no: no Authentication-Results added")
check(mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results"),
	"milter_auth_results = no: forged Authentication-Results still deleted")
local d = mt.getheader(conn, "X-Authguard", 0)
check(d ~= nil and not has(d, "user=") and has(d, "auth=PLAIN"),
	"milter_header_user = no: X-Authguard without user=")
mt.disconnect(conn)

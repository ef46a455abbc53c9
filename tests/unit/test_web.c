/*++
/* NAME
/*	test_web 1
/* SUMMARY
/*	unit tests: authguard-web's parsers, token and configuration
/*--*/
#include <string.h>

#include "base64.h"
#include "buf.h"
#include "config.h"
#include "csrf.h"
#include "netaddr.h"
#include "webconf.h"
#include "webform.h"
#include "unit.h"

/* form - form_get on a C string */
static int
form(const char *body, const char *name, char *out, size_t len)
{
	return form_get(body, strlen(body), name, out, len);
}

TEST(web_form_fields)
{
	char v[64];

	CHECK(form("target=jane%40example.com&csrf=ab", "target", v,
	    sizeof(v)) == 1);
	CHECK_STR(v, "jane@example.com");
	CHECK(form("target=jane%40example.com&csrf=ab", "csrf", v,
	    sizeof(v)) == 1);
	CHECK_STR(v, "ab");
	CHECK(form("a=b+c%2Bd&&x", "a", v, sizeof(v)) == 1);
	CHECK_STR(v, "b c+d");
	CHECK(form("x&a=", "a", v, sizeof(v)) == 1 && *v == 0);
	CHECK(form("x&a", "a", v, sizeof(v)) == 1 && *v == 0);
	CHECK(form("a=1", "b", v, sizeof(v)) == 0);
	CHECK(form("", "b", v, sizeof(v)) == 0);
	CHECK(form("t%61rget=1", "target", v, sizeof(v)) == 1);
	CHECK_STR(v, "1");
}

TEST(web_form_malformed)
{
	char v[8];

	CHECK(form("a=1&a=2", "a", v, sizeof(v)) == -1);	/* twice */
	CHECK(form("a=%zz", "a", v, sizeof(v)) == -1);
	CHECK(form("a=%4", "a", v, sizeof(v)) == -1);
	CHECK(form("a=%", "a", v, sizeof(v)) == -1);
	CHECK(form("b=%zz&a=1", "a", v, sizeof(v)) == -1);	/* anywhere */
	CHECK(form("a=x%09y", "a", v, sizeof(v)) == -1);	/* TAB */
	CHECK(form("a=x%0Ay", "a", v, sizeof(v)) == -1);
	CHECK(form("a=x%00y", "a", v, sizeof(v)) == -1);
	CHECK(form("a=12345678", "a", v, sizeof(v)) == -1);	/* too long */
	CHECK(form("a=1234567", "a", v, sizeof(v)) == 1);
	CHECK(form_get("a=1\0b", 5, "a", v, sizeof(v)) == -1);
}

TEST(web_cookie)
{
	char v[40];

	CHECK(cookie_get("a=1; authguard_csrf=0123; b=2", "authguard_csrf", v,
	    sizeof(v)) == 1);
	CHECK_STR(v, "0123");
	CHECK(cookie_get("authguard_csrf=\"xy\"", "authguard_csrf", v,
	    sizeof(v)) == 1);
	CHECK_STR(v, "xy");
	CHECK(cookie_get("xauthguard_csrf=1", "authguard_csrf", v,
	    sizeof(v)) == 0);
	CHECK(cookie_get("authguard_csrfx=1", "authguard_csrf", v,
	    sizeof(v)) == 0);
	CHECK(cookie_get("", "a", v, sizeof(v)) == 0);
	CHECK(cookie_get("a=1;a=2", "a", v, sizeof(v)) == 1);
	CHECK_STR(v, "1");
	CHECK(cookie_get("a=0123456789", "a", v, 5) == -1);
	CHECK(cookie_get("a=1\r\nSet: x", "a", v, sizeof(v)) == -1);
}

/* basic - basic_parse of "Basic " and the base64 of text */
static int
basic(const char *text, char *user, char *pass)
{
	struct buf b;
	int rc;

	buf_init(&b);
	buf_puts(&b, "Basic ");
	base64_encode(&b, (const unsigned char *)text, strlen(text));
	rc = basic_parse(buf_str(&b), user, WEB_NAME_MAX + 1, pass,
	    WEB_PASS_MAX + 1);
	buf_free(&b);
	return rc;
}

TEST(web_basic)
{
	char user[WEB_NAME_MAX + 1], pass[WEB_PASS_MAX + 1];

	CHECK(basic("alice:se:cret", user, pass) == 0);
	CHECK_STR(user, "alice");
	CHECK_STR(pass, "se:cret");
	CHECK(basic("alice:", user, pass) == 0 && *pass == 0);
	CHECK(basic(":x", user, pass) == -1);		/* no user */
	CHECK(basic("alice", user, pass) == -1);	/* no ':' */
	CHECK(basic("al\tice:x", user, pass) == -1);
	CHECK(basic_parse("basic YWxpY2U6eA==", user, sizeof(user), pass,
	    sizeof(pass)) == 0);
	CHECK_STR(user, "alice");
	CHECK(basic_parse("Bearer YWxpY2U6eA==", user, sizeof(user), pass,
	    sizeof(pass)) == -1);
	CHECK(basic_parse("Basic YWxp!2U6eA==", user, sizeof(user), pass,
	    sizeof(pass)) == -1);
	CHECK(basic_parse("Basic YWxpY2U6eA== x", user, sizeof(user), pass,
	    sizeof(pass)) == -1);
}

TEST(web_htpasswd)
{
	char user[WEB_NAME_MAX + 1], hash[WEB_HASH_MAX];
	const char *err = NULL;

#define LINE(s) htpasswd_line(s, strlen(s), user, sizeof(user), hash, \
	    sizeof(hash), &err)
	CHECK(LINE("alice:$y$j9T$salt$hash\r") == 1);
	CHECK_STR(user, "alice");
	CHECK_STR(hash, "$y$j9T$salt$hash");
	CHECK(LINE("bob:$2b$05$abc") == 1);
	CHECK(LINE("bob:$2y$05$abc:comment") == 1);
	CHECK_STR(hash, "$2y$05$abc");
	CHECK(LINE("carol:$6$salt$hash") == 1);
	CHECK(LINE("  # a comment") == 0);
	CHECK(LINE("   ") == 0);
	CHECK(LINE("dave:$apr1$salt$hash") == -1);
	CHECK(err != NULL && strstr(err, "apr1") != NULL);
	CHECK(LINE("dave:{SHA}abc") == -1);
	CHECK(LINE("dave:plain") == -1);
	CHECK(LINE(":$6$x$y") == -1);
	CHECK(LINE("no colon") == -1);
	CHECK(LINE("d ave:$6$x$ y") == -1);
#undef LINE
}

TEST(web_csrf)
{
	unsigned char key[CSRF_KEY_LEN], other[CSRF_KEY_LEN];
	char cookie[CSRF_COOKIE_LEN + 1], c2[CSRF_COOKIE_LEN + 1];
	char tok[CSRF_TOKEN_LEN + 1], tok2[CSRF_TOKEN_LEN + 1];

	csrf_key_new(key, sizeof(key));
	csrf_key_new(other, sizeof(other));
	csrf_cookie_new(cookie);
	csrf_cookie_new(c2);
	CHECK(csrf_cookie_ok(cookie) && strcmp(cookie, c2) != 0);
	CHECK(!csrf_cookie_ok("0123") && !csrf_cookie_ok(NULL));
	CHECK(!csrf_cookie_ok("0123456789ABCDEF0123456789abcdef"));
	csrf_token(key, sizeof(key), cookie, "alice", tok);
	CHECK(strlen(tok) == CSRF_TOKEN_LEN);
	csrf_token(key, sizeof(key), cookie, "alice", tok2);
	CHECK_STR(tok, tok2);				/* the same, again */
	CHECK(csrf_check(key, sizeof(key), cookie, "alice", tok));
	CHECK(!csrf_check(key, sizeof(key), cookie, "bob", tok));
	CHECK(!csrf_check(key, sizeof(key), c2, "alice", tok));
	CHECK(!csrf_check(other, sizeof(other), cookie, "alice", tok));
	CHECK(!csrf_check(key, sizeof(key), cookie, "alice", NULL));
	CHECK(!csrf_check(key, sizeof(key), NULL, "alice", tok));
	CHECK(!csrf_check(key, sizeof(key), cookie, "alice", ""));
	tok[0] = tok[0] == 'a' ? 'b' : 'a';
	CHECK(!csrf_check(key, sizeof(key), cookie, "alice", tok));
}

TEST(web_csrf_known_answer)
{
	/* HMAC-SHA256(key = 32 bytes of 0x0b, "c" 0 "u"), from Python's hmac */
	unsigned char key[CSRF_KEY_LEN];
	char tok[CSRF_TOKEN_LEN + 1];

	memset(key, 0x0b, sizeof(key));
	csrf_token(key, sizeof(key), "c", "u", tok);
	CHECK_STR(tok, "86be92bc387e547a13680651da809851"
	    "7186e12d8decbf87bf959fef3fed757a");
}

/* wparse - webconf_parse on a C string */
static int
wparse(const char *text, struct webconf *c, char *err, size_t len)
{
	return webconf_parse(text, strlen(text), "web.conf", c, err, len);
}

TEST(web_config)
{
	struct webconf c;
	char err[CONFIG_ERR_MAX + 64];

	CHECK(wparse("", &c, err, sizeof(err)) == 0);
	CHECK(c.web_listen.kind == SOCK_INET && c.web_listen.port == 8026);
	CHECK_STR(c.control_socket, "/run/authguard/control");
	CHECK(c.control_timeout == 5000 && c.lock_time == 0);
	CHECK_STR(c.user_header, "X-Remote-User");
	CHECK_STR(c.user, "authguard-web");
	CHECK(c.web_socket_mode == 0660 && *c.htpasswd == 0);
	webconf_free(&c);
	CHECK(wparse("web_listen = inet:[::1]:9000\nlock_time = 1h\n"
	    "trusted_proxies = 127.0.0.1 ::1\nadmins = a b\n", &c, err,
	    sizeof(err)) == 0);
	CHECK(c.lock_time == 3600000 && c.web_listen.port == 9000);
	CHECK(webconf_listed(c.admins, "b") && !webconf_listed(c.admins, "c"));
	CHECK(!webconf_listed(c.admins, ""));
	CHECK(netlist_match_str(&c.trusted_nets, "::1"));
	CHECK(!c.trust_unix && *c.secret_name == 0);
	webconf_free(&c);
	CHECK(wparse("trusted_proxies = unix 10.0.0.0/8\nproxy_secret = "
	    "X-Proxy-Secret:  0123abcd \n", &c, err, sizeof(err)) == 0);
	CHECK(c.trust_unix && netlist_match_str(&c.trusted_nets, "10.1.2.3"));
	CHECK(!netlist_match_str(&c.trusted_nets, "127.0.0.1"));
	CHECK_STR(c.secret_name, "X-Proxy-Secret");
	CHECK_STR(c.secret_value, "0123abcd");
	webconf_free(&c);
	CHECK(wparse("web_listen = unix:/run/authguard-web/http\n", &c, err,
	    sizeof(err)) == 0);
	webconf_free(&c);
}

TEST(web_config_refused)
{
	struct webconf c;
	char err[CONFIG_ERR_MAX + 64];

	CHECK(wparse("web_listen = inet:192.0.2.1:80\n", &c, err,
	    sizeof(err)) == -1);
	CHECK(strstr(err, "loopback") != NULL);
	CHECK(wparse("web_listen = inet:0.0.0.0:80\n", &c, err,
	    sizeof(err)) == -1);
	CHECK(wparse("sasl_listen = unix:/x\n", &c, err, sizeof(err)) == -1);
	CHECK(strstr(err, "web.conf:1: unknown key") != NULL);
	CHECK(wparse("user_header = X Remote\n", &c, err, sizeof(err)) == -1);
	CHECK(wparse("user_header =\n", &c, err, sizeof(err)) == 0 &&
	    *c.user_header == 0);		/* no proxy names the user */
	webconf_free(&c);
	CHECK(wparse("htpasswd = relative\n", &c, err, sizeof(err)) == -1);
	CHECK(wparse("lock_time = soon\n", &c, err, sizeof(err)) == -1);
	CHECK(wparse("control_timeout = \n", &c, err, sizeof(err)) == -1);
	CHECK(wparse("trusted_proxies = nonsense\n", &c, err,
	    sizeof(err)) == -1);
	CHECK(wparse("trusted_proxies = unix nonsense\n", &c, err,
	    sizeof(err)) == -1);
	CHECK(wparse("proxy_secret = X-Secret:\n", &c, err,
	    sizeof(err)) == -1 && strstr(err, "neither empty") != NULL);
	CHECK(wparse("proxy_secret = : abc\n", &c, err, sizeof(err)) == -1);
	CHECK(wparse("proxy_secret = abc\n", &c, err, sizeof(err)) == -1);
	CHECK(wparse("proxy_secret = X Y: abc\n", &c, err,
	    sizeof(err)) == -1);
	CHECK(wparse("web_listen = unix:/run/w/http\nweb_socket_mode = 0666\n",
	    &c, err, sizeof(err)) == -1 && strstr(err, "others") != NULL);
	CHECK(wparse("web_listen = unix:/run/w/http\nweb_socket_mode = 0662\n",
	    &c, err, sizeof(err)) == -1);
	CHECK(wparse("control_timeout = 50ms\n", &c, err, sizeof(err)) == -1);
	CHECK(wparse("control_timeout = 0s\n", &c, err, sizeof(err)) == -1);
	CHECK(wparse("control_timeout = 100ms\n", &c, err, sizeof(err)) == 0);
	webconf_free(&c);
	CHECK(wparse("host_names = a.example:443\n", &c, err,
	    sizeof(err)) == -1 && strstr(err, "host_names") != NULL);
	CHECK(wparse("host_names = a.example/x\n", &c, err, sizeof(err)) == -1);
	CHECK(wparse("host_names = [::1\n", &c, err, sizeof(err)) == -1);
	CHECK(wparse("host_names = [::1]:80\n", &c, err, sizeof(err)) == -1);
	CHECK(wparse("host_names = [x]\n", &c, err, sizeof(err)) == -1);
}

TEST(web_host_names)
{
	const char *list = " Helpdesk.Example.test\t127.0.0.1 [::1] ";
	struct webconf c;
	char err[CONFIG_ERR_MAX + 64];

	CHECK(wparse("", &c, err, sizeof(err)) == 0 && *c.host_names == 0);
	webconf_free(&c);
	CHECK(wparse("host_names = helpdesk.example.test 127.0.0.1 [::1]\n",
	    &c, err, sizeof(err)) == 0);
	CHECK(webconf_host_listed(c.host_names, "helpdesk.example.test"));
	webconf_free(&c);
	CHECK(webconf_host_listed(list, "helpdesk.example.test"));
	CHECK(webconf_host_listed(list, "HELPDESK.example.TEST:8443"));
	CHECK(webconf_host_listed(list, "127.0.0.1:8026"));
	CHECK(webconf_host_listed(list, "[::1]:8026"));
	CHECK(webconf_host_listed(list, "[::1]"));
	CHECK(webconf_host_listed(list, "helpdesk.example.test."));
	CHECK(webconf_host_listed(list, "helpdesk.example.test.:443"));
	CHECK(!webconf_host_listed(list, "helpdesk.example.test.."));
	CHECK(!webconf_host_listed(list, "."));
	CHECK(!webconf_host_listed(list, "[::1]x"));
	CHECK(!webconf_host_listed(list, "helpdesk.example.test:"));
	CHECK(!webconf_host_listed(list, "helpdesk.example.test:84x"));
	CHECK(!webconf_host_listed(list, "helpdesk.example.test:1:2"));
	CHECK(!webconf_host_listed(list, "helpdesk.example"));
	CHECK(!webconf_host_listed(list, "evil.example"));
	CHECK(!webconf_host_listed(list, "127.0.0.10"));
	CHECK(!webconf_host_listed(list, "[::1"));
	CHECK(!webconf_host_listed(list, ""));
	CHECK(!webconf_host_listed(list, ":80"));
	CHECK(!webconf_host_listed("", "helpdesk.example.test"));
}

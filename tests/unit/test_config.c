/*++
/* NAME
/*	test_config 1
/* SUMMARY
/*	unit tests: configuration, networks, socket specifications
/*--*/
#include <string.h>

#include "authlimits.h"
#include "backend.h"
#include "cause.h"
#include "config.h"
#include "logline.h"
#include "netaddr.h"
#include "notice.h"
#include "util.h"
#include "unit.h"

/* parse - config text; returns 0 or -1 with err */
static int
parse(const char *text, struct config *c, char *err, size_t errlen)
{
	return config_parse(text, strlen(text), "test.conf", c, err, errlen);
}

TEST(config_defaults)
{
	struct config c;
	char err[256];

	CHECK(parse("", &c, err, sizeof(err)) == 0);
	CHECK(c.sasl_listen.kind == SOCK_UNIX);
	CHECK(c.userdb_upstream.kind == SOCK_NONE);
	CHECK(c.require_tls_for_auth == 1);
	CHECK(c.client_detail == DETAIL_SAFE);
	CHECK(c.log_format == LOG_FORMAT_LOGFMT);
	CHECK(c.upstream_timeout == 8000);
	CHECK(c.refusal_delay == REFUSAL_DELAY_DOVECOT);
	CHECK(c.socket_mode == 0660);
	config_free(&c);
}

TEST(config_reload_keeps_fixed_keys)
{
	static const char running_text[] = "state_dir = /var/lib/a\n"
	    "account_fail_limit = 5/10m\nsocket_mode = 0660\n";
	static const char next_text[] = "state_dir = /var/lib/b\n"
	    "account_fail_limit = 2/10m\nsocket_mode = 0600\n"
	    "history_size = 100\n";
	struct config running, next;
	char err[CONFIG_ERR_MAX + 64], changed[128], tiny[12];

	CHECK(config_parse(running_text, strlen(running_text), "a", &running,
	    err, sizeof(err)) == 0);
	CHECK(config_parse(next_text, strlen(next_text), "b", &next, err,
	    sizeof(err)) == 0);
	CHECK(config_keep_fixed(&next, &running, changed, sizeof(changed)) == 0);
	CHECK_STR(changed, "state_dir socket_mode history_size");
	CHECK_STR(next.state_dir, "/var/lib/a");
	CHECK(next.socket_mode == 0660 && next.history_size == 10000);
	CHECK(next.account_fail_limit.n == 2);		/* reloadable: new */
	config_free(&next);
	CHECK(config_parse(next_text, strlen(next_text), "b", &next, err,
	    sizeof(err)) == 0);
	CHECK(config_keep_fixed(&next, &running, tiny, sizeof(tiny)) < 0);
	CHECK_STR(tiny, "state_dir");		/* what fits, whole names */
	CHECK(next.history_size == 10000);	/* ... and every key kept */
	config_free(&next);
	config_free(&running);
}

TEST(config_values)
{
	struct config c;
	char err[256];

	CHECK(parse("# comment\n\nsasl_listen = unix:/tmp/x/auth\n"
	    "sasl_upstream=inet:127.0.0.1:12345\n"
	    "  userdb_upstream = unix:/run/dovecot/auth-userdb  \n"
	    "require_tls_for_auth = no\n"
	    "tls_exempt_networks = 127.0.0.0/8, ::1 192.0.2.7\n"
	    "client_detail = full\nlog_format = json\n"
	    "upstream_timeout = 1500ms\nsocket_mode = 0666\n"
	    "state_dir = /var/lib/authguard\n", &c, err, sizeof(err)) == 0);
	CHECK_STR(c.sasl_listen.path, "/tmp/x/auth");
	CHECK(c.sasl_upstream.kind == SOCK_INET && c.sasl_upstream.port == 12345);
	CHECK_STR(c.userdb_upstream.path, "/run/dovecot/auth-userdb");
	CHECK(c.require_tls_for_auth == 0);
	CHECK(c.tls_exempt_networks.n == 3);
	CHECK(c.client_detail == DETAIL_FULL);
	CHECK(c.log_format == LOG_FORMAT_JSON);
	CHECK(c.upstream_timeout == 1500);
	CHECK(c.socket_mode == 0666);
	config_free(&c);
}

TEST(config_errors_name_the_line)
{
	struct config c;
	char err[256];

	CHECK(parse("sasl_listen = unix:/a\nbogus_key = 1\n", &c, err,
	    sizeof(err)) < 0);
	CHECK(strcmp(err, "test.conf:2: unknown key") == 0);
	CHECK(parse("\n\nrequire_tls_for_auth = maybe\n", &c, err,
	    sizeof(err)) < 0);
	CHECK(strncmp(err, "test.conf:3: ", 13) == 0);
	CHECK(parse("no equals sign\n", &c, err, sizeof(err)) < 0);
	CHECK(parse("sasl_listen = unix:relative\n", &c, err, sizeof(err)) < 0);
	CHECK(parse("sasl_listen = tcp:1.2.3.4:5\n", &c, err, sizeof(err)) < 0);
	CHECK(parse("sasl_upstream = inet:host.example:5\n", &c, err,
	    sizeof(err)) < 0);
	CHECK(parse("sasl_upstream = inet:127.0.0.1:70000\n", &c, err,
	    sizeof(err)) < 0);
	CHECK(parse("upstream_timeout = 10 s\n", &c, err, sizeof(err)) < 0);
	CHECK(parse("upstream_timeout = 99999999999d\n", &c, err,
	    sizeof(err)) < 0);
	CHECK(parse("tls_exempt_networks = 10.0.0.0/33\n", &c, err,
	    sizeof(err)) < 0);
	CHECK(parse("socket_mode = 0999\n", &c, err, sizeof(err)) < 0);
	CHECK(parse("client_detail = verbose\n", &c, err, sizeof(err)) < 0);
	CHECK(parse("refusal_delay = later\n", &c, err, sizeof(err)) < 0);
	CHECK(parse("refusal_delay = 2\n", &c, err, sizeof(err)) < 0);
	CHECK(parse("refusal_delay = 4294967295ms\n", &c, err,
	    sizeof(err)) < 0);		/* the value that means "dovecot" */
	CHECK(parse("refusal_delay = 1500ms\n", &c, err, sizeof(err)) == 0 &&
	    c.refusal_delay == 1500);
	config_free(&c);
	CHECK(parse("refusal_delay = 0s\n", &c, err, sizeof(err)) == 0 &&
	    c.refusal_delay == 0);
	config_free(&c);
	CHECK(config_parse("a\0b", 3, "t", &c, err, sizeof(err)) < 0);
}

TEST(config_durations)
{
	unsigned ms;

	CHECK(config_duration("30s", &ms) == 0 && ms == 30000);
	CHECK(config_duration("10m", &ms) == 0 && ms == 600000);
	CHECK(config_duration("1h", &ms) == 0 && ms == 3600000);
	CHECK(config_duration("1d", &ms) == 0 && ms == 86400000);
	CHECK(config_duration("250ms", &ms) == 0 && ms == 250);
	CHECK(config_duration("30", &ms) < 0);
	CHECK(config_duration("s", &ms) < 0);
	CHECK(config_duration("-1s", &ms) < 0);
	CHECK(config_duration("1w", &ms) < 0);
}

TEST(parse_uint_bounds)
{
	unsigned long v;

	CHECK(parse_uint("1", 1, &v) == 0 && v == 1);
	CHECK(parse_uint("9", 1, &v) < 0);
	CHECK(parse_uint("09", 1, &v) < 0);
	CHECK(parse_uint("4294967295", 0xffffffffUL, &v) == 0);
	CHECK(parse_uint("4294967296", 0xffffffffUL, &v) < 0);
	CHECK(parse_uint("", 10, &v) < 0 && parse_uint("-1", 10, &v) < 0);
}

TEST(netlist_matching)
{
	struct netlist nl;
	const char *err;

	CHECK(netlist_parse("127.0.0.0/8, 2001:db8::/32 192.0.2.7", &nl,
	    &err) == 0);
	CHECK(netlist_match_str(&nl, "127.1.2.3"));
	CHECK(netlist_match_str(&nl, "::ffff:127.0.0.1"));
	CHECK(netlist_match_str(&nl, "192.0.2.7"));
	CHECK(!netlist_match_str(&nl, "192.0.2.8"));
	CHECK(netlist_match_str(&nl, "2001:db8:1::5"));
	CHECK(!netlist_match_str(&nl, "2001:db9::5"));
	CHECK(!netlist_match_str(&nl, "not-an-ip"));
	CHECK(!netlist_match_str(&nl, NULL));
	netlist_free(&nl);
	CHECK(netlist_parse("0.0.0.0/0", &nl, &err) == 0);
	CHECK(netlist_match_str(&nl, "203.0.113.9"));
	CHECK(!netlist_match_str(&nl, "2001:db8::1"));
	netlist_free(&nl);
	CHECK(netlist_parse("1.2.3.4/", &nl, &err) < 0);
	CHECK(netlist_parse("1.2.3", &nl, &err) < 0);
}

TEST(sockspec_forms)
{
	struct sockspec ss;
	const char *err;

	CHECK(sockspec_parse("unix:/run/a", &ss, &err) == 0 &&
	    ss.kind == SOCK_UNIX);
	CHECK(sockspec_parse("inet:[::1]:25", &ss, &err) == 0 &&
	    ss.port == 25 && strcmp(ss.host, "::1") == 0);
	CHECK(sockspec_parse("inet:localhost:99", &ss, &err) == 0 &&
	    strcmp(ss.host, "127.0.0.1") == 0);
	CHECK(sockspec_parse("inet:127.0.0.1:0", &ss, &err) < 0);
	CHECK(sockspec_parse("inet:127.0.0.1", &ss, &err) < 0);
	CHECK(sockspec_parse("unix:/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    &ss, &err) < 0);
}

TEST(backend_forms)
{
	struct backend b;
	const char *e = NULL;
	char d[300];

	CHECK(backend_parse("embedded", &b, &e) == 0 && b.kind == BACKEND_EMBEDDED);
	CHECK(backend_parse("redis://10.0.0.5", &b, &e) == 0);
	CHECK(b.kind == BACKEND_REDIS && b.port == 6379 && b.db == 0 && !b.tls);
	CHECK_STR(b.host, "10.0.0.5");
	CHECK(backend_parse("redis://:s3cr%3At@redis.example:6380/2", &b, &e) == 0);
	CHECK_STR(b.host, "redis.example");
	CHECK_STR(b.password, "s3cr:t");
	CHECK(b.user[0] == 0 && b.port == 6380 && b.db == 2);
	CHECK(backend_parse("redis://ag:pw@[2001:db8::1]:7000/", &b, &e) == 0);
	CHECK_STR(b.host, "2001:db8::1");
	CHECK_STR(b.user, "ag");
	CHECK(b.port == 7000 && b.db == 0);
	CHECK(backend_describe(&b, d, sizeof(d)) == 0);
	CHECK_STR(d, "redis://[2001:db8::1]:7000/0");	/* no password */
	CHECK(backend_parse("unix:/run/redis/redis.sock?db=3", &b, &e) == 0);
	CHECK_STR(b.path, "/run/redis/redis.sock");
	CHECK(b.db == 3 && b.host[0] == 0);
	CHECK(backend_parse(":pw@/run/redis.sock?db=1", &b, &e) < 0);
	CHECK(backend_parse("unix::p%40w@/run/redis.sock?db=1", &b, &e) == 0);
	CHECK_STR(b.password, "p@w");
	CHECK_STR(b.path, "/run/redis.sock");
	CHECK(b.db == 1);
	CHECK(backend_parse("unix:/run/a@/b.sock", &b, &e) == 0);
	CHECK_STR(b.path, "/run/a@/b.sock");	/* '@' in a path, no user */
	CHECK(backend_parse("rediss://h", &b, &e) == 0 && b.tls);
	CHECK(b.port == 6379 && b.path[0] == 0);
	CHECK(backend_parse("rediss://ag:p%40ss@[::1]:6380/4", &b, &e) == 0);
	CHECK(b.tls && b.port == 6380 && b.db == 4);
	CHECK_STR(b.host, "::1");
	CHECK_STR(b.password, "p@ss");
	CHECK(backend_describe(&b, d, sizeof(d)) == 0);
	CHECK_STR(d, "rediss://[::1]:6380/4");		/* no password */
	CHECK(backend_parse("rediss://", &b, &e) < 0);
	CHECK(backend_parse("rediss:/h", &b, &e) < 0);
}

TEST(backend_refusals)
{
	static const char *const bad[] = {
		"", "redis", "redis://", "redis://h:0", "redis://h:65536",
		"redis://h:12x", "redis://h/db", "redis://h/99999",
		"redis://pw@h", "redis://:%zz@h", "redis://:%00@h", "redis://[::1",
		"redis://[::1]x", "redis://h o", "unix:relative", "unix:/x?db=",
		"unix:/x?dbs=1", "memcached://h", "Embedded",
	};
	struct backend b;
	const char *e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e = NULL;
		CHECK(backend_parse(bad[i], &b, &e) < 0 && e != NULL);
	}
}

TEST(config_state_backend)
{
	struct config c;
	char err[256];

	CHECK(parse("state_backend = redis://127.0.0.1:6379/1\n"
	    "redis_timeout = 20ms\nredis_prefix = mx:\n"
	    "shared_history_ttl = 2h\n", &c, err, sizeof(err)) == 0);
	CHECK(c.state_backend.kind == BACKEND_REDIS && c.state_backend.db == 1);
	CHECK(c.redis_timeout == 20 && c.shared_history_ttl == 7200000);
	CHECK_STR(c.redis_prefix, "mx:");
	config_free(&c);
	CHECK(parse("", &c, err, sizeof(err)) == 0);
	CHECK(c.state_backend.kind == BACKEND_EMBEDDED && c.redis_timeout == 5);
	config_free(&c);
	CHECK(parse("state_backend = redis:/h\n", &c, err, sizeof(err)) < 0);
}

#ifdef HAVE_HIREDIS_SSL

TEST(config_rediss)
{
	struct config c;
	char err[256];

	CHECK(parse("state_backend = rediss://:pw@redis.example:6380/1\n", &c, err,
	    sizeof(err)) == 0);
	CHECK(c.state_backend.tls && c.state_backend.port == 6380);
	CHECK_STR(c.state_backend.host, "redis.example");
	CHECK_STR(c.redis_tls_ca, "");		/* the system's CAs */
	CHECK_STR(c.redis_tls_cert, "");
	config_free(&c);
	CHECK(parse("redis_tls_ca = /etc/authguard/redis-ca.pem\n"
	    "redis_tls_cert = /etc/authguard/client.pem\n"
	    "redis_tls_key = /etc/authguard/client.key\n"
	    "state_backend = rediss://10.0.0.5\n", &c, err, sizeof(err)) == 0);
	CHECK_STR(c.redis_tls_ca, "/etc/authguard/redis-ca.pem");
	CHECK_STR(c.redis_tls_cert, "/etc/authguard/client.pem");
	CHECK_STR(c.redis_tls_key, "/etc/authguard/client.key");
	config_free(&c);
}

#else

TEST(config_rediss_refused_without_hiredis_ssl)
{
	struct config c;
	char err[256];

	CHECK(parse("state_backend = rediss://h\n", &c, err, sizeof(err)) < 0);
	CHECK(strstr(err, "test.conf:1: rediss:// is not supported: this "
	    "build's hiredis has no TLS") != NULL);
}

#endif

TEST(config_redis_tls_keys)
{
	struct config c;
	char err[256];

	CHECK(parse("redis_tls_ca = etc/ca.pem\n", &c, err, sizeof(err)) < 0);
	CHECK_STR(err, "test.conf:1: want an absolute path");
	/* TLS settings for a backend without TLS: a mistake, said */
	CHECK(parse("redis_tls_ca = /etc/ca.pem\n", &c, err, sizeof(err)) < 0);
	CHECK(strstr(err, "test.conf: redis_tls_ca, redis_tls_cert and "
	    "redis_tls_key apply to state_backend = rediss:// only") != NULL);
	CHECK(parse("state_backend = redis://h\nredis_tls_key = /k\n", &c, err,
	    sizeof(err)) < 0);
	CHECK(strstr(err, "apply to state_backend = rediss:// only") != NULL);
#ifdef HAVE_HIREDIS_SSL
	CHECK(parse("state_backend = rediss://h\nredis_tls_cert = /c.pem\n", &c,
	    err, sizeof(err)) < 0);
	CHECK_STR(err, "test.conf: redis_tls_cert and redis_tls_key go together "
	    "(a client certificate and its private key)");
	CHECK(parse("state_backend = rediss://h\nredis_tls_key = /k.pem\n", &c,
	    err, sizeof(err)) < 0);
	CHECK(strstr(err, "go together") != NULL);
	/* an empty value is the default: no client certificate */
	CHECK(parse("state_backend = rediss://h\nredis_tls_cert = /c\n"
	    "redis_tls_key = /k\nredis_tls_cert =\nredis_tls_key =\n", &c, err,
	    sizeof(err)) == 0);
	config_free(&c);
#endif
}

TEST(config_auth_policy_api_header)
{
	struct config c;
	char err[256];

	/* TCP: any local process may connect, so a key is required */
	CHECK(parse("auth_policy_listen = inet:127.0.0.1:8899\n", &c, err,
	    sizeof(err)) < 0);
	CHECK_STR(err, "test.conf: auth_policy_listen on inet: needs "
	    "auth_policy_api_header (any local process may connect)");
	CHECK(parse("auth_policy_listen = inet:127.0.0.1:8899\n"
	    "auth_policy_api_header = X-API-Key: s3cret\n", &c, err,
	    sizeof(err)) == 0);
	CHECK_STR(c.auth_policy_api_header, "X-API-Key: s3cret");
	config_free(&c);
	CHECK(parse("auth_policy_listen = inet:127.0.0.1:8899\n"
	    "auth_policy_api_header = s3cret\n", &c, err, sizeof(err)) == 0);
	config_free(&c);
	/* a unix socket has its owner and mode: the key may go */
	CHECK(parse("auth_policy_listen = unix:/run/authguard/policy\n", &c,
	    err, sizeof(err)) == 0);
	config_free(&c);
	/* a header without a value, or a value without a name */
	CHECK(parse("auth_policy_listen = unix:/run/authguard/policy\n"
	    "auth_policy_api_header = X-API-Key:\n", &c, err,
	    sizeof(err)) < 0);
	CHECK_STR(err, "test.conf: auth_policy_api_header: want "
	    "\"Name: value\", neither empty");
	CHECK(parse("auth_policy_listen = inet:127.0.0.1:8899\n"
	    "auth_policy_api_header = X-API-Key:   \n", &c, err,
	    sizeof(err)) < 0);
	CHECK(parse("auth_policy_api_header = : s3cret\n", &c, err,
	    sizeof(err)) < 0);
}

/* The notice keys: their defaults, as the contract of notify gives them. */
TEST(config_notify_defaults)
{
	struct config c;
	char err[256];

	CHECK(parse("", &c, err, sizeof(err)) == 0);
	CHECK(c.notify == 0);
	CHECK(c.notify_events == 0xfu);
	CHECK(c.notify_stale_after == 3600000);
	CHECK(c.notify_repeat == 3);
	CHECK(c.notify_interval == 86400000);
	CHECK(c.notify_max_per_hour == 100);
	CHECK_STR(c.notify_sendmail, "/usr/sbin/sendmail -t -oi");
	CHECK_STR(c.notify_from, "postmaster");
	CHECK_STR(c.notify_contact_map, "");
	CHECK(c.notify_templates[0] == '/' &&
	    strstr(c.notify_templates, "/authguard/notices") != NULL);
	CHECK(c.notify_max_children == 4);
	config_free(&c);
}

/* notify_events: a list of kinds into bits; a word not a kind is an error. */
TEST(config_notify_events)
{
	struct config c;
	char err[256];

	CHECK(parse("notify = yes\nnotify_events = lock\n", &c, err,
	    sizeof(err)) == 0);
	CHECK(c.notify == 1 && c.notify_events == 1u << NOTICE_LOCK);
	config_free(&c);
	CHECK(parse("notify_events = password-guessing,stale-password\n", &c,
	    err, sizeof(err)) == 0);
	CHECK(c.notify_events == ((1u << NOTICE_GUESSING) |
	    (1u << NOTICE_STALE_PASSWORD)));
	config_free(&c);
	CHECK(parse("notify_events =\n", &c, err, sizeof(err)) == 0);
	CHECK(c.notify_events == 0);
	config_free(&c);
	CHECK(parse("notify_events = lock, stale\n", &c, err, sizeof(err)) < 0);
	CHECK(strstr(err, "test.conf:1: want notice kinds") == err);
}

/* notify_from cannot add a header or a recipient; sendmail is a path. */
TEST(config_notify_refusals)
{
	static const char *const bad[] = {
		"notify_from = a@b, c@d\n", "notify_from = <a@b>\n",
		"notify_from = -oi\n", "notify_from =\n",
		/* what the message would refuse: -t must refuse it too */
		"notify_from = postmaster@\n", "notify_from = a..b\n",
		"notify_from = x@y@z\n",
		"notify_sendmail = sendmail -t\n", "notify_repeat = 0\n",
		"notify_max_children = 65\n", "notify_templates = notices\n",
		"notify_hostname = mail example\n", "notify_hostname = -x.org\n",
		"notify_contact_map = contacts.cdb\n",
		"notify_stale_after = 1y\n",
	};
	struct config c;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		CHECK(parse(bad[i], &c, err, sizeof(err)) < 0);
		CHECK(strncmp(err, "test.conf", 9) == 0);
	}
	CHECK(parse("notify_from = alerts@example.org\nnotify_sendmail = "
	    "/usr/sbin/sendmail -t -oi\nnotify_interval = 12h\n", &c, err,
	    sizeof(err)) == 0);
	CHECK_STR(c.notify_from, "alerts@example.org");
	CHECK(c.notify_interval == 12 * 3600000u);
	config_free(&c);
}

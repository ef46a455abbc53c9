/*++
/* NAME
/*	test_netaddr 1
/* SUMMARY
/*	unit tests: canonical address forms
/*--*/
#include "unit.h"
#include "netaddr.h"

/* canon - the canonical text of s, in a buffer of NETADDR_CANON_MAX */
static const char *
canon(const char *s)
{
	static char out[NETADDR_CANON_MAX];

	return netaddr_canon(s, out, sizeof(out));
}

TEST(canon_mapped_is_ipv4)
{
	CHECK_STR(canon("::ffff:192.0.2.77"), "192.0.2.77");
	CHECK_STR(canon("::FFFF:192.0.2.77"), "192.0.2.77");
	CHECK_STR(canon("::FfFf:192.0.2.77"), "192.0.2.77");
	CHECK_STR(canon("0:0:0:0:0:ffff:192.0.2.77"), "192.0.2.77");
	CHECK_STR(canon("0000:0000:0000:0000:0000:FFFF:192.0.2.77"),
	    "192.0.2.77");
	CHECK_STR(canon("::ffff:c000:24d"), "192.0.2.77");
	CHECK_STR(canon("::FFFF:C000:024D"), "192.0.2.77");
	CHECK_STR(canon("::ffff:0.0.0.0"), "0.0.0.0");
	CHECK_STR(canon("::ffff:255.255.255.255"), "255.255.255.255");
}

TEST(canon_plain_addresses)
{
	CHECK_STR(canon("192.0.2.77"), "192.0.2.77");
	CHECK_STR(canon("127.0.0.1"), "127.0.0.1");
	CHECK_STR(canon("2001:db8::1"), "2001:db8::1");
	CHECK_STR(canon("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
	CHECK_STR(canon("2001:0db8:0000:0000:0001:0000:0000:0001"),
	    "2001:db8::1:0:0:1");
	CHECK_STR(canon("::1"), "::1");
	CHECK_STR(canon("::"), "::");
	/* IPv4-compatible (RFC 4291, deprecated) is not mapped: IPv6 */
	CHECK_STR(canon("::192.0.2.77"), "::192.0.2.77");
	CHECK_STR(canon("::c000:24d"), "::192.0.2.77");
	/* the other ::ffff: forms are not mapped either */
	CHECK_STR(canon("::ffff:0:192.0.2.77"), "::ffff:0:c000:24d");
	CHECK_STR(canon("64:ff9b::192.0.2.77"), "64:ff9b::c000:24d");
}

TEST(canon_zones)
{
	CHECK_STR(canon("fe80::1%eth0"), "fe80::1%eth0");
	CHECK_STR(canon("FE80:0:0:0:0:0:0:1%eth0"), "fe80::1%eth0");
	CHECK_STR(canon("fe80::1%2"), "fe80::1%2");
	CHECK_STR(canon("fe80::1%br-lan.10_x"), "fe80::1%br-lan.10_x");
	CHECK_STR(canon("fe80::1%abcdefghijklmno"), "fe80::1%abcdefghijklmno");
	/* a mapped address is IPv4, which has no zones */
	CHECK_STR(canon("::ffff:192.0.2.77%eth0"), "192.0.2.77");
	/* not addresses: empty, too long, odd characters, IPv4 text */
	CHECK_STR(canon("fe80::1%"), "fe80::1%");
	CHECK_STR(canon("fe80::1%abcdefghijklmnop"), "fe80::1%abcdefghijklmnop");
	CHECK_STR(canon("fe80::1%eth 0"), "fe80::1%eth 0");
	CHECK_STR(canon("fe80::1%eth0%1"), "fe80::1%eth0%1");
	CHECK_STR(canon("fe80::1%eth0/64"), "fe80::1%eth0/64");
	CHECK_STR(canon("192.0.2.77%eth0"), "192.0.2.77%eth0");
	CHECK_STR(canon("%eth0"), "%eth0");
}

TEST(canon_non_addresses_unchanged)
{
	static const char *const not_addr[] = {
		"", "unknown", "alice@lab.test", "localhost", "192.0.2",
		"192.0.2.077", "192.0.2.256", " 192.0.2.77", "192.0.2.77 ",
		"::ffff:192.0.2.77/96", "2001:db8::1::2", "2001:db8:::1",
		"[2001:db8::1]", "ffff:192.0.2.77",
		"0:0:0:0:0:0:0:0:0:ffff:192.0.2.77",
	};
	char out[NETADDR_CANON_MAX];
	size_t i;

	for (i = 0; i < sizeof(not_addr) / sizeof(not_addr[0]); i++)
		CHECK(netaddr_canon(not_addr[i], out, sizeof(out)) == not_addr[i]);
	CHECK(netaddr_canon(NULL, out, sizeof(out)) == NULL);
}

TEST(canon_buffer_sizes)
{
	const char *in = "::ffff:192.0.2.77", *v6 = "2001:DB8::1%eth0";
	char out[NETADDR_CANON_MAX];

	/* "192.0.2.77" needs 11 bytes */
	CHECK(netaddr_canon(in, out, 10) == in);
	CHECK(netaddr_canon(in, out, 0) == in);
	CHECK(netaddr_canon(in, NULL, 0) == in);
	CHECK(netaddr_canon(in, out, 11) == out);
	CHECK_STR(out, "192.0.2.77");
	/* "2001:db8::1%eth0" needs 17 */
	CHECK(netaddr_canon(v6, out, 16) == v6);
	CHECK(netaddr_canon(v6, out, 17) == out);
	CHECK_STR(out, "2001:db8::1%eth0");
}

TEST(canon_longest_fits)
{
	const char *in = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"
	    "%abcdefghijklmno";
	char out[NETADDR_CANON_MAX];

	CHECK(netaddr_canon(in, out, sizeof(out)) == out);
	CHECK_STR(out, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%abcdefghijklmno");
	CHECK(strlen(out) < NETADDR_CANON_MAX);
}

TEST(canon_is_stable)
{
	static const char *const in[] = {
		"::ffff:192.0.2.77", "2001:DB8::1", "fe80::A%eth0", "::1",
		"::192.0.2.77", "10.0.0.1",
	};
	char once[NETADDR_CANON_MAX], twice[NETADDR_CANON_MAX];
	size_t i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		CHECK(netaddr_canon(in[i], once, sizeof(once)) == once);
		CHECK(netaddr_canon(once, twice, sizeof(twice)) == twice);
		CHECK_STR(twice, once);
	}
}

TEST(valid_addresses)
{
	CHECK(netaddr_valid("192.0.2.77"));
	CHECK(netaddr_valid("::ffff:192.0.2.77"));
	CHECK(netaddr_valid("2001:db8::1"));
	CHECK(netaddr_valid("fe80::1%eth0"));
	CHECK(!netaddr_valid("fe80::1%"));
	CHECK(!netaddr_valid("192.0.2.77%eth0"));
	CHECK(!netaddr_valid("alice@example.test"));
	CHECK(!netaddr_valid("ABCDEFGH12"));
	CHECK(!netaddr_valid(""));
	CHECK(!netaddr_valid(NULL));
}

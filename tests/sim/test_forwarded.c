/*++
/* NAME
/*	test_forwarded 1
/* SUMMARY
/*	the refs the gate forwarded, as the auth policy door asks for them
/* DESCRIPTION
/*	forwarded 3 on its own: a ref is known for FORWARDED_MS after it
/*	was forwarded, for the account and address it was forwarded
/*	with only, until a report takes it; at most FORWARDED_MAX are
/*	kept (the oldest go first), and what is not a ref is never one.
/*--*/
#include <stdio.h>
#include <string.h>

#include "forwarded.h"
#include "ref.h"
#include "unit.h"

#define A	"alice@example.test"
#define IP	"192.0.2.1"

TEST(forwarded_known_for_a_minute)
{
	forwarded_clear();
	forwarded_add("AG7K2M4P9Q", A, IP, 1000);
	CHECK(forwarded_has("AG7K2M4P9Q", A, IP, 1000));
	CHECK(forwarded_has("AG7K2M4P9Q", A, IP, 1000 + FORWARDED_MS - 1));
	CHECK(!forwarded_has("AG7K2M4P9Q", A, IP, 1000 + FORWARDED_MS));
	CHECK(!forwarded_has("AG7K2M4P9R", A, IP, 1000));
	CHECK(!forwarded_has("AG7K2M4P9", A, IP, 1000));
	CHECK(!forwarded_has("", A, IP, 1000));
	CHECK(!forwarded_has("r7F5LqVhBop/AAAB", A, IP, 1000));
	CHECK(forwarded_count(1000) == 1);
	forwarded_clear();
	CHECK(!forwarded_has("AG7K2M4P9Q", A, IP, 1000));
}

TEST(forwarded_keeps_the_newest)
{
	char ref[REF_LEN + 1], first[REF_LEN + 1], last[REF_LEN + 1];
	unsigned i;

	forwarded_clear();
	for (i = 0; i < FORWARDED_MAX + 10; i++) {
		ref_new(ref);
		if (i == 0)
			memcpy(first, ref, sizeof(first));
		forwarded_add(ref, A, IP, 5000 + i);
	}
	memcpy(last, ref, sizeof(last));
	CHECK(!forwarded_has(first, A, IP, 5000 + i));
	CHECK(forwarded_has(last, A, IP, 5000 + i));
	CHECK(forwarded_count(5000 + i) == FORWARDED_MAX);
	forwarded_clear();
}

TEST(forwarded_for_its_login_and_address_only)
{
	forwarded_clear();
	forwarded_add("AG7K2M4P9Q", "Alice@Example.TEST", "2001:DB8:0::1",
	    1000);
	CHECK(forwarded_has("AG7K2M4P9Q", "alice@example.test", "2001:db8::1",
	    1000));
	CHECK(forwarded_has("AG7K2M4P9Q", "ALICE@example.test",
	    "2001:0db8::0001", 1000));
	CHECK(!forwarded_has("AG7K2M4P9Q", "bob@example.test", "2001:db8::1",
	    1000));
	CHECK(!forwarded_has("AG7K2M4P9Q", "alice@example.test",
	    "2001:db8::2", 1000));
	CHECK(!forwarded_has("AG7K2M4P9Q", "", "2001:db8::1", 1000));
	CHECK(!forwarded_has("AG7K2M4P9Q", "alice@example.test", "", 1000));
	CHECK(!forwarded_has("AG7K2M4P9Q", NULL, NULL, 1000));
	CHECK(!forwarded_take("AG7K2M4P9Q", "bob@example.test", "2001:db8::1",
	    1000));
	forwarded_clear();
}

TEST(forwarded_report_uses_the_ref_up)
{
	forwarded_clear();
	forwarded_add("AG7K2M4P9Q", A, IP, 1000);
	CHECK(forwarded_has("AG7K2M4P9Q", A, IP, 1000));
	CHECK(forwarded_has("AG7K2M4P9Q", A, IP, 1001));	/* allow twice */
	CHECK(forwarded_take("AG7K2M4P9Q", A, IP, 1002));
	CHECK(!forwarded_take("AG7K2M4P9Q", A, IP, 1003));
	CHECK(!forwarded_has("AG7K2M4P9Q", A, IP, 1003));
	CHECK(forwarded_count(1003) == 0);
	CHECK(!forwarded_take("AG7K2M4P9R", A, IP, 1000));
	forwarded_clear();
}

TEST(forwarded_keeps_nothing_it_cannot_match)
{
	char longer[FORWARDED_ACCOUNT_MAX + 2];

	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = 0;
	forwarded_clear();
	forwarded_add("AG7K2M4P9Q", "", IP, 1000);
	forwarded_add("AG7K2M4P9R", NULL, IP, 1000);
	forwarded_add("AG7K2M4P9S", A, "", 1000);
	forwarded_add("AG7K2M4P9T", longer, IP, 1000);
	CHECK(forwarded_count(1000) == 0);
	CHECK(!forwarded_has("AG7K2M4P9Q", "", IP, 1000));
	CHECK(!forwarded_has("AG7K2M4P9S", A, "", 1000));
	CHECK(!forwarded_has("AG7K2M4P9T", longer, IP, 1000));
	forwarded_clear();
}

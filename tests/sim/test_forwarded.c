/*++
/* NAME
/*	test_forwarded 1
/* SUMMARY
/*	the refs the gate forwarded, as the auth policy door asks for them
/* DESCRIPTION
/*	forwarded 3 on its own: a ref is known for FORWARDED_MS after it
/*	was forwarded, at most FORWARDED_MAX are kept (the oldest go
/*	first), and what is not a ref is never one.
/*--*/
#include <stdio.h>
#include <string.h>

#include "forwarded.h"
#include "ref.h"
#include "unit.h"

TEST(forwarded_known_for_a_minute)
{
	forwarded_clear();
	forwarded_add("AG7K2M4P9Q", 1000);
	CHECK(forwarded_has("AG7K2M4P9Q", 1000));
	CHECK(forwarded_has("AG7K2M4P9Q", 1000 + FORWARDED_MS - 1));
	CHECK(!forwarded_has("AG7K2M4P9Q", 1000 + FORWARDED_MS));
	CHECK(!forwarded_has("AG7K2M4P9R", 1000));
	CHECK(!forwarded_has("AG7K2M4P9", 1000));
	CHECK(!forwarded_has("", 1000));
	CHECK(!forwarded_has("r7F5LqVhBop/AAAB", 1000));
	CHECK(forwarded_count(1000) == 1);
	forwarded_clear();
	CHECK(!forwarded_has("AG7K2M4P9Q", 1000));
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
		forwarded_add(ref, 5000 + i);
	}
	memcpy(last, ref, sizeof(last));
	CHECK(!forwarded_has(first, 5000 + i));
	CHECK(forwarded_has(last, 5000 + i));
	CHECK(forwarded_count(5000 + i) == FORWARDED_MAX);
	forwarded_clear();
}

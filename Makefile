# authguard - build, test and install.
#
#   make              build everything into $(BUILD)/
#   make check        unit tests + lab tests against real Postfix and Dovecot
#   make check-asan   the same suite built with ASan+UBSan
#   make check-pristine DIST=bookworm|trixie
#                     make demo, then make check, from a clean clone in a minimal Debian
#   make demo         start the lab and show each client reply beside its log line
#   make install      PREFIX=/usr/local DESTDIR= (GNU directory variables below)

BUILD	?= build
# GNU installation directories; sysconfdir and localstatedir default to /etc and /var
# (where a mail server's configuration and state live) whatever the prefix.
PREFIX	?= /usr/local
prefix	?= $(PREFIX)
exec_prefix ?= $(prefix)
sbindir	?= $(exec_prefix)/sbin
bindir	?= $(exec_prefix)/bin
datarootdir ?= $(prefix)/share
mandir	?= $(datarootdir)/man
docdir	?= $(datarootdir)/doc/authguard
sysconfdir ?= /etc
localstatedir ?= /var
unitdir	?= $(prefix)/lib/systemd/system
DESTDIR	?=

CC	?= cc
OPT	?= -O2
PKGS	= libcdb libcrypto libmicrohttpd jansson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lcdb -lcrypto -lmicrohttpd -ljansson)
SSL_LIBS   := $(shell pkg-config --libs libssl 2>/dev/null || echo -lssl)
# Redis over TLS (rediss://) where hiredis ships hiredis_ssl (Debian 13); without it,
# rediss:// is refused with a clear message.
HIREDIS_SSL := $(shell pkg-config --exists hiredis_ssl 2>/dev/null && echo yes)
ifeq ($(HIREDIS_SSL),yes)
REDIS_TLS_CFLAGS = -DHAVE_HIREDIS_SSL
REDIS_LIBS = -lhiredis_ssl -lhiredis $(SSL_LIBS)
else
REDIS_TLS_CFLAGS =
REDIS_LIBS = -lhiredis
endif
CFLAGS	?=
WARN	= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	  -Wno-unused-parameter -Wno-comment
HARDEN	= -fstack-protector-strong -D_FORTIFY_SOURCE=2
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -g $(OPT) $(WARN) $(HARDEN) -iquote lib $(PKG_CFLAGS) \
	  -DDAEMON_DEF_CONFIG='"$(sysconfdir)/authguard/authguard.conf"' $(REDIS_TLS_CFLAGS) \
	  -DNOTIFY_DEF_TEMPLATES='"$(sysconfdir)/authguard/notices"' \
	  $(SAN) $(CFLAGS)
LDLIBS	= $(PKG_LIBS)

# Every source file of a folder belongs to its program: a new module needs
# no line here.
LIB_SRC	= $(sort $(wildcard lib/*.c))
POLICY_SRC = $(sort $(wildcard policy/*.c))
UNIT_SRC = $(sort $(wildcard tests/unit/*.c))

LIB_OBJ	= $(LIB_SRC:%.c=$(BUILD)/%.o)
POLICY_OBJ = $(POLICY_SRC:%.c=$(BUILD)/%.o)
UNIT_OBJ = $(UNIT_SRC:%.c=$(BUILD)/%.o)

MILTER_SRC = $(sort $(wildcard milter/*.c))
MILTER_OBJ = $(MILTER_SRC:%.c=$(BUILD)/%.o)

CLI_SRC	= $(sort $(wildcard cli/*.c))
CLI_OBJ	= $(CLI_SRC:%.c=$(BUILD)/%.o)

# authguard-web: its own folder, with the daemon's loop, listeners and HTTP.
WEB_SRC	= $(sort $(wildcard web/*.c))
WEB_OBJ	= $(WEB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/policy/event.o $(BUILD)/policy/conn.o \
	  $(BUILD)/policy/http.o $(BUILD)/policy/hushwin.o
CRYPT_LIBS := $(shell pkg-config --libs libcrypt 2>/dev/null || echo -lcrypt)

PROGS	= $(BUILD)/authguard-policyd $(BUILD)/authguard-milter $(BUILD)/authguard \
	  $(BUILD)/authguard-web
# Each fuzz target, linked without libFuzzer, replays tests/fuzz/corpus/<name>
# (seeds and former crashes) in make check and make check-asan.
FUZZ_TARGETS = authproto sasl config logline policy milter doctor smtpreply logscan saslpeek authpolicy \
	  pages web notice noticewatch
FUZZ_REPLAY = $(FUZZ_TARGETS:%=$(BUILD)/fuzz/replay_%)
# The deterministic simulation of authguard-policyd (tests/sim/sim.c): the
# daemon's objects without main(), its schedules in tests/fuzz/corpus/sim.
SIM_OBJ	= $(filter-out $(BUILD)/policy/main.o,$(POLICY_OBJ))
SIM_TESTS = $(wildcard tests/sim/test_*.c)
TESTS	= $(BUILD)/unit-tests $(FUZZ_REPLAY) $(BUILD)/fuzz/replay_sim $(BUILD)/sim-tests \
	  $(BUILD)/limits_diff

all: $(PROGS) $(TESTS)

$(BUILD)/%.o: %.c $(wildcard lib/*.h policy/*.h milter/*.h cli/*.h web/*.h tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# shared.lua, as a C string for SCRIPT LOAD
$(BUILD)/policy/shared_lua.h: policy/shared.lua
	@mkdir -p $(dir $@)
	{ echo 'static const char shared_lua[] ='; \
	  sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$$/\\n"/' $<; echo ';'; } >$@

$(BUILD)/policy/shared.o: $(BUILD)/policy/shared_lua.h
$(BUILD)/policy/shared.o: ALL_CFLAGS += -iquote $(BUILD)/policy

$(BUILD)/libauthguard.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/authguard-policyd: $(POLICY_OBJ) $(BUILD)/libauthguard.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(REDIS_LIBS) $(LDLIBS)

$(BUILD)/authguard-milter: $(MILTER_OBJ) $(BUILD)/libauthguard.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lmilter -lpthread $(LDLIBS)

$(BUILD)/authguard: $(CLI_OBJ) $(BUILD)/libauthguard.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(SSL_LIBS) $(LDLIBS)

$(BUILD)/web/%.o: ALL_CFLAGS += -iquote policy \
	-DWEB_DEF_CONFIG='"$(sysconfdir)/authguard/authguard-web.conf"'

$(BUILD)/authguard-web: $(WEB_OBJ) $(BUILD)/libauthguard.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(CRYPT_LIBS) $(LDLIBS)

$(BUILD)/unit-tests: $(UNIT_OBJ) $(BUILD)/policy/event.o $(BUILD)/policy/http.o \
	    $(BUILD)/policy/hushwin.o $(BUILD)/policy/spawn.o \
	    $(BUILD)/policy/noticelog.o $(BUILD)/web/pages.o $(BUILD)/libauthguard.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

# The pages of authguard-web: their unit test and fuzz target link web/pages.o.
$(BUILD)/web/pages.o $(BUILD)/tests/unit/test_pages.o: web/pages.h
$(BUILD)/tests/unit/test_pages.o: ALL_CFLAGS += -iquote web

$(BUILD)/fuzz/replay_pages: tests/fuzz/fuzz_pages.c tests/fuzz/replay.c $(BUILD)/web/pages.o \
	    $(BUILD)/libauthguard.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -iquote web -Wno-missing-prototypes -o $@ $< tests/fuzz/replay.c \
	    $(BUILD)/web/pages.o $(BUILD)/libauthguard.a $(LDLIBS)

$(BUILD)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(BUILD)/libauthguard.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -o $@ $< tests/fuzz/replay.c \
	    $(BUILD)/libauthguard.a $(LDLIBS)

$(BUILD)/fuzz/replay_sim: tests/sim/fuzz_sim.c tests/sim/sim.c tests/sim/sim.h \
	    tests/fuzz/replay.c $(SIM_OBJ) $(BUILD)/libauthguard.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -iquote policy -o $@ tests/sim/fuzz_sim.c tests/sim/sim.c \
	    tests/fuzz/replay.c $(SIM_OBJ) $(BUILD)/libauthguard.a $(REDIS_LIBS) $(LDLIBS)

# The gate, enforce, upstream, userdb and control, tested on the simulation.
$(BUILD)/sim-tests: tests/sim/sim.c tests/sim/sim.h $(SIM_TESTS) tests/unit/unit.c \
	    tests/unit/unit.h $(SIM_OBJ) $(BUILD)/libauthguard.a
	$(CC) $(ALL_CFLAGS) -iquote policy -iquote tests/unit -iquote tests/sim -o $@ \
	    tests/sim/sim.c $(SIM_TESTS) tests/unit/unit.c $(SIM_OBJ) \
	    $(BUILD)/libauthguard.a $(REDIS_LIBS) $(LDLIBS)

# lib/limits.c against policy/shared.lua in a real redis-server (tests/diff).
$(BUILD)/limits_diff: tests/diff/limits_diff.c $(BUILD)/libauthguard.a
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libauthguard.a $(REDIS_LIBS) $(LDLIBS)

$(BUILD)/hashcollide: bench/hashcollide.c $(BUILD)/libauthguard.a
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wno-comment -iquote lib \
	    -o $@ $< $(BUILD)/libauthguard.a $(LDLIBS)

$(BUILD)/tallybench: bench/tallybench.c $(BUILD)/libauthguard.a
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wno-comment -iquote lib \
	    -o $@ $< $(BUILD)/libauthguard.a $(LDLIBS)

$(BUILD)/hashcost: bench/hashcost.c $(BUILD)/libauthguard.a
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wno-comment -iquote lib \
	    -o $@ $< $(BUILD)/libauthguard.a $(LDLIBS)

$(BUILD)/policyload: bench/policyload.c bench/loadstat.h
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wno-comment -o $@ $<

$(BUILD)/nologic: bench/nologic.c
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wno-comment -o $@ $<

$(BUILD)/nullmilter: bench/nullmilter.c
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wno-comment -Wno-unused-parameter \
	    -o $@ $< -lmilter -lpthread

$(BUILD)/authload: bench/authload.c bench/loadstat.h
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wno-comment -o $@ $<

$(BUILD)/doorload: bench/doorload.c bench/loadstat.h
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wno-comment -o $@ $<

$(BUILD)/relay: bench/relay.c
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wno-comment -o $@ $<

# A benchmark, not a test: prints a table, writes bench/RESULTS.md.
bench: deps all $(BUILD)/policyload $(BUILD)/nologic $(BUILD)/nullmilter $(BUILD)/authload \
	    $(BUILD)/relay $(BUILD)/doorload
	@sh bench/deps.sh
	@python3 bench/bench.py $(BUILD)

deps:
	@sh tests/deps.sh

check: deps
	@$(MAKE) --no-print-directory all
	@sh tests/run.sh $(BUILD)

# The modules' include and symbol graphs: their cycles and layer breaches
# (tests/layers/layers.py says which layer may use which).
layers: all
	@python3 tests/layers/layers.py $(BUILD)

check-asan: deps
	@$(MAKE) --no-print-directory all BUILD=build-asan OPT=-O1 \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 sh tests/run.sh build-asan

# libFuzzer targets, one per parser family; seeds in tests/fuzz/corpus/<name>.
FUZZ_SECONDS ?= 10
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -Wno-comment -iquote lib $(PKG_CFLAGS) \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

fuzz-build: $(FUZZ_TARGETS:%=build-fuzz/fuzz_%) build-fuzz/fuzz_sim

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRC) $(wildcard lib/*.h)
	@mkdir -p build-fuzz
	clang $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRC) $(LDLIBS)

build-fuzz/fuzz_pages: tests/fuzz/fuzz_pages.c web/pages.c web/pages.h $(LIB_SRC) $(wildcard lib/*.h)
	@mkdir -p build-fuzz
	clang $(FUZZ_CFLAGS) -iquote web -o $@ $< web/pages.c $(LIB_SRC) $(LDLIBS)

build-fuzz/fuzz_sim: tests/sim/fuzz_sim.c tests/sim/sim.c tests/sim/sim.h $(LIB_SRC) $(filter-out policy/main.c,$(POLICY_SRC)) \
	    $(wildcard lib/*.h policy/*.h) policy/shared.lua
	@mkdir -p build-fuzz/policy
	{ echo 'static const char shared_lua[] ='; \
	  sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$$/\\n"/' policy/shared.lua; echo ';'; } \
	    >build-fuzz/policy/shared_lua.h
	clang $(FUZZ_CFLAGS) $(REDIS_TLS_CFLAGS) -iquote policy -iquote build-fuzz/policy \
	    -o $@ tests/sim/fuzz_sim.c tests/sim/sim.c $(LIB_SRC) \
	    $(filter-out policy/main.c,$(POLICY_SRC)) \
	    $(REDIS_LIBS) $(LDLIBS)

# The simulation's schedules are at most 256 steps of 3 bytes; a run of the
# daemon costs more than a parse, so it gets its own time (SIM_SECONDS).
SIM_SECONDS ?= $(FUZZ_SECONDS)
# Each target is single-threaded: run as many at once as there are cores. The
# simulation, the longest, starts first, so the others share the cores beside it.
FUZZ_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
fuzz: fuzz-build
	@sh tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS) $(SIM_SECONDS) $(FUZZ_JOBS) \
	    sim $(FUZZ_TARGETS)

# The README's commands (make demo, then make check) in a minimal Debian root file system
# (debootstrap), from a clean clone of HEAD: what a new machine lacks shows up here.
DIST	?= bookworm
check-pristine:
	@sh tests/deps.sh pristine
	@sh tests/pristine.sh $(DIST) $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory all
	@python3 tests/lab/demo.py $(BUILD)

UNITS	= $(BUILD)/authguard-policyd.service $(BUILD)/authguard-milter.service \
	  $(BUILD)/authguard-web.service
MANPAGES = doc/authguard.1 doc/authguard.conf.5 doc/authguard-causes.7 \
	  doc/authguard-policyd.8 doc/authguard-milter.8 $(wildcard doc/authguard-web.8) \
	  $(wildcard doc/authguard-notices.5)
# The notices' templates: one file per kind; an existing one is never replaced.
NOTICES	= $(wildcard conf-examples/notices/*.txt)
NOTICEDIR = $(DESTDIR)$(sysconfdir)/authguard/notices
CONF	= $(DESTDIR)$(sysconfdir)/authguard/authguard.conf
WEBCONF	= $(DESTDIR)$(sysconfdir)/authguard/authguard-web.conf

# Made again at each install: its paths come from the variables of that make.
$(BUILD)/%.service: systemd/%.service.in FORCE
	@mkdir -p $(dir $@)
	sed -e 's|@SBINDIR@|$(sbindir)|g' -e 's|@SYSCONFDIR@|$(sysconfdir)|g' \
	    -e 's|@LOCALSTATEDIR@|$(localstatedir)|g' $< >$@

# An existing authguard.conf is never replaced: the new example goes beside it.
install: $(UNITS) | $(PROGS)
	install -d $(DESTDIR)$(sbindir) $(DESTDIR)$(bindir) $(DESTDIR)$(unitdir) \
	    $(DESTDIR)$(docdir)/conf-examples $(DESTDIR)$(sysconfdir)/authguard
	install -m 0755 $(BUILD)/authguard-policyd $(BUILD)/authguard-milter \
	    $(BUILD)/authguard-web $(DESTDIR)$(sbindir)/
	install -m 0755 $(BUILD)/authguard $(DESTDIR)$(bindir)/
	for p in $(MANPAGES); do s=$${p##*.}; install -d $(DESTDIR)$(mandir)/man$$s; \
	    install -m 0644 $$p $(DESTDIR)$(mandir)/man$$s/; done
	install -m 0644 $(UNITS) $(DESTDIR)$(unitdir)/
	install -m 0644 $$(find conf-examples -maxdepth 1 -type f) \
	    $(DESTDIR)$(docdir)/conf-examples/
	install -d $(NOTICEDIR)
	@for f in $(NOTICES); do t=$(NOTICEDIR)/$${f##*/}; \
	    if [ -e $$t ]; then echo "kept $$t"; \
	    else install -m 0644 $$f $$t; fi; done
	install -m 0644 README.md SECURITY.md $(DESTDIR)$(docdir)/
	@if [ -e $(CONF) ]; then \
	    install -m 0640 conf-examples/authguard.conf $(CONF).example; \
	    echo "kept $(CONF); the new example is $(CONF).example"; \
	else install -m 0640 conf-examples/authguard.conf $(CONF); fi
	@if [ ! -e conf-examples/authguard-web.conf ]; then :; \
	elif [ -e $(WEBCONF) ]; then \
	    install -m 0640 conf-examples/authguard-web.conf $(WEBCONF).example; \
	    echo "kept $(WEBCONF); the new example is $(WEBCONF).example"; \
	else install -m 0640 conf-examples/authguard-web.conf $(WEBCONF); fi

clean:
	rm -rf build build-asan build-fuzz


.PHONY: bench
.PHONY: all deps check layers check-asan check-pristine demo install clean fuzz fuzz-build FORCE
FORCE:

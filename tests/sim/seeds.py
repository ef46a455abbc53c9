#!/usr/bin/env python3
"""Write the simulation's named schedules into tests/fuzz/corpus/sim/.

Each schedule is a list of steps; each step is three bytes (operation, a, b) as
tests/sim/sim.c reads them. The names say what a schedule plays; the defect
schedules reproduce the defects the simulation guards against.

    python3 tests/sim/seeds.py [DIRECTORY]
"""

import os
import sys

PLAIN, LOGIN, CRAM = 0, 1, 2
V, W, U = 0, 1, 2                 # users: "v", "W", "u@example.org"
OK, FAIL, FAIL_USER, TEMPFAIL, DISABLED, DOVE_CONT, MISMATCH = range(7)
USER, NOTFOUND, UDB_FAIL = range(3)
MS = {1: 0, 10: 1, 100: 2, 1000: 3, 5000: 4, 9000: 5, 60000: 6, 301000: 7,
      901000: 8, 1801000: 9}


def open_():
    return (0, 0, 0)


def close(c):
    return (1, c, 0)


def auth(c, mech=PLAIN, user=V, addr=0, resp=True, tls=True, lower=False,
         unoffered=False):
    """AUTH; lower: the name in lower case; unoffered: NTLM, never listed."""
    a = c | ((0 if tls else 1) << 2) | (8 if unoffered else 0)
    b = (mech | (user << 2) | (addr << 4) | (0x40 if resp else 0) |
         (0x80 if lower else 0))
    return (2, a, b)


def cont(c, k=0, garbage=False):
    return (4, c, (k & 0x7f) | (0x80 if garbage else 0))


def cancel(c, k=0):
    return (6, c, k)


def hostile(c, kind):
    return (7, c, kind)


def dovecot(k, kind):
    return (8, k, kind)


def userdb(k, kind):
    return (10, k, kind)


def lock(target):
    return (11, 0, target)


def unlock(target):
    return (11, 1, target)


def addr(i):
    return 4 | i


def advance(ms):
    return (12, 0, MS[ms])


def dove_hangup():
    return (12, 0, 0x80)


def dove_down():
    return (12, 1, 0x80)


def dove_up():
    return (12, 2, 0x80)


def udb_hangup():
    return (12, 0, 0x40)


SCHEDULES = {
    # A PLAIN and a LOGIN login that pass, a wrong password, an unknown user.
    "seed-basic": [
        open_(), auth(0), dovecot(0, OK),
        auth(0, LOGIN, resp=False), cont(0), cont(0), dovecot(0, FAIL),
        userdb(0, USER), auth(0, PLAIN, user=W, resp=False), cont(0),
        dovecot(0, FAIL), userdb(0, NOTFOUND), close(0)],
    # Credentials without TLS; a relayed CRAM-MD5 exchange.
    "seed-tls-and-cram": [
        open_(), auth(0, tls=False), auth(0, CRAM), dovecot(0, DOVE_CONT),
        cont(0), dovecot(0, OK), auth(0, CRAM, user=U), dovecot(0, DOVE_CONT),
        cont(0), dovecot(0, MISMATCH), userdb(0, USER)],
    # Failures up to the limit, then a lock; time lets it expire.
    "seed-limit": [
        open_(), auth(0), dovecot(0, MISMATCH), userdb(0, USER),
        auth(0), dovecot(0, MISMATCH), userdb(0, USER),
        auth(0), dovecot(0, MISMATCH), userdb(0, USER),
        auth(0), advance(901000), auth(0), dovecot(0, OK)],
    # Dovecot goes down, comes back; auth-userdb hangs up mid-lookup.
    "seed-outage": [
        open_(), auth(0), dove_down(), auth(1), open_(), auth(0),
        advance(5000), dove_up(), advance(5000), auth(0), dovecot(0, FAIL),
        udb_hangup(), advance(1000), auth(0), dovecot(0, TEMPFAIL)],
    # Hostile lines from smtpd.
    "seed-hostile": [
        open_(), hostile(0, 0), hostile(0, 1), hostile(0, 2), hostile(0, 3),
        hostile(0, 4), hostile(0, 5), hostile(0, 6), hostile(0, 7),
        auth(0, LOGIN, resp=False), cont(0, garbage=True), auth(0),
        dovecot(0, DOVE_CONT)],
    # The teardown use-after-free: requests at the limit for v, one more
    # waiting, a LOGIN waiting for its user name on the same connection, a
    # lock, then the connection closes.
    "defect-teardown-uaf": [
        open_(), open_(), auth(0), auth(0), auth(0), auth(1),
        auth(1, LOGIN, resp=False), lock(V), close(1), advance(9000)],
    # A woken request meets Dovecot down: the connection closed twice.
    "defect-double-close": [
        open_(), open_(), auth(0), auth(0), auth(0), auth(1), auth(1),
        dove_hangup(), advance(1000), advance(9000)],
    # Dovecot hangs up while a request waits at the limit: the woken request
    # is answered 454, and its AUTH must not be sent to the next connection.
    "defect-uncounted-check": [
        open_(), open_(), auth(0), auth(0), auth(0), auth(1), dove_hangup(),
        advance(100), advance(1000), advance(1000), dovecot(0, FAIL)],
    # A locked account's CRAM-MD5 response must not reach Dovecot.
    "defect-relay-lock": [
        open_(), lock(V), auth(0, CRAM), dovecot(0, DOVE_CONT), cont(0),
        dovecot(0, OK)],
    # Admin unlock and lock while requests wait at the limit.
    "defect-admin-wake": [
        open_(), open_(), auth(0), auth(0), auth(0), auth(1), unlock(V),
        lock(V), auth(1, user=V), advance(100), dovecot(0, FAIL),
        dovecot(0, FAIL), dovecot(0, FAIL), userdb(0, USER), advance(9000)],
    # Mechanism names in lower case; NTLM, which Dovecot did not list, while
    # another attempt is at Dovecot (it must not cost that one a 454).
    "seed-dialects": [
        open_(), open_(), auth(0, lower=True), dovecot(0, OK),
        auth(0, LOGIN, resp=False, lower=True), cont(0), cont(0),
        auth(1, unoffered=True), dovecot(0, FAIL), userdb(0, USER),
        auth(1, CRAM, lower=True), dovecot(0, DOVE_CONT), cont(1),
        dovecot(0, OK)],
    # Refusals decided by the gate wait (fuzz_sim: refusal_delay = 2s):
    # one cancelled, one whose smtpd goes away, one that runs its time.
    "seed-refusal-wait": [
        open_(), open_(), auth(0, tls=False), cancel(0), auth(1, tls=False),
        close(1), auth(0, tls=False), advance(1000), advance(1000),
        auth(0, unoffered=True), advance(5000)],
    # An address lock.
    "seed-address-lock": [
        open_(), lock(addr(1)), auth(0, addr=1), auth(0, addr=2),
        dovecot(0, OK), unlock(addr(1)), auth(0, addr=1), dovecot(0, OK)],
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "fuzz", "corpus", "sim")
    os.makedirs(out, exist_ok=True)
    for name, steps in SCHEDULES.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes(b for s in steps for b in s))


if __name__ == "__main__":
    main()

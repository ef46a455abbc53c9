#!/usr/bin/env python3
"""Every file authguard-policyd reads fails closed, through real Postfix and Dovecot.

- accounts_map: an entry with one misspelled flag keeps the flags spelled right (carol stays
  oauth-only), the warning names the key and the flag, and -t fails naming them; the map removed
  (with or without SIGHUP) or replaced by a file that is not a cdb: the map read before stays in
  use; a map missing or not a cdb at start: no start.
- state file: one that exists but cannot be read stops the start (starting empty would lift its
  lockouts); once readable again, its lockouts hold.
- fingerprint key: a key file that exists but cannot be read, or has the wrong size, stops the
  start, and -t says so.
"""

import os
import re
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab, wait_until  # noqa: E402
from gatelab import (teardown_suite, Gate, GateClient, POLICYD, auth_line, b64,  # noqa: E402
                     new_gate_dir, ref_of, swaks_auth_reply)
from tap import Suite  # noqa: E402

suite = Suite("failclosed")
S = {}          # lab, gate, dir

CAROL, CAROL_PW = "carol@example.test", "Carol-Pass-1"
ALICE, ALICE_PW = "alice@example.test", "correct horse"
ACCOUNTS = """\
# accounts_map source: postmap cdb:accounts
carol@example.test   oauth-only, no_limit
bob@example.test     app-password-required
"""
NO_LIMITS = dict(account_fail_limit="255/1m", ip_fail_limit="255/1m", guessing_threshold="255")


def postmap(source, text):
    """source (text) built into source.cdb as an admin does: postmap renames a new file in."""
    with open(source, "w") as f:
        f.write(text)
    subprocess.run(["postmap", "-c", S["lab"].postfix_dir, "cdb:" + source], check=True)
    return source + ".cdb"


def setup():
    gdir = S["dir"] = new_gate_dir()
    lab = S["lab"] = Lab(sasl_path=os.path.join(gdir, "auth"))
    S["map"] = postmap(os.path.join(gdir, "accounts"), ACCOUNTS)
    lab.start_dovecot()
    S["gate"] = Gate(lab, gdir, accounts_map=S["map"], upstream_timeout="3s",
                     **NO_LIMITS).start()
    lab.start_postfix()


def teardown():
    teardown_suite(S)


def swaks_auth(user, password):
    rc, out = S["lab"].swaks("-a", "PLAIN", "-au", user, "-ap", password, "--quit-after",
                             "AUTH", "-tls")
    code, text = swaks_auth_reply(out)
    assert code is not None, "no AUTH reply in swaks output:\n" + out
    return code, text


def carol_refused_as_oauth_only():
    """carol's right password through Postfix: 535, cause oauth-required, never 235."""
    code, text = swaks_auth(CAROL, CAROL_PW)
    assert code == 535, "carol (oauth-only) got %r %r" % (code, text)
    ev = S["gate"].event(ref_of(text))
    assert ev["cause"] == "oauth-required", ev["_line"]


def alice_logs_in():
    code, text = swaks_auth(ALICE, ALICE_PW)
    assert code == 235, (code, text)


def check_config(conf):
    """authguard-policyd -t: (exit status, stdout + stderr)."""
    r = subprocess.run([POLICYD, "-t", "-c", conf], capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


def hup_and_wait(g, text):
    mark = len(g.log_text())
    g.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: text in g.log_text()[mark:], 5, "%r after SIGHUP" % text)
    return g.log_text()[mark:]


def start_fails(g):
    """The daemon run as it is started: it must exit at once. (exit status, its log)."""
    r = subprocess.run(g.argv(), capture_output=True, text=True, timeout=15)
    return r.returncode, r.stderr


@suite.test
def misspelled_flag_keeps_the_others():
    g = S["gate"]
    carol_refused_as_oauth_only()
    alice_logs_in()
    warning = 'key "carol@example.test": unknown flag "no_limit"'
    lines = [l for l in g.log_text().splitlines() if warning in l]
    assert len(lines) == 1 and "warning:" in lines[0], g.log_text()[-3000:]
    assert "other flags apply: oauth-only" in lines[0], lines[0]
    rc, out = check_config(g.conf_path)
    assert rc != 0 and "configuration ok" not in out, (rc, out)
    assert ('accounts_map %s: %s' % (S["map"], warning)) in out, out


@suite.test
def map_removed_keeps_the_flags():
    g = S["gate"]
    source = os.path.join(S["dir"], "accounts")
    mark = len(g.log_text())
    os.unlink(S["map"])
    carol_refused_as_oauth_only()
    carol_refused_as_oauth_only()
    alice_logs_in()
    said = "accounts_map %s: No such file or directory; the map read before stays in use" \
        % S["map"]
    assert g.log_text()[mark:].count(said) == 1, g.log_text()[mark:]
    # SIGHUP with the map gone: refused whole, the map in use stays.
    log = hup_and_wait(g, "reload refused")
    assert ("reload refused: accounts_map %s: No such file or directory" % S["map"]) in log, log
    assert "reloaded" not in log, log
    assert g.alive()
    carol_refused_as_oauth_only()
    # A file that is not a cdb renamed into place (the source, by mistake): not used.
    mark = len(g.log_text())
    tmp = S["map"] + ".tmp"
    shutil.copy(source, tmp)
    os.rename(tmp, S["map"])
    carol_refused_as_oauth_only()
    log = g.log_text()[mark:]
    assert ("accounts_map %s: new file not used: not a cdb map" % S["map"]) in log, log
    log = hup_and_wait(g, "reload refused")
    assert "not a cdb map" in log, log
    carol_refused_as_oauth_only()
    # Rebuilt right: used at once, and a reload takes it.
    mark = len(g.log_text())
    postmap(source, ACCOUNTS.replace("no_limit", "no-limit"))
    carol_refused_as_oauth_only()
    assert ("accounts_map %s: new map in use" % S["map"]) in g.log_text()[mark:]
    log = hup_and_wait(g, "reloaded")
    assert "refused" not in log and "unknown flag" not in log, log
    carol_refused_as_oauth_only()
    alice_logs_in()
    rc, out = check_config(g.conf_path)
    assert rc == 0 and "configuration ok" in out, out


@suite.test
def map_missing_or_not_cdb_at_start_stops_it():
    d = os.path.join(S["dir"], "nomap")
    os.makedirs(d)
    missing = os.path.join(d, "accounts.cdb")
    g = Gate(S["lab"], d, accounts_map=missing)
    rc, err = start_fails(g)
    assert rc != 0, err
    assert ("accounts_map %s: No such file or directory" % missing) in err, err
    assert "not starting" in err and "started" not in err, err
    assert not os.path.exists(g.socket), "the socket of a daemon that did not start"
    rc, out = check_config(g.conf_path)
    assert rc != 0 and ("accounts_map %s: No such file or directory" % missing) in out, out
    # The source file named instead of the cdb: not a map, no start.
    source = os.path.join(S["dir"], "accounts")
    g = Gate(S["lab"], d, accounts_map=source)
    rc, err = start_fails(g)
    assert rc != 0 and ("accounts_map %s: not a cdb map" % source) in err, err
    assert "not starting" in err, err


def lock_account(g, user):
    """Three distinct wrong passwords straight to the gate: locked at a limit of 3."""
    c = GateClient(g.socket)
    for i in range(3):
        c.send(auth_line(i + 1, "PLAIN", resp=b64(b"\0%s\0wrong-%d" % (user.encode(), i))))
        assert c.line().startswith(b"FAIL\t%d" % (i + 1))
    c.close()


def locked(g, user):
    c = GateClient(g.socket)
    c.send(auth_line(9, "PLAIN", resp=b64(b"\0%s\0whatever" % user.encode())))
    reply = c.line().decode()
    c.close()
    ref = re.search(r"ref=([0-9A-Z]+)", reply)
    assert reply.startswith("FAIL\t9") and ref, reply
    return g.event(ref.group(1)).get("cause") == "account-locked"


@suite.test
def unreadable_state_file_stops_the_start():
    """As its own user (root reads any file): the state file mode 0 after a lockout."""
    d = os.path.join(S["dir"], "state-eacces")
    os.makedirs(d)
    os.chmod(d, 0o755)
    g = Gate(S["lab"], d, user="nobody", account_fail_limit="3/10m", ip_fail_limit="255/1m",
             guessing_threshold="255").start()
    try:
        lock_account(g, "locked-in-state@example.test")
        assert locked(g, "locked-in-state@example.test")
    finally:
        assert g.stop() == 0                    # the final save
    state = os.path.join(g.state_dir, "state")
    os.chmod(state, 0)
    rc, err = start_fails(g)
    assert rc != 0, err
    assert ("state file %s: Permission denied" % state) in err, err
    assert "not starting" in err and "starting empty" not in err, err
    assert os.path.exists(state) and not os.path.exists(state + ".bad"), os.listdir(g.state_dir)
    rc, out = check_config(g.conf_path)
    assert rc != 0 and ("state file %s: Permission denied" % state) in out, out
    # Root's, mode 0600, in a state_dir of root's: the start gives both to "user", so -t, which
    # reads the state as the start will, has nothing to say.
    os.chmod(state, 0o600)
    os.chown(state, 0, 0)
    os.chown(g.state_dir, 0, 0)
    rc, out = check_config(g.conf_path)
    assert rc == 0 and "configuration ok" in out, out
    g.start()
    try:
        assert locked(g, "locked-in-state@example.test"), "the lockout was lost"
    finally:
        assert g.stop() == 0


@suite.test
def unusable_fingerprint_key_stops_the_start():
    d = os.path.join(S["dir"], "key")
    os.makedirs(d)
    g = Gate(S["lab"], d, user="nobody")
    key = g.settings["fingerprint_key"]
    os.chown(key, 0, 0)                         # root's, mode 0600: nobody cannot read it
    os.chmod(key, 0o600)
    rc, err = start_fails(g)
    assert rc != 0, err
    assert ("fingerprint key %s: Permission denied" % key) in err, err
    assert ("fingerprint_key %s exists but cannot be used" % key) in err, err
    assert "not starting" in err and "for this run only" not in err, err
    rc, out = check_config(g.conf_path)
    assert rc != 0 and ("fingerprint key %s: Permission denied" % key) in out, out
    with open(key, "wb") as f:                  # readable, but 10 bytes
        f.write(os.urandom(10))
    os.chown(key, 65534, 65534)
    rc, err = start_fails(g)
    assert rc != 0 and ("fingerprint key %s: wrong size" % key) in err, err
    assert "for this run only" not in err, err
    with open(key, "wb") as f:
        f.write(os.urandom(32))
    g.start()
    try:
        assert "for this run only" not in g.log_text() and g.alive()
    finally:
        assert g.stop() == 0
    # No key file at all: a key for this run only, with a warning (as before).
    os.unlink(key)
    g.start()
    try:
        wait_until(lambda: "for this run only" in g.log_text(), 5, "the warning")
    finally:
        assert g.stop() == 0


@suite.test
def long_user_names_shared_whole():
    """A recent attempt is kept in Redis under its whole user name, in lower case, as authguard
    why asks for it, for every name the gate takes (up to 1024 bytes): none is left out."""
    from redislab import Redis
    d = os.path.join(S["dir"], "shared")
    os.makedirs(d)
    os.chmod(d, 0o755)
    r = Redis(d).start()
    g = None
    try:
        g = Gate(S["lab"], d, state_backend=r.url(), redis_prefix="lab:", **NO_LIMITS).start()
        wait_until(lambda: "shared state: Redis at" in g.log_text(), 5, "the gate on Redis")
        c = GateClient(g.socket)
        for i, n in enumerate((127, 128, 255, 256, 1024)):
            name = "Long-" + "x" * (n - 18) + "@example.test"
            assert len(name) == n
            c.send(auth_line(i + 1, "PLAIN", resp=b64(b"\0%s\0wrong" % name.encode())))
            reply = c.line()            # Dovecot's FAIL: the gate took the name
            assert reply.startswith(b"FAIL\t%d" % (i + 1)) and b"malformed" not in reply, \
                (n, reply[:120])
            key = "lab:hu:" + name.lower()
            wait_until(lambda: r.cli("LLEN", key).strip() == "1", 5,
                       "the attempt of a %d-byte name in Redis" % n)
        c.close()
    finally:
        if g:
            assert g.stop() == 0
        r.stop()


if __name__ == "__main__":
    suite.run(setup, teardown)

#!/usr/bin/env python3
"""The control socket's answers for a web page, through real Postfix and Dovecot: overview (failures
per cause per hour, locks, stale passwords) after real SMTP logins, why's familiar addresses after a
real successful login, lock and unlock logged as event=admin with the actor and the peer's uid, an
actor with a bad byte refused, and the control socket's group and mode with control_group.

The control socket is asked as another user too (setpriv to nobody, with and without the group):
what the socket's mode allows is what the kernel says, not what the test believes."""

import grp
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab  # noqa: E402
import gatelab  # noqa: E402
from gatelab import teardown_suite, Gate, b64, new_gate_dir, ref_of  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("ctl_web")
S = {}
GROUP = "agctl%d" % os.getpid()
CONF = dict(account_fail_limit="3/10m", ip_fail_limit="50/10m", lockout_time="1m",
            lockout_max="10m", guessing_threshold="10")
NOBODY = 65534


def setup():
    subprocess.run(["groupadd", GROUP], check=True)
    S["group"] = True
    S["gid"] = grp.getgrnam(GROUP).gr_gid
    S["dir"] = new_gate_dir()
    S["lab"] = Lab(sasl_path=os.path.join(S["dir"], "auth"), maxproc=20)
    S["lab"].start_dovecot()
    S["gate"] = Gate(S["lab"], S["dir"], control_group=GROUP, **CONF).start()
    S["lab"].start_postfix()
    # the CLI where nobody can run it (the build directory may not be open to it)
    S["cli"] = os.path.join(S["dir"], "authguard")
    shutil.copy(os.path.join(gatelab.BUILD, "authguard"), S["cli"])
    os.chmod(S["cli"], 0o755)


def teardown():
    try:
        for d in S.get("extra_dirs", []):
            subprocess.run(["rm", "-rf", d])
        teardown_suite(S)
    finally:
        if S.get("group"):
            subprocess.run(["groupdel", GROUP])


def auth(user, password, src, tls=True):
    """One AUTH PLAIN through Postfix from a loopback source address: (code, text)."""
    s = S["lab"].smtp_connect(starttls=tls, source_address=src)
    try:
        code, msg = s.docmd("AUTH PLAIN", b64("\0%s\0%s" % (user, password)))
        return code, msg.decode()
    finally:
        s.close()


def ask(request, path=None):
    """One raw request line to the control socket: the whole answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(path or S["gate"].control)
        s.sendall(request if isinstance(request, bytes) else request.encode())
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out.decode()
            out += chunk


def ask_json(request):
    answer = ask(request)
    assert answer.startswith("OK\n"), answer
    return json.loads(answer[3:])


def cli(*args, uid=None, gid=None):
    """The CLI on the gate's control socket, as root or (uid, gid) with no other group."""
    argv = [S["cli"], "-s", S["gate"].control] + list(args)
    if uid is not None:
        argv = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups"] + argv
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def iso(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def unix(s):
    return int(datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())


def admin_events():
    return S["gate"].events("admin")


@suite.test
def control_socket_has_control_group_and_mode_0660():
    st = os.stat(S["gate"].control)
    assert stat.S_IMODE(st.st_mode) == 0o660, oct(st.st_mode)
    assert st.st_gid == S["gid"] and st.st_uid == 0, (st.st_uid, st.st_gid)
    # a process of that group may ask; the same user without it may not
    r = cli("stats", uid=NOBODY, gid=S["gid"])
    assert r.returncode == 0 and "accounts_tracked=" in r.stdout, (r.returncode, r.stdout, r.stderr)
    r = cli("stats", uid=NOBODY, gid=NOBODY)
    assert r.returncode == 2 and "Permission denied" in r.stderr, (r.returncode, r.stderr)


@suite.test
def control_socket_without_control_group_is_0600():
    d = new_gate_dir()
    S.setdefault("extra_dirs", []).append(d)
    g = Gate(S["lab"], d).start()
    try:
        st = os.stat(g.control)
        assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
        assert st.st_gid == 0, st.st_gid
    finally:
        assert g.stop() == 0, g.log_text()[-2000:]


@suite.test
def unknown_control_group_stops_the_start():
    d = new_gate_dir()
    S.setdefault("extra_dirs", []).append(d)
    g = Gate(S["lab"], d, control_group="no-such-group-%d" % os.getpid())
    r = subprocess.run(gatelab.POLICYD.split() + ["-t", "-c", g.conf_path],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "control_group: unknown group no-such-group" in r.stderr, r
    try:
        g.start(timeout=5)
        raise AssertionError("started with an unknown control_group")
    except RuntimeError as e:
        assert "control_group: unknown group no-such-group" in str(e), str(e)
    assert not os.path.exists(g.socket) and not os.path.exists(g.control)


@suite.test
def overview_counts_real_failures_by_hour_and_lists_the_lock():
    user, src = "alice@example.test", "127.0.0.51"
    for i in range(3):
        code, text = auth(user, "wrong-%d" % i, src)
        assert code == 535, text
        assert S["gate"].event(ref_of(text))["cause"] == "bad-password", text
    code, text = auth("nobody-here@example.test", "x", "127.0.0.52")
    assert code == 535 and S["gate"].event(ref_of(text))["cause"] == "unknown-user", text
    why = ask_json("why\tjson\t%s\n" % user)
    assert why["account"]["locked"] == "yes", why["account"]
    ov = ask_json("overview\tjson\t-\n")
    now = unix(ov["now"])
    assert ov["hours"] == 24 and len(ov["failures"]) == 24, ov
    hours = [unix(f["hour"]) for f in ov["failures"]]
    assert hours[-1] == now - now % 3600, (ov["now"], hours[-1])
    assert all(b - a == 3600 for a, b in zip(hours, hours[1:])), hours
    # every failure so far, in the bucket of its hour, by its cause
    want = {}
    for a in why["attempts"]:
        h = iso(unix(a["time"]) - unix(a["time"]) % 3600)
        want[h] = want.get(h, 0) + 1
    got = {f["hour"]: f["causes"].get("bad-password", 0) for f in ov["failures"]}
    for h, n in want.items():
        assert got[h] == n, (h, n, got[h])
    assert sum(got.values()) == 3, got
    assert sum(f["causes"].get("unknown-user", 0) for f in ov["failures"]) == 1, ov["failures"]
    assert all(n > 0 for f in ov["failures"] for n in f["causes"].values())   # 0s left out
    locked = [e for e in ov["locked_accounts"] if e["key"] == user]
    assert len(locked) == 1 and ov["locked_accounts_total"] >= 1, ov["locked_accounts"]
    e = locked[0]
    assert e["locked_until"] == why["account"]["locked_until"], (e, why["account"])
    assert isinstance(e["seconds_left"], int) and 0 < e["seconds_left"] <= 60, e
    assert e["seconds_left"] == unix(e["locked_until"]) - now, e
    # the lock started the window over, as why says too
    assert e["failures_in_window"] == int(why["account"]["failures_in_window"]) == 0, e
    assert ov["locked_addresses"] == [] and ov["locked_addresses_total"] == 0, ov
    assert isinstance(ov["kept"], int) and ov["kept"] >= 4, ov["kept"]
    assert unix(ov["oldest"]) <= unix(why["attempts"][0]["time"]), ov["oldest"]
    assert "shared" not in ov


@suite.test
def overview_lists_a_stale_password_device():
    user, src, refs = "bob@example.test", "127.0.0.31", []
    for i in range(5):
        code, text = auth(user, "Old-Bob-Pass", src)
        assert code == 535, text
        refs.append(ref_of(text))
        if i == 1:
            time.sleep(10.5)        # a device retrying later, not PLAIN-then-LOGIN
    causes = [S["gate"].event(r)["cause"] for r in refs]
    assert causes == ["bad-password"] * 2 + ["stale-password"] * 3, causes
    ov = ask_json("overview\tjson\t-\n")
    rows = [r for r in ov["stale"] if r["user"] == user]
    assert len(rows) == 1, ov["stale"]
    row = rows[0]
    times = {a["ref"]: a["time"] for a in ask_json("why\tjson\t%s\n" % user)["attempts"]}
    assert row["ip"] == src and row["proto"] == "smtp" and row["count"] == 3, row
    assert row["ref"] == refs[-1] and row["last"] == times[refs[-1]], (row, refs)
    assert row["first"] == times[refs[2]], (row, times)
    assert sum(f["causes"].get("stale-password", 0) for f in ov["failures"]) == 3
    # five tries of one old password did not lock bob
    assert not [e for e in ov["locked_accounts"] if e["key"] == user], ov["locked_accounts"]


@suite.test
def why_lists_familiar_addresses_newest_first():
    user = "carol@example.test"
    for src in ("127.0.0.61", "127.0.0.62", "127.0.0.61"):
        code, text = auth(user, "Carol-Pass-1", src)
        assert code == 235, text
        time.sleep(1.1)             # one second apart: the order is the times'
    code, text = auth(user, "not-her-password", "127.0.0.63")
    assert code == 535, text
    why = ask_json("why\tjson\t%s\n" % user.upper())
    passes = [a for a in why["attempts"] if a["result"] == "pass"]
    last = {}
    for a in passes:
        last[a["ip"]] = max(last.get(a["ip"], ""), a["time"])
    assert why["familiar"] == [{"ip": "127.0.0.61", "last_ok": last["127.0.0.61"]},
                               {"ip": "127.0.0.62", "last_ok": last["127.0.0.62"]}], why["familiar"]
    assert "familiar" not in ask_json("why\tjson\t127.0.0.61\n")     # no account named
    # a ref names its account
    assert ask_json("why\tjson\t%s\n" % ref_of(text))["familiar"] == why["familiar"]
    assert ask_json("why\tjson\tdisabled@example.test\n")["familiar"] == []
    r = cli("why", user)
    assert r.returncode == 0 and "familiar: ip=127.0.0.61 last_ok=" in r.stdout, r.stdout


@suite.test
def lock_and_unlock_logged_as_event_admin_with_actor_and_peer_uid():
    target = "carol@example.test"
    r = cli("lock", target, "--for", "5m", uid=NOBODY, gid=S["gid"])
    assert r.returncode == 0, r.stderr
    r = cli("unlock", target)
    assert r.returncode == 0, r.stderr
    answer = ask("lock\tjson\t%s\tfor=60\tactor=web:Jane \"J\" Doe\n" % target)
    assert answer.startswith("OK\n"), answer
    answer = ask("unlock\tjson\t%s\n" % target)         # no actor said
    assert answer.startswith("OK\n"), answer
    ev = [e for e in admin_events() if e["target"] == target]
    assert len(ev) == 4, ev
    assert ev[0]["action"] == "lock" and ev[0]["actor"] == "cli:nobody", ev[0]
    assert ev[0]["peer_uid"] == str(NOBODY) and re.match(r"\d{4}-\d\d-\d\dT", ev[0]["until"]), ev[0]
    assert ev[1]["action"] == "unlock" and ev[1]["actor"] == "cli:root", ev[1]
    assert ev[1]["peer_uid"] == "0" and "until" not in ev[1], ev[1]
    assert ev[2]["actor"] == 'web:Jane "J" Doe', ev[2]
    assert 'actor="web:Jane \\"J\\" Doe"' in ev[2]["_line"], ev[2]["_line"]     # escaped
    assert ev[3]["actor"] == "cli" and ev[3]["peer_uid"] == "0", ev[3]
    # the warning it replaces is gone
    assert "by the admin" not in S["gate"].log_text()


@suite.test
def actor_with_a_bad_byte_or_too_long_is_refused():
    target = "alice@example.test"
    before = len(admin_events())
    for actor in ("web:ja\rne", "", "w" * 129):
        answer = ask("unlock\tjson\t%s\tactor=%s\n" % (target, actor))
        assert answer == "ERR actor: 1 to 128 bytes, no TAB, CR or LF\n", (actor, answer)
    answer = ask("lock\tjson\tbob@example.test\tactor=web:ja\tne\n")
    assert answer.startswith("ERR options:"), answer
    assert len(admin_events()) == before
    assert "control: unlock refused: actor=" in S["gate"].log_text()
    assert ask_json("why\tjson\t%s\n" % target)["account"]["locked"] == "yes"   # still locked
    assert ask_json("why\tjson\tbob@example.test\n")["account"]["locked"] == "no"
    answer = ask("unlock\tjson\t%s\tactor=%s\n" % (target, "w" * 128))       # the most
    assert answer.startswith("OK\n"), answer
    assert admin_events()[-1]["actor"] == "w" * 128


JUNK_BYTES = bytes(list(range(1, 9)) + [11, 12] + list(range(14, 32)) + [0x7f, 0xff])
CTL_ANSWER_MAX = 1 << 20


def ask_bytes(path, request):
    """One request of any bytes to a control socket: the whole answer, as bytes."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(path)
        s.sendall(request)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


@suite.test
def overview_of_many_long_junk_locks_stays_under_the_answer_cap():
    # 250 account names of 1003 bytes of control and stray bytes, each 6 bytes in JSON: their
    # rows alone would be 1.5 MB, more than an answer may be; a lab gate of its own, so the
    # totals are exact
    d = new_gate_dir()
    S.setdefault("extra_dirs", []).append(d)
    g = Gate(S["lab"], d).start()
    try:
        names = set()
        for i in range(250):
            name = b"%03d" % i + bytes(JUNK_BYTES[(i + k) % len(JUNK_BYTES)] for k in range(1000))
            a = ask_bytes(g.control, b"lock\tjson\t" + name + b"\tfor=600\tactor=t\n")
            assert a.startswith(b"OK\n"), a[:200]
            names.add(name)
        a = ask_bytes(g.control, b"lock\tjson\t192.0.2.7\tfor=600\n")
        assert a.startswith(b"OK\n"), a
        a = ask_bytes(g.control, b"overview\tjson\t-\n")
        assert a.startswith(b"OK\n{"), (len(a), a[:200])
        assert len(a) <= CTL_ANSWER_MAX // 2, len(a)        # well under the cap
        ov = json.loads(a[3:].decode("ascii"))
        assert ov["locked_accounts_total"] == 250, ov["locked_accounts_total"]
        shown = ov["locked_accounts"]
        assert 20 <= len(shown) < 250, len(shown)
        # every key shown whole (a lock or unlock target), none twice
        keys = [e["key"].encode("latin-1") for e in shown]
        assert all(k in names for k in keys) and len(set(keys)) == len(keys), \
            [k[:8] for k in keys if k not in names][:3]
        assert ov["truncated"] is True, ov["truncated"]
        # the other tables keep their own room
        assert [e["key"] for e in ov["locked_addresses"]] == ["192.0.2.7/32"], ov["locked_addresses"]
        assert ov["locked_addresses_total"] == 1 and ov["stale"] == [] and ov["stale_total"] == 0
        assert len(ov["failures"]) == 24 and ov["kept"] == 0, ov["kept"]
        # the text form too, saying how many are left out
        a = ask_bytes(g.control, b"overview\ttext\t-\n")
        assert a.startswith(b"OK\n") and len(a) <= CTL_ANSWER_MAX // 2, (len(a), a[:200])
        assert b"\nlocked_accounts: 250\n" in a, a[:300]
        more = re.search(rb"\n  \((\d+) more not shown\)\n", a)
        assert more and int(more.group(1)) + a.count(b"\n  key=") - 1 == 250, a[-300:]
        r = subprocess.run([os.path.join(gatelab.BUILD, "authguard"), "-s", g.control, "--json",
                            "overview"], capture_output=True, timeout=30)
        assert r.returncode == 0 and json.loads(r.stdout)["locked_accounts_total"] == 250, \
            (r.returncode, r.stderr)
        assert "answer too long" not in g.log_text()
        # unlock by a key as the overview shows it
        a = ask_bytes(g.control, b"unlock\tjson\t" + keys[0] + b"\n")
        assert a.startswith(b"OK\n"), a[:200]
        ov = json.loads(ask_bytes(g.control, b"overview\tjson\t-\n")[3:])
        assert ov["locked_accounts_total"] == 249, ov["locked_accounts_total"]
    finally:
        assert g.stop() == 0, g.log_text()[-2000:]


@suite.test
def cli_overview_text_and_json():
    r = cli("overview")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("now=") and "\nfailures per hour:\n" in r.stdout, r.stdout
    assert re.search(r"^  hour=\S+ .*bad-password=\d+", r.stdout, re.M), r.stdout
    assert re.search(r"^stale passwords: 1\n  user=bob@example.test ip=127.0.0.31 proto=smtp "
                     r"count=3 ", r.stdout, re.M), r.stdout
    r = cli("--json", "overview")
    assert r.returncode == 0 and json.loads(r.stdout)["hours"] == 24, r.stdout


if __name__ == "__main__":
    suite.run(setup, teardown)

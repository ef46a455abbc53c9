#!/usr/bin/env python3
"""One form for every client address, through real Postfix, Dovecot and authguard-policyd: an
IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address a.b.c.d in the limits, the
locks, the admin's commands, the policy service and the logs, and an address with a zone
(fe80::1%eth0) is tracked under its network without the zone.

Postfix keeps a mapped address when its smtpd speaks IPv6 only: XCLIENT ADDR=IPv6:::ffff:...
on a listener with inet_protocols = ipv6 (Postfix converts a mapped address to IPv4 only when
IPv4 is on).  This suite adds such a listener on [::1] next to the lab's IPv4 ones, and lets
both take XCLIENT from the test.  smtpd then logs the mapped form; Postfix 3.7 also sends it to
the gate (rip=) and the policy service (client_address=), while Postfix 3.10 sends the gate the
IPv4 form.  The policy service is also asked directly, with the mapped form, as smtpd asks."""

import os
import smtplib
import socket
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab, free_port  # noqa: E402
import gatelab  # noqa: E402
from gatelab import teardown_suite, Gate, GateClient, auth_line, b64, new_gate_dir, \
    ref_of  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("canon")
S = {}
USERS = {"alice@example.test": "correct horse", "bob@example.test": "abcdefghijklmnop"}


def setup():
    d = S["dir"] = new_gate_dir()
    S["policy"] = os.path.join(d, "policy")
    cf = {
        "inet_protocols": "all",
        "smtpd_authorized_xclient_hosts": "127.0.0.0/8, [::1]/128",
        "smtpd_relay_restrictions": "check_policy_service unix:%s, permit_sasl_authenticated, "
                                    "reject_unauth_destination" % S["policy"],
        "smtpd_policy_service_policy_context": "submission",
    }
    lab = S["lab"] = Lab(sasl_path=os.path.join(d, "auth"), extra_main_cf=cf)
    S["v6_port"] = free_port()
    with open(os.path.join(lab.postfix_dir, "master.cf"), "a") as f:
        f.write("[::1]:%d inet n - n - 1 smtpd\n"
                "  -o inet_protocols=ipv6 -o inet_interfaces=[::1]\n" % S["v6_port"])
    lab.start_dovecot()
    S["gate"] = Gate(lab, d, policy_listen="unix:" + S["policy"], ip_fail_limit="3/10m",
                     account_fail_limit="100/10m", guessing_threshold="255",
                     lockout_time="10m").start()
    lab.start_postfix()


def teardown():
    teardown_suite(S)


def session(addr):
    """An SMTP session through Postfix as client addr (XCLIENT), over STARTTLS.  An address
    with ':' goes through the IPv6-only listener, which keeps ::ffff: forms as they are."""
    ctx = ssl._create_unverified_context()
    if ":" in addr:
        s = smtplib.SMTP("::1", S["v6_port"], local_hostname="client.example.test", timeout=30)
        given = "IPv6:" + addr
    else:
        s = smtplib.SMTP("127.0.0.1", S["lab"].submission_port,
                         local_hostname="client.example.test", timeout=30)
        given = addr
    try:
        s.ehlo()
        s.starttls(context=ctx)
        s.ehlo()
        code, text = s.docmd("XCLIENT", "ADDR=" + given)
        assert code == 220, (addr, code, text)
        s.ehlo()
    except BaseException:
        s.close()
        raise
    return s


def auth(addr, user, password):
    s = session(addr)
    try:
        code, text = s.docmd("AUTH", "PLAIN " + b64("\0%s\0%s" % (user, password)))
        return code, text.decode()
    finally:
        s.close()


def cause_of(text):
    return S["gate"].event(ref_of(text))["cause"]


def cli(*args):
    r = subprocess.run([os.path.join(gatelab.BUILD, "authguard"), "-s", S["gate"].control]
                       + list(args), capture_output=True, text=True, timeout=10)
    return r.returncode, r.stdout, r.stderr


def address_locks():
    return [e for e in S["gate"].events("lock") if e.get("kind") == "address"]


@suite.test
def postfix_hands_on_the_mapped_form():
    """The premise: this smtpd passes ::ffff:a.b.c.d to the gate and the policy service."""
    code, text = auth("::ffff:192.0.2.70", "nobody@example.test", "x")
    assert code == 535, text
    # Postfix logs through postlogd, a moment after the reply.
    S["lab"].wait_log(S["lab"].maillog, "unknown[::ffff:192.0.2.70]")


@suite.test
def mapped_failures_lock_the_ipv4_address():
    """ip_fail_limit = 3: three failures from ::ffff:192.0.2.77 lock 192.0.2.77/32 (not ::/64):
    192.0.2.77 itself is refused, another mapped client is not."""
    for i in range(3):
        code, text = auth("::ffff:192.0.2.77", "user%d@example.test" % i, "wrong-%d" % i)
        assert code == 535, text
    locks = address_locks()
    assert [e["key"] for e in locks] == ["192.0.2.77/32"], [e["_line"] for e in locks]
    code, text = auth("192.0.2.77", "alice@example.test", USERS["alice@example.test"])
    assert code == 535 and cause_of(text) == "ip-blocked" and "this address" in text, text
    code, text = auth("::FFFF:192.0.2.77", "alice@example.test", USERS["alice@example.test"])
    assert code == 535 and cause_of(text) == "ip-blocked", text
    code, text = auth("::ffff:203.0.113.9", "alice@example.test", USERS["alice@example.test"])
    assert code == 235, text
    rc, out, err = cli("why", "192.0.2.77")
    assert rc == 0 and "address: key=192.0.2.77/32 locked=yes" in out, (out, err)


@suite.test
def gate_logs_and_lists_the_ipv4_form():
    """The gate's lines, top and why name 192.0.2.77, never ::ffff:192.0.2.77 (the gate reads
    smtpd's rip= in its canonical form)."""
    evs = [e for e in S["gate"].events() if e.get("ip") in ("192.0.2.77", "::ffff:192.0.2.77")]
    assert evs and all(e["ip"] == "192.0.2.77" for e in evs), [e["_line"] for e in evs]
    rc, out, err = cli("top", "--by", "address")
    assert rc == 0 and "address=192.0.2.77 " in out and "::ffff:" not in out, (out, err)
    rc, out, err = cli("why", "192.0.2.77")
    assert rc == 0 and "ip=192.0.2.77" in out and "::ffff:" not in out, (out, err)
    rc, out, err = cli("why", "::ffff:192.0.2.77")
    assert rc == 0 and "address: key=192.0.2.77/32 locked=yes" in out and \
        "ip=192.0.2.77" in out and "::ffff:" not in out, (out, err)


@suite.test
def policy_service_ties_the_session_under_the_ipv4_form():
    """AUTH fails, then RCPT in the same session: auth-failed-then-sent, the policy line and
    the history name 192.0.2.78."""
    s = session("::ffff:192.0.2.78")
    try:
        code, msg = s.docmd("AUTH", "PLAIN " + b64("\0alice@example.test\0not-her-password"))
        assert code == 535, msg
        auth_ref = ref_of(msg.decode())
        s.mail("alice@example.test")
        code, msg = s.rcpt("someone@example.net")
    finally:
        s.close()
    text = msg.decode()
    assert code == 530 and "authentication failed earlier" in text, text
    ev = [e for e in S["gate"].events("policy") if e.get("ref") == ref_of(text)]
    assert len(ev) == 1 and ev[0]["client_address"] == "192.0.2.78", ev
    assert ev[0]["cause"] == "auth-failed-then-sent" and ev[0]["auth_ref"] == auth_ref, ev
    rc, out, err = cli("why", ref_of(text))
    assert rc == 0 and "ip=192.0.2.78" in out and "::ffff:" not in out, (out, err)


def recv_reply(c):
    buf = b""
    while not buf.endswith(b"\n\n"):
        chunk = c.recv(4096)
        assert chunk, "policy service closed the connection"
        buf += chunk
    return buf.decode()


@suite.test
def policy_request_with_a_mapped_address():
    """A request as smtpd sends it, client_address=::FFFF:192.0.2.79: refused, and the policy
    line and its history record say 192.0.2.79."""
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(5)
    c.connect(S["policy"])
    try:
        c.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\n"
                  b"policy_context=submission\nclient_address=::FFFF:192.0.2.79\n"
                  b"client_port=40100\nencryption_protocol=TLSv1.3\n\n")
        reply = recv_reply(c)
    finally:
        c.close()
    assert reply.startswith("action=530 5.7.0 "), reply
    ev = [e for e in S["gate"].events("policy") if e.get("ref") == ref_of(reply)]
    assert len(ev) == 1 and ev[0]["client_address"] == "192.0.2.79", ev
    rc, out, err = cli("why", ref_of(reply))
    assert rc == 0 and "ip=192.0.2.79" in out and "::ffff:" not in out.lower(), (out, err)


@suite.test
def cli_lock_of_a_mapped_address_locks_the_ipv4():
    """authguard lock ::ffff:192.0.2.80 locks 192.0.2.80/32: 192.0.2.80 is refused, another
    mapped client is served; why and unlock take any spelling of it."""
    rc, out, err = cli("lock", "::ffff:192.0.2.80", "--for", "1h")
    assert rc == 0 and "locked=192.0.2.80/32" in out, (rc, out, err)
    code, text = auth("192.0.2.80", "bob@example.test", USERS["bob@example.test"])
    assert code == 535 and cause_of(text) == "ip-blocked", text
    code, text = auth("::ffff:203.0.113.10", "bob@example.test", USERS["bob@example.test"])
    assert code == 235, text
    rc, out, err = cli("why", "::ffff:192.0.2.80")
    assert rc == 0 and "address: key=192.0.2.80/32 locked=yes" in out, (out, err)
    rc, out, err = cli("unlock", "::FFFF:C000:250")
    assert rc == 0 and "unlocked 192.0.2.80/32" in out, (rc, out, err)
    code, text = auth("192.0.2.80", "bob@example.test", USERS["bob@example.test"])
    assert code == 235, text


def gate_auth(c, id_, user, password, rip):
    c.send(auth_line(id_, "PLAIN", resp=b64("\0%s\0%s" % (user, password)), rip=rip))
    line = c.read_until(lambda l: l.split(b"\t")[:2] in ([b"OK", b"%d" % id_],
                                                         [b"FAIL", b"%d" % id_]))[-1]
    return line.decode()


@suite.test
def zoned_client_is_tracked_without_its_zone():
    """rip=fe80::1%eth0 as smtpd passes a link-local client: counted under fe80::/64 (it had no
    key, so no limit applied), and locked there after ip_fail_limit failures."""
    c = GateClient(S["gate"].socket)
    try:
        for i in range(3):
            line = gate_auth(c, i + 1, "zone%d@example.test" % i, "wrong", "fe80::1%eth0")
            assert line.startswith("FAIL\t"), line
        line = gate_auth(c, 9, "alice@example.test", USERS["alice@example.test"],
                         "fe80::2%eth1")
    finally:
        c.close()
    assert line.startswith("FAIL\t"), line
    assert cause_of(line) == "ip-blocked", line
    assert "fe80::/64" in [e["key"] for e in address_locks()], address_locks()



@suite.test
def cli_takes_a_zoned_address():
    """why, lock and unlock read fe80::1%eth0 as an address (its network, fe80::/64), not as
    an account name."""
    rc, out, err = cli("why", "fe80::1%eth0")
    assert rc == 0 and "address: key=fe80::/64 locked=yes" in out, (out, err)
    rc, out, err = cli("unlock", "fe80::1%eth0")
    assert rc == 0 and "unlocked fe80::/64" in out, (rc, out, err)
    c = GateClient(S["gate"].socket)
    try:
        line = gate_auth(c, 1, "alice@example.test", USERS["alice@example.test"],
                         "fe80::3%eth0")
    finally:
        c.close()
    assert line.startswith("OK\t"), line


if __name__ == "__main__":
    suite.run(setup, teardown)

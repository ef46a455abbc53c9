#!/usr/bin/env python3
"""Owner notices, end to end: authguard-policyd submits them with Postfix's own sendmail to the
lab's Postfix, which delivers them to a Maildir (Lab(mailboxes=True)); each test reads what was
delivered.  No stand-in sendmail, no stand-in SMTP server.

Three gates share one lab (one Postfix, one Dovecot), each with its own state and log:

* "main" is Postfix's SASL path: logins through smtpd (door SMTP), notices on, a short
  notify_stale_after, a contact map and an accounts map, its metrics listener;
* "cap" is asked directly on its socket, as smtpd does: account_fail_limit 1, only lock
  notices, notify_max_per_hour 5, for 1,000 locked accounts;
* "quiet" has notify = no and sees the same kinds of events; then a reload turns notices on.

A stale password is a wrong password repeated at least 10 s (LIMITS_STALE_GAP) after its first
try: setup() makes those first tries, so that the other tests run while the time passes.
Each kind's delivered message is written, as its owner sees it, to $AUTHGUARD_BUILD/notices/.
"""

import email
import email.policy
import email.utils
import json
import os
import re
import signal
import smtplib
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gatelab  # noqa: E402
from gatelab import (Gate, GateClient, auth_line, b64, new_gate_dir, ref_of,  # noqa: E402
                     teardown_suite)
from lab import Lab, free_port, plain_response  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("notices")
S = {}
TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
CLI = os.path.join(gatelab.BUILD, "authguard")

STALE_GAP = 10          # lib/authlimits.h LIMITS_STALE_GAP: a repeat this old is stale
STALE_AFTER = 2         # notify_stale_after of the main and quiet gates
FROM = "postmaster@lab.example.test"
SERVER = "mail.example.test"                  # notify_hostname
KINDS = ("stale-password", "app-password-required", "lock", "password-guessing")

# main gate's accounts (each logs in from its own 127.0.0.N: no address sees many accounts)
STALE = "stale1@example.test"                 # own address
STALE_LOGIN = "stale2"                        # not an address: notify_contact_map
STALE_CONTACT = "owner-of-stale2@example.test"
APPPW = "apppw@example.test"                  # accounts_map: app-password-required
APP_PASSWORD = "qrstuvwxyzabcdef"             # Dovecot has an app password; the client sends
ACCOUNT_PASSWORD = "Account-Pass-1"           # the account's usual one: app-password-required
GUESS = "guess@example.test"
HOSTILE_MAPPED = 'mallory<evil@example.test>,"victim"@example.test\u202e'
HOSTILE_CONTACT = "owner-h@example.test"
HOSTILE = [
    "evil@example.test, victim@example.test",
    "evil@example.test,victim@example.test",
    "<evil@example.test>",
    '"evil"@example.test',
    "victim@example.test>\r\nBcc: evil@example.test",
    "victim@example.test\nBcc: evil@example.test",
    "victim@example.test\tevil@example.test",
    "\u202eevil@example.test",
    "evil@example.test\u202e",
    "vic\u0000tim@example.test",
    "x" * 242 + "@example.test",              # 255 bytes: longer than an address may be
    "x" * 300 + "@example.test",              # longer than the watch keeps: never due
    "evil@example.test (victim@example.test)",
]
# (guess from 127.0.0.1, which /etc/hosts names: its notice shows the reverse name)
IP = {STALE: "127.0.0.11", STALE_LOGIN: "127.0.0.12", APPPW: "127.0.0.13", GUESS: "127.0.0.1"}
# quiet gate's accounts
Q_STALE, Q_LOCK, Q_GUESS, Q_APP = ("quiet-stale@example.test", "quiet-lock@example.test",
                                   "quiet-guess@example.test", "quiet-app@example.test")
Q_RELOAD = "quiet-reload@example.test"
PASSWORDS_TRIED = ("Old-Pass-1", "guess-0", "guess-1", "guess-2", "guess-9", ACCOUNT_PASSWORD,
                   "Old-Q-1", "wrong-17")
N_LOCKED, CAP = 1000, 5
LOCKED = ["u%04d@example.test" % i for i in range(N_LOCKED)]

POSTFIX_HEADERS = {"return-path", "x-original-to", "delivered-to", "received"}
NOTICE_HEADERS = {"from", "to", "subject", "date", "message-id", "auto-submitted",
                  "x-auto-response-suppress", "mime-version", "content-type",
                  "content-transfer-encoding"}


def notify_conf(lab, gdir, **kv):
    conf = {
        "notify": "yes",
        "notify_stale_after": "%ds" % STALE_AFTER,
        "notify_repeat": "3",
        "notify_interval": "1d",
        "notify_sendmail": " ".join(lab.sendmail_argv("-t", "-oi")),
        "notify_from": FROM,
        "notify_hostname": SERVER,
        # An empty directory: every kind uses its built-in text (whatever /etc holds).
        "notify_templates": os.path.join(gdir, "templates"),
        "account_fail_limit": "255/1m",
        "ip_fail_limit": "255/1m",
        "guessing_threshold": "3",
    }
    os.makedirs(conf["notify_templates"])
    conf.update(kv)
    return conf


def postmap(lab, source, lines):
    """(key, value) lines built into source.cdb by postmap, as an admin does."""
    with open(source, "w", encoding="utf-8") as f:
        f.write("".join("%s %s\n" % kv for kv in lines))
    subprocess.run(["postmap", "-c", lab.postfix_dir, "cdb:" + source], check=True)
    return source + ".cdb"


def setup():
    out = os.path.join(gatelab.BUILD, "notices")
    for kind in KINDS:                  # what an earlier run wrote must not pass for this one
        if os.path.exists(os.path.join(out, kind + ".eml")):
            os.unlink(os.path.join(out, kind + ".eml"))
    d = S["dir"] = new_gate_dir()
    users = {STALE: "Stale-Pass-1", STALE_LOGIN: "Stale-Pass-2", APPPW: APP_PASSWORD,
             GUESS: "Guess-Pass-1", Q_STALE: "Q-Pass-1", Q_LOCK: "Q-Pass-2",
             Q_GUESS: "Q-Pass-3", Q_APP: APP_PASSWORD, Q_RELOAD: "Q-Pass-5"}
    users.update((u, "Locked-Pass-%d" % i) for i, u in enumerate(LOCKED))
    lab = S["lab"] = Lab(sasl_path=os.path.join(d, "main", "auth"), mailboxes=True,
                         extra_users=users, maxproc=4)
    lab.start_dovecot()
    gates = {}
    for name in ("main", "cap", "quiet"):
        os.makedirs(os.path.join(d, name))
    gm = os.path.join(d, "main")
    contacts = postmap(lab, os.path.join(gm, "contacts"),
                       [(STALE_LOGIN, STALE_CONTACT), (HOSTILE_MAPPED.lower(), HOSTILE_CONTACT)])
    accounts = postmap(lab, os.path.join(gm, "accounts"),
                       [(APPPW, "app-password-required"), (Q_APP, "app-password-required")])
    S["metrics"] = {n: free_port() for n in ("main", "cap")}
    gates["main"] = Gate(lab, gm, **notify_conf(
        lab, gm, notify_contact_map=contacts, accounts_map=accounts,
        metrics_listen="inet:127.0.0.1:%d" % S["metrics"]["main"]))
    gc = os.path.join(d, "cap")
    gates["cap"] = Gate(lab, gc, **notify_conf(
        lab, gc, notify_events="lock", notify_max_per_hour=str(CAP),
        account_fail_limit="1/10m", metrics_listen="inet:127.0.0.1:%d" % S["metrics"]["cap"]))
    gq = os.path.join(d, "quiet")
    gates["quiet"] = Gate(lab, gq, **notify_conf(
        lab, gq, notify="no", accounts_map=accounts, account_fail_limit="6/1m"))
    S["gates"] = gates
    S["gate"] = gates["main"]           # teardown_suite stops it; the others: teardown()
    for g in gates.values():
        g.start()
    S["children"] = ChildWatch(gates["quiet"].proc.pid)
    lab.start_postfix()
    S["quiet"] = GateClient(gates["quiet"].socket)
    S["qid"] = 0
    # Each owner logged in before, from an address of their own: mail goes only to an account
    # shown to exist (stale2's and the hostile name's contacts need none).
    c = GateClient(gates["main"].socket)
    for i, (user, pw) in enumerate(((STALE, "Stale-Pass-1"), (GUESS, "Guess-Pass-1"))):
        assert gate_auth(c, i + 1, user, pw, "10.8.0.%d" % (i + 1)).startswith(b"OK\t"), user
    c.close()
    assert quiet_auth(Q_RELOAD, "Q-Pass-5", "10.8.0.9").startswith(b"OK\t")
    lock_accounts(gates["cap"].socket, range(N_LOCKED), right=True)
    # The first tries of the stale passwords: stale from STALE_GAP seconds on.
    S["stale_t0"] = time.time()
    for user in (STALE, STALE_LOGIN):
        code, text = smtp_auth(user, "Old-Pass-1", IP[user])
        assert code == 535, (user, code, text)
    assert quiet_auth(Q_STALE, "Old-Q-1", "10.4.0.1").startswith(b"FAIL")


def teardown():
    """Everything stops even when a step fails; then the problems are raised."""
    errors = []
    if S.get("children"):
        S["children"].stop()
    if S.get("quiet"):
        S["quiet"].close()
    for name in ("cap", "quiet"):
        g = S.get("gates", {}).get(name)
        rc = g.stop() if g else None
        if rc not in (0, None):
            errors.append("%s gate exited %s:\n%s" % (name, rc, g.log_text()[-3000:]))
    teardown_suite(S)
    assert not errors, "\n".join(errors)


# --- helpers ----------------------------------------------------------------------------------

class ChildWatch:
    """Records the names of the children a process ever has (sampled every few ms)."""

    def __init__(self, pid):
        self.pid, self.seen, self.done = pid, set(), False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        path = "/proc/%d/task/%d/children" % (self.pid, self.pid)
        while not self.done:
            try:
                with open(path) as f:
                    kids = f.read().split()
            except OSError:
                kids = []
            for k in kids:
                try:
                    with open("/proc/%s/comm" % k) as f:
                        self.seen.add(f.read().strip())
                except OSError:
                    pass
            time.sleep(0.003)

    def stop(self):
        self.done = True
        self.t.join(2)


def smtp_auth(user, password, source):
    """One AUTH PLAIN through Postfix's smtpd from source (127.0.0.N); (code, text)."""
    s = S["lab"].smtp_connect(source_address=source, starttls=True, timeout=15)
    try:
        code, text = s.docmd("AUTH", "PLAIN " + plain_response(user, password))
        return code, text.decode("utf-8", "replace")
    finally:
        try:
            s.quit()
        except (smtplib.SMTPException, OSError):
            s.close()


def gate_auth(client, id_, user, password, rip):
    """One AUTH PLAIN straight to a gate (as smtpd does); the reply line."""
    resp = b64(b"\0" + user.encode("utf-8") + b"\0" + password.encode("utf-8"))
    client.send(auth_line(id_, "PLAIN", resp=resp, rip=rip))
    return client.line()


def quiet_auth(user, password, rip):
    S["qid"] += 1
    return gate_auth(S["quiet"], S["qid"], user, password, rip)


def notices(g, **match):
    """The gate's event=notice lines (parsed) whose fields equal match."""
    return [e for e in g.events("notice") if all(e.get(k) == v for k, v in match.items())]


def wait_for(pred, timeout, what, interval=0.05):
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError("timed out (%ss) waiting for %s" % (timeout, what))
        time.sleep(interval)


def settle(pred_stays, seconds, what):
    """pred_stays() must stay true for `seconds` (checked as it goes)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        assert pred_stays(), what
        time.sleep(0.1)
    assert pred_stays(), what


def delivered(address, n=1, timeout=20):
    """Wait until at least n messages reached address; return them (bytes)."""
    lab = S["lab"]
    wait_for(lambda: len(lab.mailbox(address)) >= n, timeout,
             "%d message(s) to %s; maillog tail:\n%s" % (n, address, lab.maillog_text()[-2000:]))
    return lab.mailbox(address)


def parsed(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


TIME_RE = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"
ANY_COUNT = r"[1-9]\d*"          # a number of attempts the test cannot know, but seen: >= 1
PATTERNS = {"first": TIME_RE, "last": TIME_RE, "until": TIME_RE, "server": re.escape(SERVER),
            "count": ANY_COUNT, "rname": r"[^\s()]+(?: reverse name)?"}


def template(kind):
    """(subject, body) of a kind's shipped text, which is its built-in default too
    (conf-examples/notices/KIND.txt)."""
    with open(os.path.join(TOP, "conf-examples", "notices", kind + ".txt"), encoding="utf-8") as f:
        text = f.read()
    head, _, body = text.partition("\n\n")
    subject = [h for h in head.splitlines() if h.lower().startswith("subject:")]
    assert len(subject) == 1, head
    return subject[0].split(":", 1)[1].strip(), body


def template_re(text, values):
    """A regex for text (white space collapsed) with each ${name} as values[name] (exactly) or
    as PATTERNS[name] (or anything, lazily); $$ is a dollar."""
    out, pos = [], 0
    text = " ".join(text.split())
    for m in re.finditer(r"\$\$|\$\{([a-z]+)\}", text):
        out.append(re.escape(text[pos:m.start()]))
        name = m.group(1)
        if name is None:
            out.append(re.escape("$"))
        elif values.get(name) is not None:
            out.append(re.escape(" ".join(str(values[name]).split())))
        else:
            out.append("(?:%s)" % PATTERNS.get(name, ".*?"))
        pos = m.end()
    out.append(re.escape(text[pos:]))
    return re.compile("^" + "".join(out) + "$", re.S)


def raw_headers(raw):
    """{name (lower case): [value as sent, unfolded]} of a message's header section."""
    out = {}
    head = raw.split(b"\n\n", 1)[0].decode("utf-8", "replace")
    for field in re.split(r"\n(?![ \t])", head):
        name, _, value = field.partition(":")
        out.setdefault(name.lower(), []).append(re.sub(r"\n[ \t]+", " ", value).strip())
    return out


def check_notice(raw, kind, to, account=None, ip=None, ref=None, door=None, count=None):
    """The delivered message (bytes) is the notice the contract describes, its body the kind's
    text with these facts; returns the decoded body."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    sent_as = raw_headers(raw)
    assert sent_as.get("content-type") == ["text/plain; charset=UTF-8"], sent_as
    assert sent_as.get("content-transfer-encoding") == ["quoted-printable"], sent_as
    assert sent_as.get("mime-version") == ["1.0"], sent_as
    assert sent_as.get("auto-submitted") == ["auto-generated"], sent_as
    for name, values in sent_as.items():
        assert all(ord(ch) < 128 for v in values for ch in v), (name, values)
    names = [k.lower() for k in msg.keys()]
    assert sorted(names) == sorted(POSTFIX_HEADERS | NOTICE_HEADERS), \
        "headers: %r" % msg.keys()
    assert msg["Delivered-To"] == to and msg["To"] == to, (msg["Delivered-To"], msg["To"])
    assert msg["From"] == FROM and msg["Return-Path"] == "<%s>" % FROM, (msg["From"],
                                                                         msg["Return-Path"])
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg["MIME-Version"] == "1.0"
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "utf-8", msg["Content-Type"]
    assert msg["Content-Transfer-Encoding"].lower() == "quoted-printable"
    assert re.match(r"^<[^<>@\s]+@%s>$" % re.escape(SERVER), msg["Message-ID"]), msg["Message-ID"]
    sent = email.utils.parsedate_to_datetime(msg["Date"]).timestamp()
    assert abs(sent - time.time()) < 300, msg["Date"]
    body = msg.get_content()
    flat = " ".join(body.split())
    subject, text = template(kind)
    values = {"account": account, "to": to, "from": FROM, "ip": ip, "ref": ref, "door": door,
              "kind": kind, "count": count}
    assert template_re(subject, values).match(str(msg["Subject"])), msg["Subject"]
    if not template_re(text, values).match(flat):
        loose = dict(values, count=None)
        PATTERNS["count"] = r"\d+"
        try:
            only_count = template_re(text, loose).match(flat)
        finally:
            PATTERNS["count"] = ANY_COUNT
        raise AssertionError("the body is not the %s text with %r%s:\n%s" % (
            kind, values, " (the count shown is wrong: want %s)" % (count or ">= 1")
            if only_count else "", body))
    times = re.findall(TIME_RE, body)
    assert times == sorted(times), "first, last (, until) out of order:\n" + body
    return body


def owner_view(msg_bytes):
    """The message as its owner reads it: the headers, a blank line, the decoded body."""
    msg = email.message_from_bytes(msg_bytes, policy=email.policy.default)
    head = msg_bytes.split(b"\n\n", 1)[0].decode("utf-8", "replace")
    return head + "\n\n" + msg.get_content()


def save_eml(kind, msg_bytes):
    out = os.path.join(gatelab.BUILD, "notices")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, kind + ".eml"), "w", encoding="utf-8") as f:
        f.write(owner_view(msg_bytes))


def one_line(lines, what):
    assert len(lines) == 1, "%s: %d lines:\n%s" % (what, len(lines),
                                                   "\n".join(e["_line"] for e in lines))
    return lines[0]


def maillog_message_id(mid):
    """Postfix's cleanup logged this Message-ID once (the notice went through this Postfix)."""
    text = S["lab"].maillog_text()
    n = len(re.findall(r"cleanup\[\d+\]: [0-9A-F]+: message-id=%s" % re.escape(mid), text))
    assert n == 1, "message-id %s in the maillog %d times" % (mid, n)


def stale_episode(user, t_end_after_first):
    """Repeat the stale password from user's address, one try after the other (each about
    0.5 s: well inside notify_stale_after), until t_end_after_first seconds after the first
    stale-password one; the refs of the stale-password ones."""
    g = S["gates"]["main"]
    refs, first = [], None
    while first is None or time.time() - first < t_end_after_first:
        code, text = smtp_auth(user, "Old-Pass-1", IP[user])
        assert code == 535, (code, text)
        ref = ref_of(text)
        assert ref, text
        cause = g.event(ref).get("cause")
        if cause == "stale-password":
            refs.append(ref)
            first = first or time.time()
    return refs


def lock_accounts(sock, indexes, conns=8, batch=25, right=False):
    """One wrong password for each LOCKED[i] from an address of its own (10.3.x.y), over
    `conns` connections to the gate at once, `batch` requests in flight on each. right: the
    right one instead, from another address (10.5.x.y), as the owner logs in before."""
    errors = []
    net, want = ("10.5", b"OK\t") if right else ("10.3", b"FAIL\t")

    def run(part):
        try:
            c = GateClient(sock)
            for start in range(0, len(part), batch):
                chunk = part[start:start + batch]
                for n, i in enumerate(chunk):
                    rip = "%s.%d.%d" % (net, i // 250, i % 250 + 1)
                    pw = b"Locked-Pass-%d" % i if right else b"wrong-%d" % i
                    c.send(auth_line(start + n + 1, "PLAIN", rip=rip, resp=b64(
                        b"\0%s\0%s" % (LOCKED[i].encode(), pw))))
                for _ in chunk:
                    line = c.line()
                    if not line.startswith(want):
                        errors.append(line)
            c.close()
        except Exception as e:  # reported below
            errors.append(repr(e))
    indexes = list(indexes)
    threads = [threading.Thread(target=run, args=(indexes[k::conns],)) for k in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:5]


# --- the tests --------------------------------------------------------------------------------

@suite.test
def lock_notices_capped_per_hour():
    """1,000 accounts locked from unfamiliar addresses with notify_max_per_hour = 5: 5 notices
    delivered, one to each of 5 locked accounts; 995 logged result=limited; metrics agree."""
    g = S["gates"]["cap"]
    lab = S["lab"]
    t0 = time.time()
    lock_accounts(g.socket, range(N_LOCKED))
    locks = wait_for(lambda: len(g.events("lock")) >= N_LOCKED and g.events("lock"), 20,
                     "1,000 event=lock lines")
    assert len(locks) == N_LOCKED and all(e["kind"] == "account" for e in locks)
    print("# 1,000 accounts locked in %.1f s" % (time.time() - t0))
    wait_for(lambda: len(notices(g, kind="lock", result="limited")) >= N_LOCKED - CAP, 20,
             "995 limited lock notices")
    msgs = wait_for(lambda: len([1 for to, _ in lab.mailbox_all() if to in LOCKED]) >= CAP
                    and [(to, m) for to, m in lab.mailbox_all() if to in LOCKED], 30,
                    "5 lock notices delivered")
    settle(lambda: len([1 for to, _ in lab.mailbox_all() if to in LOCKED]) == CAP, 2,
           "more than 5 lock notices delivered")
    sent = notices(g, kind="lock", result="sent")
    limited = notices(g, kind="lock", result="limited")
    every = notices(g)
    assert len(sent) == CAP and len(limited) == N_LOCKED - CAP, (len(sent), len(limited))
    assert {e.get("reason") for e in limited} == {"notify_max_per_hour"}, limited[0]["_line"]
    assert len(every) == N_LOCKED, "notice lines: %d" % len(every)
    assert sorted(e["user"] for e in every) == sorted(LOCKED), "one line per locked account"
    msgs = [(to, m) for to, m in lab.mailbox_all() if to in LOCKED]
    assert sorted(to for to, _ in msgs) == sorted(e["to"] for e in sent)
    assert len({to for to, _ in msgs}) == CAP
    save_eml("lock", msgs[0][1])
    m = metrics("cap")
    assert m.get(("lock", "sent")) == CAP and m.get(("lock", "limited")) == N_LOCKED - CAP, m
    print("# lock notices: %d sent, %d limited, in %.1f s" % (len(sent), len(limited),
                                                             time.time() - t0))
    for to, raw in msgs:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        ev = one_line([e for e in sent if e["to"] == to], "sent line for " + to)
        assert msg["Message-ID"] == ev["message_id"], (msg["Message-ID"], ev["_line"])
        maillog_message_id(ev["message_id"])
        # Last: the whole text (the failures that locked it: at least one, never "0").
        check_notice(raw, "lock", to, account=to, ip=ev["ip"], ref=ev["ref"], door="SMTP")


@suite.test
def guessing_notice_once():
    """Three different wrong passwords for one account: password-guessing, one notice, to the
    account's address, with the attempt's ref; five more guesses add no notice and no line."""
    g = S["gates"]["main"]
    refs = []
    for i in range(3):
        code, text = smtp_auth(GUESS, "guess-%d" % i, IP[GUESS])
        assert code == 535, (code, text)
        refs.append(ref_of(text))
    assert g.event(refs[-1]).get("cause") == "password-guessing", g.event(refs[-1])
    msg = delivered(GUESS)[0]
    ev = one_line(notices(g, kind="password-guessing", user=GUESS), "guessing notice")
    assert ev["result"] == "sent" and ev["to"] == GUESS and ev["ref"] == refs[-1], ev["_line"]
    check_notice(msg, "password-guessing", GUESS, account=GUESS, ip=IP[GUESS], ref=refs[-1],
                 door="SMTP")
    # The reverse name, kept only when it leads back to the address (as getent finds both).
    name = (subprocess.run(["getent", "hosts", IP[GUESS]], capture_output=True,
                           text=True).stdout.split() + ["", ""])[1]
    back = name and any(l.split()[:1] == [IP[GUESS]] for l in subprocess.run(
        ["getent", "ahosts", name], capture_output=True, text=True).stdout.splitlines())
    body = parsed(msg).get_content()
    want = "%s (%s)" % (IP[GUESS], name if back else "no reverse name")
    assert want in body, (want, body)
    print("# the guessing notice says: Address: %s" % want)
    # The rest of the brute force is the same episode: not due again, so no second notice
    # and no second notice line (a line per guess would flood the log and the journal).
    for i in range(5):
        code, text = smtp_auth(GUESS, "guess-9%d" % i, IP[GUESS])
        assert code == 535 and g.event(ref_of(text)).get("cause") == "password-guessing", text
    settle(lambda: len(S["lab"].mailbox(GUESS)) == 1 and
           len(notices(g, kind="password-guessing", user=GUESS)) == 1, 1.5,
           "a second guessing notice, or a second notice line")
    save_eml("password-guessing", S["lab"].mailbox(GUESS)[0])


@suite.test
def app_password_notice_after_repeat():
    """An app-password-required account's usual password, three times (notify_repeat 3), where
    Dovecot holds an app password: one notice, at the third."""
    g = S["gates"]["main"]
    refs = []
    for i in range(3):
        code, text = smtp_auth(APPPW, ACCOUNT_PASSWORD, IP[APPPW])
        assert code == 535, (code, text)
        refs.append(ref_of(text))
        assert g.event(refs[-1]).get("cause") == "app-password-required", g.event(refs[-1])
        if i < 2:
            time.sleep(0.2)
            assert not notices(g, kind="app-password-required"), "due before the 3rd"
    msg = delivered(APPPW)[0]
    ev = one_line(notices(g, kind="app-password-required", user=APPPW), "app-password notice")
    assert ev["result"] == "sent" and ev["ref"] == refs[-1], ev["_line"]
    check_notice(msg, "app-password-required", APPPW, account=APPPW, ip=IP[APPPW],
                 ref=refs[-1], door="SMTP", count=3)
    settle(lambda: len(S["lab"].mailbox(APPPW)) == 1, 1, "a second app-password notice")
    save_eml("app-password-required", S["lab"].mailbox(APPPW)[0])


@suite.test
def hostile_names_add_no_header_or_recipient():
    """User names that look like several addresses, angle brackets, quotes, CR LF, tabs, bidi
    controls, a NUL, a very long one: none reaches evil@ or victim@; those that are not an
    address are skipped; a contact-mapped hostile name is delivered to its contact only, with
    exactly the notice's headers."""
    g = S["gates"]["main"]
    lab = S["lab"]
    names = HOSTILE + [HOSTILE_MAPPED]
    c = GateClient(g.socket)
    sent = {}
    for n, name in enumerate(names):            # all at once: three guesses for each name
        for i in range(3):
            id_ = 3 * n + i + 1
            sent[id_] = name
            resp = b64(b"\0" + name.encode("utf-8") + b"\0" + b"guess-%d" % i)
            c.send(auth_line(id_, "PLAIN", resp=resp, rip="10.5.0.%d" % (n + 1)))
    refs = {}
    for _ in sent:
        line = c.line().decode("utf-8", "replace")
        fields = line.split("\t")
        assert fields[0] == "FAIL" and int(fields[1]) in sent, line
        m = re.search(r"ref=([0-9A-Z]+)", line)
        refs.setdefault(sent[int(fields[1])], []).append(m.group(1) if m else None)
    c.close()
    causes = {e["ref"]: e.get("cause") for e in g.events()}
    accepted = [n for n in names if "password-guessing" in [causes.get(r) for r in refs[n]]]
    refused = [(n[:40], [causes.get(r) for r in refs[n]]) for n in names if n not in accepted]
    print("# names taken as accounts (password-guessing): %d of %d; the others: %r"
          % (len(accepted), len(names), refused))
    assert HOSTILE_MAPPED in accepted and len(accepted) >= len(names) - 1, refused
    raw = delivered(HOSTILE_CONTACT)[0]
    body = check_notice(raw, "password-guessing", HOSTILE_CONTACT,
                        ip="10.5.0.%d" % len(names))
    # The name is told in the body, as text, its bidi override replaced.
    assert HOSTILE_MAPPED.rstrip("\u202e") in body and "\u202e" not in body, body
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]", body), body
    # One line for each name the watch can hold (lib/noticewatch: longer ones are never due).
    told = [n for n in accepted if len(n.encode("utf-8")) <= 255]
    try:
        ev = wait_for(lambda: len([e for e in notices(g, kind="password-guessing")
                                   if e["user"] != GUESS]) >= len(told)
                      and notices(g, kind="password-guessing"), 10,
                      "a notice line for each hostile name")
    except AssertionError as e:
        raise AssertionError("%s:\n%s" % (e, "\n".join(x["_line"] for x in notices(g))))
    settle(lambda: True, 1, "")
    hostile_lines = [e for e in notices(g, kind="password-guessing") if e["user"] != GUESS]
    ips = ["10.5.0.%d" % (names.index(n) + 1) for n in told]    # each name its own address
    assert sorted(e["ip"] for e in hostile_lines) == sorted(ips), \
        [e["_line"] for e in hostile_lines]
    for e in hostile_lines:
        if e["to"] == HOSTILE_CONTACT:
            assert e["result"] == "sent", e["_line"]
        else:
            assert e["result"] == "skipped" and not e.get("to"), e["_line"]
    settle(lambda: True, 1.5, "")
    tos = lab.mailbox_addresses()
    assert not [t for t in tos if "evil" in t or "victim" in t], tos
    assert tos.count(HOSTILE_CONTACT) == 1, tos
    text = lab.maillog_text()
    assert "evil@" not in text and "victim@" not in text, \
        [l for l in text.splitlines() if "evil@" in l or "victim@" in l]


@suite.test
def stale_password_one_notice():
    """A wrong password repeated from one address for longer than notify_stale_after: exactly one
    notice, to the account's own address, and for a login that is not an address, to its
    contact (notify_contact_map); each with the ref of a stale attempt, the address, door SMTP."""
    g = S["gates"]["main"]
    wait_for(lambda: time.time() - S["stale_t0"] >= STALE_GAP + 0.2, STALE_GAP + 5,
             "the stale gap")
    out = {}
    threads = [threading.Thread(target=lambda u=u: out.__setitem__(
        u, stale_episode(u, STALE_AFTER + 1.5))) for u in (STALE, STALE_LOGIN)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    S["stale_last"] = time.time()
    for user, to in ((STALE, STALE), (STALE_LOGIN, STALE_CONTACT)):
        refs = out.get(user)
        assert refs and len(refs) >= 4, (user, refs)
        msg = delivered(to)[0]
        ev = one_line(notices(g, kind="stale-password", user=user), "stale notice of " + user)
        assert ev["result"] == "sent" and ev["to"] == to and ev["ip"] == IP[user], ev["_line"]
        assert ev["ref"] in refs[1:], (ev["ref"], refs)     # the one that crossed, not the 1st
        assert parsed(msg)["Message-ID"] == ev["message_id"]
        maillog_message_id(ev["message_id"])
        check_notice(msg, "stale-password", to, account=user, ip=IP[user], ref=ev["ref"],
                     door="SMTP", count=refs.index(ev["ref"]) + 1)
    settle(lambda: len(S["lab"].mailbox(STALE)) == 1
           and len(S["lab"].mailbox(STALE_CONTACT)) == 1, 1.5, "a second stale notice")
    assert not [t for t in S["lab"].mailbox_addresses() if t.startswith(STALE_LOGIN + "@")]
    save_eml("stale-password", S["lab"].mailbox(STALE)[0])


@suite.test
def second_episode_within_interval_is_limited():
    """After a gap longer than notify_stale_after the episode starts again and is due again, but
    within notify_interval: result=limited, still one message."""
    g = S["gates"]["main"]
    assert len(S["lab"].mailbox(STALE)) == 1, "needs stale_password_one_notice first"
    wait_for(lambda: time.time() - S["stale_last"] > STALE_AFTER + 1, STALE_AFTER + 3,
             "the episode's end")
    stale_episode(STALE, STALE_AFTER + 1.5)
    ev = wait_for(lambda: notices(g, kind="stale-password", user=STALE, result="limited"), 10,
                  "result=limited for the second episode")
    assert one_line(ev, "limited line").get("reason") == "notify_interval", ev[0]["_line"]
    settle(lambda: len(S["lab"].mailbox(STALE)) == 1, 2, "a second stale notice delivered")
    assert len(notices(g, kind="stale-password", user=STALE)) == 2


@suite.test
def notify_no_sends_nothing():
    """notify = no: the same events (stale, app-password, lock, guessing) bring no child, no
    mail, no notice line, no journal."""
    g = S["gates"]["quiet"]
    errors = []

    def tries(user, passwords, rip):
        """passwords one after another, on a connection of its own"""
        try:
            c = GateClient(g.socket)
            for i, pw in enumerate(passwords):
                line = gate_auth(c, i + 1, user, pw, rip)
                assert line.startswith(b"FAIL\t"), line
            c.close()
        except Exception as e:  # reported below
            errors.append((user, repr(e)))

    def stale():
        wait_for(lambda: time.time() - S["stale_t0"] >= STALE_GAP + 0.2, STALE_GAP + 5, "gap")
        t_first = None
        while t_first is None or time.time() - t_first < STALE_AFTER + 1.5:
            line = quiet_auth(Q_STALE, "Old-Q-1", "10.4.0.1").decode()
            ref = re.search(r"ref=([0-9A-Z]+)", line).group(1)
            if g.event(ref).get("cause") == "stale-password":
                t_first = t_first or time.time()
    jobs = [  # lock and guessing: six different wrong passwords (guessing at 3, the lock at 6)
        (tries, (Q_LOCK, ["q-wrong-%d" % i for i in range(6)], "10.4.0.2")),
        (tries, (Q_GUESS, ["q-guess-%d" % i for i in range(3)], "10.4.0.3")),
        (tries, (Q_APP, [ACCOUNT_PASSWORD] * 3, "10.4.0.4")),
        (stale, ())]
    threads = [threading.Thread(target=f, args=a) for f, a in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    causes = {e.get("cause") for e in g.events()}
    for want in ("stale-password", "app-password-required", "password-guessing"):
        assert want in causes, causes
    assert [e for e in g.events("lock") if e.get("key") == Q_LOCK], "no lock"
    settle(lambda: True, 1.5, "")
    assert not g.events("notice"), [e["_line"] for e in g.events("notice")]
    journal = os.path.join(g.state_dir, "notices")
    assert not os.path.exists(journal) or os.path.getsize(journal) == 0, open(journal).read()
    quiet = {Q_STALE, Q_LOCK, Q_GUESS, Q_APP}
    assert not quiet & set(S["lab"].mailbox_addresses())
    kids = S["children"].seen & {"sendmail", "postdrop", "getent"}
    assert not kids, "children of the quiet gate: %r" % S["children"].seen


@suite.test
def reload_turns_notices_on():
    """notify = yes by SIGHUP on the quiet gate: the next guessing brings its notice."""
    g = S["gates"]["quiet"]
    S["children"].stop()
    with open(g.conf_path) as f:
        lines = [l for l in f if l.split("=")[0].strip() != "notify"]
    with open(g.conf_path, "w") as f:
        f.writelines(lines + ["notify = yes\n"])
    mark = len(g.log_text())
    g.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "reloaded" in g.log_text()[mark:], 10, "the reload")
    assert "warning" not in g.log_text()[mark:], g.log_text()[mark:]
    c = GateClient(g.socket)
    for i in range(3):
        assert gate_auth(c, i + 1, Q_RELOAD, "r-guess-%d" % i, "10.4.0.5").startswith(b"FAIL")
    c.close()
    raw = delivered(Q_RELOAD)[0]
    check_notice(raw, "password-guessing", Q_RELOAD, account=Q_RELOAD, ip="10.4.0.5",
                 door="SMTP")
    ev = one_line(notices(g), "notice lines after the reload")
    assert ev["result"] == "sent" and ev["user"] == Q_RELOAD, ev["_line"]


def metrics(name):
    """authguard_notices_total of a gate: {(kind, result): value}."""
    url = "http://127.0.0.1:%d/metrics" % S["metrics"][name]
    with urllib.request.urlopen(url, timeout=5) as r:
        text = r.read().decode()
    out = {}
    for m in re.finditer(r'^authguard_notices_total\{([^}]*)\} (\d+)$', text, re.M):
        labels = dict(re.findall(r'([a-z]+)="([^"]*)"', m.group(1)))
        out[(labels.get("kind"), labels.get("result"))] = int(m.group(2))
    return out


def cli_notices(*args):
    g = S["gates"]["main"]
    r = subprocess.run([CLI, "-s", g.control, "--json", "notices"] + list(args),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=10)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    text = r.stdout.decode("utf-8")
    try:
        rows = json.loads(text)
    except ValueError:                    # one JSON object a line
        rows = [json.loads(l) for l in text.splitlines() if l.strip()]
    if isinstance(rows, dict):
        rows = rows.get("notices", rows.get("rows"))
    assert isinstance(rows, list), text
    return rows


@suite.test
def cli_and_metrics_tell_what_was_sent():
    """`authguard notices --since 1d` lists each notice of the log that concerns mail (sent,
    failed, dropped: time, kind, user, to, ip, ref, message_id, result), not those the limits
    held or that had no address (log lines and counts only); a --since shorter than the time
    since the last one lists none; /metrics counts every outcome per kind and result."""
    g = S["gates"]["main"]
    lines = notices(g)
    assert lines, "no notices in the main gate's log"
    rows = cli_notices("--since", "1d")
    key = lambda e: (e.get("kind"), e.get("user"), e.get("to") or "", e.get("ref"),
                     e.get("result"))
    mail = [e for e in lines if e.get("result") in ("sent", "failed", "dropped")]
    want = sorted(key(e) for e in mail)
    assert len(mail) < len(lines), "no limited or skipped notice to leave out"
    got = sorted(key(r) for r in rows)
    assert got == want, "CLI rows:\n%r\nlog:\n%r" % (got, want)
    for r in rows:
        for field in ("time", "kind", "user", "to", "ip", "ref", "message_id", "result"):
            assert field in r, (field, r)
    sent = [r for r in rows if r["result"] == "sent"]
    for r in sent:
        assert S["lab"].mailbox(r["to"]), r
        assert r["message_id"] in [str(parsed(m)["Message-ID"]) for m in
                                   delivered(r["to"], 1, 5)], r
    last = max(e["_line"] for e in lines)
    wait_for(lambda: cli_notices("--since", "2s") == [], 10,
             "--since 2s to list nothing (last: %s)" % last, interval=0.5)
    m = metrics("main")
    counts = {}
    for e in lines:
        counts[(e["kind"], e["result"])] = counts.get((e["kind"], e["result"]), 0) + 1
    for k, v in counts.items():
        assert m.get(k) == v, (k, v, m)
    for kind in KINDS[:2] + KINDS[3:]:
        assert m.get((kind, "sent"), 0) >= 1, (kind, m)
    # The journal has a line for each, and no password (nor does any message).
    with open(os.path.join(g.state_dir, "notices"), "rb") as f:
        journal = f.read()
    assert len(journal.splitlines()) == len(mail), journal.decode("utf-8", "replace")
    for what, data in [("journal", journal)] + [(to, raw) for to, raw in S["lab"].mailbox_all()]:
        for pw in PASSWORDS_TRIED:
            assert pw.encode() not in data, "%s holds a password tried" % what


@suite.test
def each_kind_written_for_reading():
    """One delivered notice of each kind is in $AUTHGUARD_BUILD/notices/KIND.eml."""
    for kind in KINDS:
        path = os.path.join(gatelab.BUILD, "notices", kind + ".eml")
        assert os.path.exists(path), path
        with open(path, encoding="utf-8") as f:
            text = f.read()
        assert "Auto-Submitted: auto-generated" in text and "\n\n" in text, path



@suite.test
def strangers_get_no_mail():
    """Anyone may try any name. Guessing against an address at another site and against an
    address here that is no account: no mail to them, each due notice logged
    result=skipped reason=no-login-seen; the same guessing against an owner who logged in
    before is sent (guessing_notice_once)."""
    g, lab = S["gates"]["main"], S["lab"]
    strangers = ("stranger@elsewhere.example", "nosuch@example.test")
    c = GateClient(g.socket)
    n = 0
    for user in strangers:
        for i in range(4):
            n += 1
            assert gate_auth(c, n, user, "s-guess-%d" % i, "10.6.0.1").startswith(b"FAIL\t")
    c.close()
    for user in strangers:
        ev = wait_for(lambda: notices(g, kind="password-guessing", user=user), 10,
                      "the guessing notice line of " + user)[0]
        assert ev["result"] == "skipped" and ev["reason"] == "no-login-seen" and \
            ev["to"] == "", ev["_line"]
    settle(lambda: not [to for to, _ in lab.mailbox_all() if to in strangers], 1.5,
           "a notice delivered to a stranger")
    assert not [l for l in lab.maillog_text().splitlines()
                if "elsewhere.example" in l or "nosuch@" in l], "Postfix saw a stranger"



@suite.test
def restart_keeps_the_limits():
    """After a restart the journal restores the sends of notify_interval: a new guessing
    episode against the account told before the restart is limited (reason=notify_interval),
    not mailed again."""
    g = S["gates"]["main"]
    assert notices(g, kind="password-guessing", user=GUESS, result="sent"), "needs a notice"
    assert g.stop() == 0, g.log_text()[-2000:]
    g.start()
    time.sleep(STALE_AFTER + 1.5)               # a gap: the next guesses are a new episode
    for i in range(4):
        code, text = smtp_auth(GUESS, "after-restart-%d" % i, IP[GUESS])
        assert code == 535, (code, text)
    ev = wait_for(lambda: notices(g, kind="password-guessing", user=GUESS, result="limited"),
                  10, "the new episode's notice limited")[0]
    assert ev["reason"] == "notify_interval", ev["_line"]
    settle(lambda: len(S["lab"].mailbox(GUESS)) == 1, 1.5, "a second notice after the restart")

if __name__ == "__main__":
    suite.run(setup, teardown)


#!/usr/bin/env python3
"""The helpdesk's page in a real browser: Debian's chromium, driven by puppeteer-core, against
the lab's real Postfix + Dovecot + authguard-policyd + authguard-web.

One lab and one browser serve every scenario. Python makes the real SMTP logins (right and
wrong passwords, with the refs of their 535 replies), locks and checks locks over the control
socket; tests/browser/web.test.mjs does what the helpdesk does in the browser and answers one
JSON line per scenario, which becomes one "ok - web/NAME" or "not ok - web/NAME" line.

The web trusts 127.0.0.1 as its reverse proxy: the browser names its user in X-Remote-User
(each user has a browser context of its own, with its own cookies). ann may look and unlock;
vic may only look; cid may only look, and signs on with basic authentication (htpasswd).
A screenshot of a result page goes to $AUTHGUARD_BUILD/authguard-web.png on each run;
doc/authguard-web.png is one of them.
"""

import html
import http.server
import json
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from lab import Lab, free_port  # noqa: E402
from gatelab import BUILD, teardown_suite, Gate, b64, new_gate_dir, ref_of  # noqa: E402
from weblab import Web  # noqa: E402
from tap import Suite  # noqa: E402

TOP = os.path.dirname(os.path.dirname(HERE))
BROWSER_DIR = os.path.join(TOP, "tests", "browser")
CHROMIUM = "/usr/bin/chromium"
SCREENSHOT = os.path.join(BUILD, "authguard-web.png")
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
ADMIN, VIEWER = "ann", "vic"
BASIC, BASIC_PASSWORD = "cid", "Cid-Web-Pass-1"   # a viewer by basic authentication
HOSTILE = "<script>alert(1)</script>@x"
ACCOUNTS = {                          # fresh accounts, one per story
    "dana@example.test": "Dana-Pass-1",     # a few failures of different causes, locked
    "erin@example.test": "Erin-Pass-1",     # locked by failures, unlocked in the browser
    "fred@example.test": "Fred-Pass-1",     # locked; a cross-site POST tries to unlock
    "gina@example.test": "Gina-Pass-1",     # locked; a viewer tries to unlock
}
SCENARIO_TIMEOUT = 60

suite = Suite("web")
S = {}          # lab, gate, dir, web, node, evil, story
FAILED = []     # the gate's log event of every failed login the suite made


# --- the lab side ----------------------------------------------------------------------------

def setup():
    S["dir"] = new_gate_dir()
    S["lab"] = Lab(sasl_path=os.path.join(S["dir"], "auth"), extra_users=ACCOUNTS)
    S["lab"].start_dovecot()
    S["gate"] = Gate(S["lab"], S["dir"], account_fail_limit="4/10m", lockout_time="10m",
                     ip_fail_limit="255/1m", guessing_threshold="3").start()
    S["lab"].start_postfix()
    S["web"] = Web(S["gate"], trusted_proxies="127.0.0.1/32",
                   viewers="%s %s %s" % (ADMIN, VIEWER, BASIC), admins=ADMIN,
                   htpasswd={BASIC: BASIC_PASSWORD}).start()
    S["evil"] = EvilSite(S["web"].port)
    S["story"] = stories()
    S["node"] = Node(S["web"].url)


def teardown():
    errors = []
    if S.get("node"):
        rc = S["node"].stop()
        if rc not in (0, None):
            errors.append("node exited %s:\n%s" % (rc, S["node"].stderr()[-2000:]))
    if S.get("evil"):
        S["evil"].stop()
    if S.get("web"):
        rc = S["web"].stop()
        if rc not in (0, None):
            errors.append("authguard-web exited %s:\n%s" % (rc, S["web"].log_text()[-3000:]))
    try:
        teardown_suite(S)
    except AssertionError as e:
        errors.append(str(e))
    if errors:
        raise AssertionError("\n".join(errors))


def ctl(command, arg, **opts):
    """One control socket request; the answer's JSON (raises on ERR)."""
    line = "%s\tjson\t%s" % (command, arg)
    for k, v in opts.items():
        line += "\t%s=%s" % (k, v)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(S["gate"].control)
        s.sendall(line.encode() + b"\n")
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    text = out.decode("utf-8", "replace")
    assert text.startswith("OK\n"), "control %r: %r" % (line, text)
    return json.loads(text[3:])


def locked(key):
    return ctl("why", key).get("account", {}).get("locked") == "yes"


def auth(user, password, src="127.0.0.1", tls=True):
    """One AUTH PLAIN through Postfix: (code, text)."""
    s = S["lab"].smtp_connect(starttls=tls, source_address=src)
    try:
        code, msg = s.docmd("AUTH PLAIN", b64("\0%s\0%s" % (user, password)))
        return code, msg.decode("utf-8", "replace")
    finally:
        s.close()


def fail(user, password, cause=None, **kw):
    """A login that must fail: its 535 reply's ref, and the gate's log line for it."""
    code, text = auth(user, password, **kw)
    assert code == 535, "expected 535 for %s, got %r %r" % (user, code, text)
    ref = ref_of(text)
    assert ref, "no ref in %r" % text
    ev = S["gate"].event(ref)
    FAILED.append(ev)
    assert cause is None or ev.get("cause") == cause, ev["_line"]
    return ev


def stories():
    """The real logins the scenarios look at, made once: {name: [log events]}."""
    st = {}
    dana, pw = "dana@example.test", ACCOUNTS["dana@example.test"]
    code, text = auth(dana, pw, src="127.0.0.2")         # a familiar address
    assert code == 235, (code, text)
    st["dana"] = [fail(dana, pw, "tls-required", tls=False),
                  fail(dana, "Dana-Pass-0", "bad-password"),
                  fail(dana, "dana-pass-1", "bad-password"),
                  fail(dana, "Dana2025!"),
                  fail(dana, "hunter2")]
    assert locked(dana), ctl("why", dana)
    st["dana"].append(fail(dana, pw, "account-locked"))
    erin = "erin@example.test"
    # each story from an address of its own: the gate counts guessing per address too
    st["erin"] = [fail(erin, "wrong-%d" % i, src="127.0.0.3") for i in range(4)]
    st["hostile"] = [fail(HOSTILE, "x-%d" % i, "unknown-user", src="127.0.0.4") for i in range(2)]
    return st


def catalogue_strings():
    """Every string literal of lib/cause.c, adjacent literals joined, escapes read."""
    with open(os.path.join(TOP, "lib", "cause.c")) as f:
        src = re.sub(r"/\*.*?\*/", " ", f.read(), flags=re.S)
    out, cur, pos = [], None, 0
    lit = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
    while True:
        m = lit.search(src, pos)
        if not m:
            break
        s = bytes(m.group(1), "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")
        if cur is not None and src[pos:m.start()].strip() == "":
            cur += s
        else:
            if cur is not None:
                out.append(cur)
            cur = s
        pos = m.end()
    if cur is not None:
        out.append(cur)
    return out


# --- the browser side ------------------------------------------------------------------------

class Node:
    """tests/browser/web.test.mjs, one chromium for every scenario; ask() one at a time."""

    def __init__(self, url):
        r = subprocess.run(["sh", os.path.join(BROWSER_DIR, "install.sh")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode:
            raise RuntimeError("tests/browser/install.sh failed:\n" + r.stdout.decode())
        self.err_path = os.path.join(S["dir"], "node.stderr")
        err = open(self.err_path, "wb")
        conf = {"base": url, "chromium": CHROMIUM, "header": "X-Remote-User", "csp": CSP}
        self.proc = subprocess.Popen(["node", os.path.join(BROWSER_DIR, "web.test.mjs"),
                                      json.dumps(conf)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                     cwd=BROWSER_DIR, start_new_session=True)
        err.close()
        self.buf = b""

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def ask(self, scenario, **args):
        """The scenario's answer, {"name", "ok", "why", "facts"}; a dead or silent node raises."""
        if self.proc.poll() is not None:
            raise AssertionError("node is gone (exit %s):\n%s"
                                 % (self.proc.returncode, self.stderr()[-2000:]))
        self.proc.stdin.write((json.dumps(dict(args, scenario=scenario)) + "\n").encode())
        self.proc.stdin.flush()
        deadline = time.time() + SCENARIO_TIMEOUT
        while b"\n" not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError("node gave no answer in %d s:\n%s"
                                     % (SCENARIO_TIMEOUT, self.stderr()[-2000:]))
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise AssertionError("node died (exit %s):\n%s"
                                         % (self.proc.wait(), self.stderr()[-2000:]))
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        ans = json.loads(line)
        assert ans.get("name") == scenario, ans
        return ans

    def run(self, scenario, **args):
        """ask(), and fail with the browser's reasons unless ok."""
        ans = self.ask(scenario, **args)
        assert ans["ok"] is True, "%s in the browser:\n  %s\nfacts: %s" % (
            scenario, "\n  ".join(ans.get("why") or ["(no reason)"]),
            json.dumps(ans.get("facts"))[:3000])
        return ans["facts"]

    def stop(self):
        if self.proc is None:
            return None
        try:
            if self.proc.poll() is None:
                self.proc.stdin.write(b'{"scenario":"quit"}\n')
                self.proc.stdin.flush()
                self.proc.stdin.close()
            self.proc.wait(15)
        except (OSError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, 9)
            except OSError:
                pass
            self.proc.wait()
        rc, self.proc = self.proc.returncode, None
        return rc


class EvilSite:
    """Another origin: a page whose form posts itself to the web's /unlock on load."""

    def __init__(self, web_port):
        self.port = free_port()
        self.web_port = web_port
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                body = site.page(q.get("target", [""])[0], q.get("csrf", [""])[0]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def page(self, target, csrf):
        """The form carries what the browser side puts in the query: the target and the
        admin's real token (read from the admin's own page), so that only the cross-site
        defences (Sec-Fetch-Site, Origin, the SameSite=Strict cookie) can refuse it."""
        return ("<!doctype html><html><body>"
                "<form id=f method=post action=\"http://127.0.0.1:%d/unlock\">"
                "<input type=hidden name=target value=\"%s\">"
                "<input type=hidden name=csrf value=\"%s\">"
                "</form><script>document.getElementById('f').submit()</script>"
                "</body></html>" % (self.web_port, html.escape(target), html.escape(csrf)))

    def urls(self, target):
        """The same page from a same-site origin (another port) and from a cross-site one;
        the browser side adds &csrf=TOKEN."""
        return ["http://%s:%d/?target=%s" % (h, self.port, urllib.parse.quote(target))
                for h in ("127.0.0.1", "localhost")]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# --- the scenarios ---------------------------------------------------------------------------

@suite.test
def ref_shows_cause_and_remedy():
    """A ref from a real failed SMTP login, typed into the search form: its cause, what to tell
    the user and what to do (the catalogue's words)."""
    ev = S["story"]["dana"][1]                          # bad-password
    f = S["node"].run("ref", user=ADMIN, ref=ev["ref"], cause=ev["cause"])
    c = [x for x in f["causes"] if x["cause"] == ev["cause"]][0]
    assert c["todo"] == ev["hint"], "the .todo %r is not the catalogue's hint %r" % (
        c["todo"], ev["hint"])
    strings = catalogue_strings()
    assert c["tell"] in strings, "the .tell %r is no text of the catalogue" % c["tell"]
    assert c["title"] in strings, "the .title %r is no text of the catalogue" % c["title"]


@suite.test
def user_shows_timeline():
    evs = S["story"]["dana"]
    want = [{"ref": e["ref"], "door": e["proto"], "mech": e["mech"], "tls": e["tls"],
             "ip": e["ip"], "cause": e["cause"]} for e in reversed(evs)]
    f = S["node"].run("timeline", user=ADMIN, q="dana@example.test", attempts=want)
    tls = {r["ref"]: r["tls"] for r in f["rows"]}
    plain, secured = evs[0]["ref"], evs[1]["ref"]      # tls-required came without TLS
    assert tls[plain] != tls[secured], "td.tls the same with and without TLS: %r" % tls


@suite.test
def unlock_button_then_login_passes():
    erin, pw = "erin@example.test", ACCOUNTS["erin@example.test"]
    assert locked(erin), ctl("why", erin)
    fail(erin, pw, "account-locked")                    # the right password fails while locked
    S["node"].run("unlock", user=ADMIN, q=erin)
    assert not locked(erin), ctl("why", erin)
    code, text = auth(erin, pw)
    assert code == 235, "after the unlock: %r %r" % (code, text)
    admin = [e for e in S["gate"].events("admin")
             if e.get("action") == "unlock" and e.get("target") == erin]
    assert admin and admin[-1].get("actor") == "web:" + ADMIN, \
        "no event=admin action=unlock target=%s actor=web:%s line in policyd's log" % (erin, ADMIN)
    web = [e for e in S["web"].events("web")
           if e.get("action") == "unlock" and e.get("target") == erin]
    assert web and web[-1].get("result") == "ok" and web[-1].get("actor") == ADMIN, \
        "no event=web action=unlock ... result=ok line in the web's log"


def refusals(target):
    """The web's log lines of refused POSTs for target, oldest first."""
    return [e for e in S["web"].events("web")
            if e.get("target") == target and e.get("result") == "refused"]


@suite.test
def cross_site_post_refused():
    """An attacker's page auto-submits the unlock form with the admin's REAL cookie-bound
    token, from a same-site origin (127.0.0.1, another port: chromium sends the SameSite=Strict
    cookie, Sec-Fetch-Site: same-site) and from a cross-site one (localhost: no cookie,
    Sec-Fetch-Site: cross-site). With the right token only the cross-site defences can refuse
    it: each is refused 403, logged reason=cross-site (web.c checks Sec-Fetch-Site first), and
    the lock stays."""
    fred = "fred@example.test"
    ctl("lock", fred, **{"for": 600})
    assert locked(fred)
    site = {"127.0.0.1": "same-site", "localhost": "cross-site"}    # Sec-Fetch-Site expected
    bad = []
    for evil in S["evil"].urls(fred):
        host = urllib.parse.urlsplit(evil).hostname
        n = len(refusals(fred))
        ans = S["node"].ask("crosssite", user=ADMIN, q=fred, evil=[evil])
        why = ["%s: %s" % (host, w) for w in ans.get("why") or []]
        f = (ans.get("facts") or [{}])[0]
        if not locked(fred):
            why.append("%s: the POST unlocked %s" % (host, fred))
            ctl("lock", fred, **{"for": 600})       # for the next origin and the overview
        if not f.get("wire_seen"):
            why.append("%s: the POST's request headers were not seen" % host)
        if f.get("sec_fetch_site") != site[host]:
            why.append("%s: chromium sent Sec-Fetch-Site %r, not %r"
                       % (host, f.get("sec_fetch_site"), site[host]))
        if f.get("origin") != "http://%s:%d" % (host, S["evil"].port):
            why.append("%s: chromium sent Origin %r" % (host, f.get("origin")))
        # same-site: the cookie goes along, so token and cookie are right and only
        # Sec-Fetch-Site / Origin stand in the way; cross-site: SameSite=Strict holds it back
        if f.get("cookie_sent") != (host == "127.0.0.1"):
            why.append("%s: the csrf cookie was%s sent" % (host, "" if f.get("cookie_sent")
                                                             else " not"))
        got = [(e.get("action"), e.get("actor"), e.get("reason")) for e in refusals(fred)[n:]]
        if got != [("unlock", ADMIN, "cross-site")]:
            why.append("%s: the web logged %r, not one refusal reason=cross-site"
                       % (host, [e["_line"] for e in refusals(fred)[n:]]))
        if why:
            bad.append("\n  ".join(why) + "\n  facts: " + json.dumps(f))
    assert not bad, "\n".join(bad)
    # Without a browser's Sec-Fetch-Site: the admin's own cookie and token, a foreign Origin.
    # Refused; the same request from the web's own origin then unlocks (so the Origin did it).
    web = S["web"]
    st, h, body = web.get("/why?q=" + fred, user=ADMIN)
    cookie = h.get("set-cookie", "").split(";")[0]
    m = re.search(r'<form class="unlock"[^>]*>.*?name="csrf" value="([0-9a-f]+)"', body, re.S)
    assert st == 200 and cookie.startswith("authguard_csrf=") and m, (st, h, body[:2000])
    form = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    data = "target=%s&csrf=%s" % (fred.replace("@", "%40"), m.group(1))
    n = len(refusals(fred))
    st, _, _ = web.request("POST", "/unlock", user=ADMIN, body=data,
                           headers=dict(form, Origin="http://localhost:%d" % S["evil"].port))
    assert st == 403 and locked(fred), (st, ctl("why", fred))
    new = refusals(fred)[n:]
    assert [e.get("reason") for e in new] == ["foreign-origin"], [e["_line"] for e in new]
    st, h, _ = web.request("POST", "/unlock", user=ADMIN, body=data,
                           headers=dict(form, Origin=web.url.rstrip("/")))
    assert st == 303 and not locked(fred), (st, h, ctl("why", fred))
    ctl("lock", fred, **{"for": 600})          # locked again, for the overview


@suite.test
def hostile_name_shows_as_text():
    f = S["node"].run("hostile", user=ADMIN, q=HOSTILE)
    refs = {e["ref"] for e in S["story"]["hostile"]}
    assert refs <= {r["ref"] for r in f["rows"]}, (refs, f["rows"])


@suite.test
def viewer_no_button_forged_post_refused():
    gina = "gina@example.test"
    ctl("lock", gina, **{"for": 600})
    S["node"].run("viewer", user=VIEWER, admin=ADMIN, q=gina)
    assert locked(gina), "a viewer's forged POST unlocked %s" % gina
    # and without a browser: a POST with the viewer's name, no cookie, no token
    st, _, _ = S["web"].request("POST", "/unlock", user=VIEWER,
                                headers={"Content-Type": "application/x-www-form-urlencoded"},
                                body="target=" + gina)
    assert st == 403, st
    assert locked(gina)


@suite.test
def csp_and_no_external_request():
    S["node"].run("pages", user=ADMIN,
                  paths=["", "why?q=dana%40example.test", "why?q=" + S["story"]["dana"][1]["ref"],
                         "overview"])


@suite.test
def basic_authentication():
    S["node"].run("basic", basic=BASIC, password=BASIC_PASSWORD)


@suite.test
def overview_chart_and_locks():
    """The chart's rects are the control socket's overview exactly: one per (hour, cause) with
    its count, each data-hour one of the overview's 24 hours; the overview counts every failed
    login the suite made; table#locked-accounts lists the overview's locked accounts."""
    def keys(o):
        return sorted(x["key"] for x in o["locked_accounts"])
    for _ in range(3):                  # again if an hour turned while the page was made
        ov = ctl("overview", "-")
        ans = S["node"].ask("overview", user=ADMIN, failures=ov["failures"],
                            overview_locked=keys(ov),
                            locked=["dana@example.test", "fred@example.test", "gina@example.test"])
        again = ctl("overview", "-")
        if again["failures"] == ov["failures"] and keys(again) == keys(ov):
            break
    else:
        raise AssertionError("the overview changed under each of 3 tries")
    assert ans["ok"] is True, "overview in the browser:\n  %s\nfacts: %s" % (
        "\n  ".join(ans.get("why") or ["(no reason)"]), json.dumps(ans.get("facts"))[:3000])
    f = ans["facts"]
    assert len(ov["failures"]) == 24 == ov["hours"], ov
    made, counted = {}, {}
    for e in FAILED:
        made[e["cause"]] = made.get(e["cause"], 0) + 1
    for h in ov["failures"]:
        for cause, n in h["causes"].items():
            counted[cause] = counted.get(cause, 0) + n
    assert counted == made, "the overview counts %r, the suite made %r" % (counted, made)
    assert sum(r["count"] for r in f["rects"]) == sum(made.values()), f["rects"]


@suite.test
def screenshot_of_a_result_page():
    if os.path.exists(SCREENSHOT):
        os.unlink(SCREENSHOT)
    f = S["node"].run("screenshot", user=ADMIN, q="dana@example.test", path=SCREENSHOT)
    assert f["account"] and f["account"]["state"] == "locked", f["account"]
    assert len({c["cause"] for c in f["causes"]}) >= 3, f["causes"]
    with open(SCREENSHOT, "rb") as fh:
        head = fh.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", head
    width = int.from_bytes(head[16:20], "big")
    assert width == 1200, width
    assert 10000 < os.path.getsize(SCREENSHOT) < 2000000, os.path.getsize(SCREENSHOT)


if __name__ == "__main__":
    if not shutil.which("node") or not os.path.exists(CHROMIUM):
        print("not ok - web/setup: node or %s is missing (sh tests/deps.sh installs them)"
              % CHROMIUM)
        sys.exit(1)
    suite.run(setup, teardown)

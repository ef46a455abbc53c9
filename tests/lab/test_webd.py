#!/usr/bin/env python3
"""authguard-web, the helpdesk's daemon, over real HTTP (python's http.client) in front of the real
authguard-policyd (wired to the lab's real Dovecot): who is asking (a trusted proxy's user header,
the same header from an address that is not trusted, HTTP basic authentication against real
crypt(3) hashes: yescrypt from libcrypt, sha512crypt from openssl passwd), the viewers and admins
lists, the CSRF refusals (no cookie, a wrong token, a foreign Origin, Sec-Fetch-Site cross-site, a
viewer who is no admin), the security headers on every answer, an unlock through the page that
lifts a real lock in authguard-policyd, the 502 page while authguard-policyd is down and the
recovery after, a control socket that answers slowly or with garbage (the other requests go on),
and oversized or malformed queries and forms (4xx and a log line)."""

import ctypes
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab, free_port  # noqa: E402
from gatelab import BUILD, Daemon, Gate, GateClient, auth_line, b64  # noqa: E402
from gatelab import new_gate_dir, parse_logfmt, ref_of, teardown_suite  # noqa: E402
from tap import Suite  # noqa: E402

WEBD = os.path.join(BUILD, "authguard-web")
suite = Suite("webd")
S = {}
ALICE, ALICE_PW = "alice@example.test", "correct horse"
DAVE = "dave@example.test"
SECURITY = {
    "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


def yescrypt(password):
    """A yescrypt hash made by the system's libcrypt (as mkpasswd makes it)."""
    lc = ctypes.CDLL("libcrypt.so.1")
    lc.crypt_gensalt.restype = ctypes.c_char_p
    lc.crypt.restype = ctypes.c_char_p
    setting = lc.crypt_gensalt(b"$y$", 0, os.urandom(16), 16)
    return lc.crypt(password.encode(), setting).decode()


def sha256crypt_cheap(password):
    """A sha256-crypt hash of 1000 rounds: cheap, for the tests that make thousands of
    failures."""
    lc = ctypes.CDLL("libcrypt.so.1")
    lc.crypt_gensalt.restype = ctypes.c_char_p
    lc.crypt.restype = ctypes.c_char_p
    setting = lc.crypt_gensalt(b"$5$", 1000, os.urandom(16), 16)
    return lc.crypt(password.encode(), setting).decode()


def bcrypt(password, cost):
    """A bcrypt ($2b$) hash of the given cost, made by the system's libcrypt."""
    lc = ctypes.CDLL("libcrypt.so.1")
    lc.crypt_gensalt.restype = ctypes.c_char_p
    lc.crypt.restype = ctypes.c_char_p
    setting = lc.crypt_gensalt(b"$2b$", cost, os.urandom(16), 16)
    return lc.crypt(password.encode(), setting).decode()


def sha512crypt(password):
    return subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=password,
                          capture_output=True, text=True, check=True).stdout.strip()


class Web(Daemon):
    """One authguard-web on a loopback port, its config written from keyword settings."""
    name = "authguard-web"

    def __init__(self, d, tag, control, **conf):
        self.dir = d
        self.port = free_port()
        self.conf_path = os.path.join(d, "web-%s.conf" % tag)
        self.log = os.path.join(d, "web-%s.log" % tag)
        self.socket = None
        self.proc = None
        settings = {
            "web_listen": "inet:127.0.0.1:%d" % self.port,
            "control_socket": control,
            "control_timeout": "1s",
            "user": "root",
        }
        settings.update(conf)
        with open(self.conf_path, "w") as f:
            for k, v in settings.items():
                f.write("%s = %s\n" % (k, v))

    def argv(self):
        return [WEBD, "-f", "-c", self.conf_path]

    def start(self, timeout=10, env=None):
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=log, start_new_session=True, close_fds=True)
        log.close()
        deadline = time.time() + timeout
        while "started: web_listen" not in self.log_text():
            if self.proc.poll() is not None:
                raise RuntimeError("authguard-web exited %s:\n%s"
                                   % (self.proc.returncode, self.log_text()))
            if time.time() > deadline:
                raise RuntimeError("authguard-web did not start:\n" + self.log_text())
            time.sleep(0.02)
        return self

    def request(self, method, path, headers=None, body=None, timeout=10):
        """(status, {header: value}, body text, [Set-Cookie values])"""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            text = r.read().decode("utf-8", "replace")
            return (r.status, {k.lower(): v for k, v in r.getheaders()}, text,
                    r.msg.get_all("Set-Cookie") or [])
        finally:
            c.close()

    def wait_log(self, pred, timeout=3):
        """The log once pred(log) holds (or the time is up): the daemon writes a round's log
        lines at the end of the round, which may be after its answers went out."""
        deadline = time.time() + timeout
        while True:
            log = self.log_text()
            if pred(log) or time.time() > deadline:
                return log
            time.sleep(0.02)

    def events_after(self, before, n=1, timeout=3):
        """The event=web lines after the first `before`, once there are n (or the time is up);
        then a short wait, so that one too many shows."""
        deadline = time.time() + timeout
        while len(self.web_events()) < before + n and time.time() < deadline:
            time.sleep(0.02)
        time.sleep(0.05)
        return self.web_events()[before:]

    def web_events(self):
        out = []
        for line in self.log_text().splitlines():
            i = line.find(" event=web")
            if i >= 0:
                ev = parse_logfmt(line[i + 1:])
                ev["_line"] = line
                out.append(ev)
        return out


def control(question):
    """One request line to authguard-policyd's control socket; its whole answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(S["gate"].control)
        s.sendall(question.encode() + b"\n")
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out.decode()
            out += chunk


def locked(key):
    import json
    text = control("why\tjson\t" + key)
    assert text.startswith("OK\n"), text
    j = json.loads(text[3:])
    for part in ("account", "address"):
        if j.get(part, {}).get("key") == key:
            return j[part].get("locked") not in (None, "no", False)
    raise AssertionError("no account or address %s in %s" % (key, text))


def setup():
    d = S["dir"] = new_gate_dir()
    S["lab"] = Lab(sasl_path=os.path.join(d, "auth"), extra_users={DAVE: "dave's password"})
    S["lab"].start_dovecot()
    S["gate"] = Gate(S["lab"], d).start()
    # One real failed login, for a ref and a timeline.
    c = GateClient(S["gate"].socket)
    c.send(auth_line(1, "PLAIN", resp=b64("\0%s\0%s" % (ALICE, "wrong horse"))))
    line = c.line().decode()
    c.close()
    assert line.startswith("FAIL\t1"), line
    S["ref"] = ref_of(line)
    assert S["ref"], line
    S["cheap"] = os.path.join(d, "htpasswd-cheap")
    with open(S["cheap"], "w") as f:
        f.write("bob:%s\n" % sha256crypt_cheap("bob's secret"))
    S["htpasswd"] = os.path.join(d, "htpasswd")
    with open(S["htpasswd"], "w") as f:
        f.write("# helpdesk\nhelen:%s\nbob:%s\n" % (yescrypt("helen's secret"),
                                                      sha512crypt("bob's secret")))
    # Behind a trusted proxy: viewers helen and admin, admin alone may act.
    S["web"] = Web(d, "proxy", S["gate"].control, trusted_proxies="127.0.0.1/32",
                   viewers="helen admin", admins="admin", lock_time="2h").start()
    # No trusted proxy: basic authentication against the htpasswd file.
    S["basic"] = Web(d, "basic", S["gate"].control, trusted_proxies="192.0.2.0/24",
                     htpasswd=S["htpasswd"], admins="bob").start()


def teardown():
    errors = []
    for k in ("web", "basic", "slow", "secret", "throttle", "behind", "mixed", "longuser",
              "hosts", "hostsbasic", "hostssecret", "flood", "v6net", "xffonly", "lone", "busy"):
        if S.get(k):
            rc = S[k].stop()
            if rc not in (0, None):
                errors.append("authguard-web (%s) exited %s:\n%s" % (k, rc, S[k].log_text()[-3000:]))
    teardown_suite(S)
    if errors:
        raise AssertionError("\n".join(errors))


def as_user(name, **more):
    h = {"X-Remote-User": name}
    h.update(more)
    return h


def basic_auth(user, password):
    return {"Authorization": "Basic " + b64("%s:%s" % (user, password))}


def security_headers(h, what):
    for k, v in SECURITY.items():
        assert h.get(k) == v, "%s: %s is %r" % (what, k, h.get(k))


def form_tokens(page):
    """(target, csrf) of the first lock or unlock form of a page."""
    m = re.search(r'<form class="(un)?lock"[^>]*>(.*?)</form>', page, re.S)
    assert m, page[-2000:]
    target = re.search(r'name="target" value="([^"]*)"', m.group(2)).group(1)
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', m.group(2)).group(1)
    return target, csrf


def cookie_of(set_cookies):
    for c in set_cookies:
        if c.startswith("authguard_csrf="):
            return c.split(";")[0]
    raise AssertionError("no authguard_csrf cookie in %r" % set_cookies)


def admin_session(key):
    """The admin's answer page for key: (cookie, csrf)."""
    st, h, page, sc = S["web"].request("GET", "/why?q=" + urllib.parse.quote(key),
                                       as_user("admin"))
    assert st == 200, (st, page[-2000:])
    assert "HttpOnly" in sc[0] and "SameSite=Strict" in sc[0] and "Path=/" in sc[0], sc
    assert "Secure" not in sc[0], sc
    return cookie_of(sc), form_tokens(page)[1]


def post(web, path, fields, headers):
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    h.update(headers)
    return web.request("POST", path, h, urllib.parse.urlencode(fields))


@suite.test
def trusted_proxy_header():
    st, h, page, sc = S["web"].request("GET", "/", as_user("helen"))
    assert st == 200, (st, page)
    assert '<span id="whoami">helen</span>' in page, page
    assert 'id="search"' in page


@suite.test
def ref_lookup_shows_the_attempt():
    st, h, page, _ = S["web"].request("GET", "/why?q=" + S["ref"], as_user("helen"))
    assert st == 200, (st, page[-2000:])
    assert 'data-ref="%s"' % S["ref"] in page, page[-3000:]
    assert ALICE in page


@suite.test
def pasted_ref_with_spaces():
    st, h, page, _ = S["web"].request("GET", "/why?q=%20%20" + S["ref"] + "%20",
                                      as_user("helen"))
    assert st == 200 and 'data-ref="%s"' % S["ref"] in page, (st, page[-1000:])


@suite.test
def unknown_ref_is_not_found():
    st, h, page, _ = S["web"].request("GET", "/why?q=ZZZZZZZZZZ", as_user("helen"))
    assert st == 404 and 'id="notfound"' in page, (st, page[-2000:])


@suite.test
def empty_query_is_the_search_page():
    st, h, page, _ = S["web"].request("GET", "/why?q=", as_user("helen"))
    assert st == 200 and 'id="search"' in page, (st, page[-1000:])


@suite.test
def header_from_untrusted_address_ignored():
    before = S["basic"].log_text()
    st, h, page, _ = S["basic"].request("GET", "/", as_user("bob"))
    assert st == 401, (st, page)
    assert h.get("www-authenticate", "").startswith('Basic realm="authguard"'), h
    log = S["basic"].wait_log(lambda t: "not in trusted_proxies" in t[len(before):])
    log = log[len(before):]
    assert "X-Remote-User from 127.0.0.1, not in trusted_proxies: ignored" in log, log
    # Once a minute at most: a second one is counted, not logged.
    S["basic"].request("GET", "/", as_user("bob"))
    time.sleep(0.2)
    log = S["basic"].log_text()[len(before):]
    assert log.count("not in trusted_proxies: ignored") == 1, log


@suite.test
def no_user_known_is_403():
    # The proxy instance has no htpasswd: without the header nobody is known.
    st, h, page, _ = S["web"].request("GET", "/")
    assert st == 403 and 'id="error"' in page, (st, page)
    security_headers(h, "403")


@suite.test
def basic_auth_right_password():
    for user, pw in (("helen", "helen's secret"), ("bob", "bob's secret")):
        st, h, page, _ = S["basic"].request("GET", "/", basic_auth(user, pw))
        assert st == 200, (user, st, page[-1000:])
        assert '<span id="whoami">%s</span>' % user in page


@suite.test
def basic_auth_wrong_and_unknown():
    before = len(S["basic"].web_events())
    st, h, page, _ = S["basic"].request("GET", "/", basic_auth("helen", "guess"))
    assert st == 401 and 'Basic realm="authguard"' in h.get("www-authenticate", ""), (st, h)
    security_headers(h, "401")
    st, h, page, _ = S["basic"].request("GET", "/", basic_auth("mallory", "guess"))
    assert st == 401, st
    st, h, page, _ = S["basic"].request("GET", "/", {"Authorization": "Basic !!!"})
    assert st == 401, st
    evs = S["basic"].events_after(before, 3)
    reasons = [(e.get("action"), e.get("user"), e.get("result"), e.get("reason")) for e in evs]
    assert reasons == [("login", "helen", "refused", "bad-password"),
                       ("login", "mallory", "refused", "unknown-user"),
                       ("login", None, "refused", "malformed")], reasons
    log = S["basic"].log_text()
    assert "guess" not in log and b64("helen:guess") not in log, "a password in the log"


@suite.test
def unknown_user_costs_a_hash_too():
    """An unknown user is checked against a real hash: its refusal takes as long, roughly."""
    def took(user):
        t0 = time.time()
        st = S["basic"].request("GET", "/", basic_auth(user, "guess"))[0]
        assert st == 401
        return time.time() - t0
    known = min(took("helen") for _ in range(3))
    unknown = min(took("nobody-at-all") for _ in range(3))
    print("# wrong password %.4f s, unknown user %.4f s" % (known, unknown))
    assert unknown > known / 3, (known, unknown)


@suite.test
def right_password_remembered_wrong_one_not():
    """A browser sends the password with every request: a right one is remembered (a keyed
    hash), so a session's pages do not each cost a crypt(3); a wrong one always does, and a
    wrong one after a right one is still refused."""
    def took(pw, want):
        t0 = time.time()
        st = S["basic"].request("GET", "/", basic_auth("helen", pw))[0]
        assert st == want, (pw, st)
        return time.time() - t0
    took("helen's secret", 200)
    right = sorted(took("helen's secret", 200) for _ in range(5))[2]
    wrong = sorted(took("helen's secreT", 401) for _ in range(5))[2]
    print("# right password (remembered) %.4f s, wrong password %.4f s" % (right, wrong))
    assert right < wrong / 3, (right, wrong)
    assert "secreT" not in S["basic"].log_text()


@suite.test
def basic_auth_failures_wait():
    """After 10 failures of one (address, user), that pair waits (1 s, doubling): 429 at once,
    without a crypt(3), said once a minute; other users go on; a right password after the
    wait clears the count."""
    web = S["throttle"] = Web(S["dir"], "throttle", S["gate"].control,
                              htpasswd=S["htpasswd"]).start()
    for i in range(10):
        assert web.request("GET", "/", basic_auth("bob", "guess %d" % i))[0] == 401, i
    times = []
    for pw in ("guess 10", "bob's secret"):
        t0 = time.time()
        st, h, page, _ = web.request("GET", "/", basic_auth("bob", pw))
        times.append(time.time() - t0)
        assert st == 429 and h.get("retry-after") == "1" and 'id="error"' in page, (st, h)
        security_headers(h, "429")
    assert web.request("GET", "/", basic_auth("helen", "helen's secret"))[0] == 200
    log = web.wait_log(lambda t: "too-many-failures" in t)
    assert log.count("reason=too-many-failures") == 1 and "wait=1" in log, log[-1500:]
    assert "guess" not in log and "secret" not in log, "a password in the log"
    time.sleep(1.1)
    assert web.request("GET", "/", basic_auth("bob", "bob's secret"))[0] == 200
    assert web.request("GET", "/", basic_auth("bob", "guess again"))[0] == 401


@suite.test
def failures_behind_a_proxy_counted_per_client():
    """Behind a trusted proxy every client has the proxy's address: failures are counted for
    the address the proxy adds last to X-Forwarded-For, so an attacker's failures do not make
    the user wait at their own address; the header twice is refused."""
    web = S["behind"] = Web(S["dir"], "behind", S["gate"].control, htpasswd=S["htpasswd"],
                            trusted_proxies="127.0.0.1/32").start()

    def via(client, pw, more=None):
        h = basic_auth("bob", pw)
        h["X-Forwarded-For"] = client
        h.update(more or {})
        return web.request("GET", "/", h)[0]
    for i in range(10):
        assert via("198.51.100.9, 192.0.2.66", "guess %d" % i) == 401, i
    assert via("192.0.2.66", "guess 10") == 429
    assert via("192.0.2.66", "bob's secret") == 429
    assert via("192.0.2.77", "bob's secret") == 200     # the user's own address
    assert via("192.0.2.66, 192.0.2.77", "bob's secret") == 200
    # without the header, the proxy's own address: not the attacker's
    assert web.request("GET", "/", basic_auth("bob", "bob's secret"))[0] == 200
    log = web.wait_log(lambda t: "too-many-failures" in t)
    assert "peer=192.0.2.66 " in log and "bob's secret" not in log and "guess" not in log, \
        log[-1500:]


@suite.test
def flood_of_new_names_frees_no_pair_with_more_failures():
    """The failures' table is full at 4096 entries: a flood of 4200 made-up users (a failure
    each) makes room by dropping entries with the fewest failures, so bob's ten failures
    survive it: his next wrong password makes him wait again at once."""
    web = S["flood"] = Web(S["dir"], "flood", S["gate"].control, htpasswd=S["cheap"]).start()
    for i in range(10):
        assert web.request("GET", "/", basic_auth("bob", "guess %d" % i))[0] == 401, i
    assert web.request("GET", "/", basic_auth("bob", "guess 10"))[0] == 429
    time.sleep(1.1)                     # his first wait (1 s) is over
    c = http.client.HTTPConnection("127.0.0.1", web.port, timeout=30)
    try:
        for i in range(4200):
            c.request("GET", "/", headers=basic_auth("u%05d" % i, "x"))
            r = c.getresponse()
            r.read()
            assert r.status == 401, (i, r.status)
    finally:
        c.close()
    got = [web.request("GET", "/", basic_auth("bob", "after %d" % i))[0] for i in range(2)]
    assert got == [401, 429], "bob's count was dropped by the flood: %r" % got


@suite.test
def ipv6_client_counted_by_its_64():
    """Behind a trusted proxy, an IPv6 client is counted by its /64: bob's failures from ten
    addresses of one /64 make that /64 wait for bob, not another /64; the line names the
    address itself."""
    web = S["v6net"] = Web(S["dir"], "v6net", S["gate"].control, htpasswd=S["cheap"],
                           trusted_proxies="127.0.0.1/32").start()

    def via(client, user, pw):
        h = basic_auth(user, pw)
        h["X-Forwarded-For"] = client
        return web.request("GET", "/", h)[0]
    for i in range(10):
        assert via("2001:db8::%x" % (i + 1), "bob", "guess %d" % i) == 401, i
    assert via("2001:db8::ff", "bob", "guess 10") == 429
    assert via("2001:db8:0:0:0:0:0:fe", "bob", "bob's secret") == 429
    assert via("2001:db8:1::5", "bob", "bob's secret") == 200
    log = web.wait_log(lambda t: "too-many-failures" in t)
    assert "peer=2001:db8::ff " in log and "/64" not in log and "guess" not in log, \
        log[-1500:]


@suite.test
def proxy_trusted_for_its_client_address_only():
    """user_header empty: a trusted proxy's X-Forwarded-For counts failures per client, and no
    header it sends names the user (basic authentication decides). Without any trusted proxy,
    the start warns that whoever reaches web_listen can make a user wait."""
    web = S["xffonly"] = Web(S["dir"], "xffonly", S["gate"].control, htpasswd=S["cheap"],
                             trusted_proxies="127.0.0.1/32", user_header="").start()
    st, h, _, _ = web.request("GET", "/", {"X-Remote-User": "bob"})
    assert st == 401 and "www-authenticate" in h, (st, h)
    for i in range(10):
        h = dict(basic_auth("bob", "guess %d" % i), **{"X-Forwarded-For": "203.0.113.66"})
        assert web.request("GET", "/", h)[0] == 401, i
    h = dict(basic_auth("bob", "bob's secret"), **{"X-Forwarded-For": "198.51.100.7"})
    st, _, page, _ = web.request("GET", "/", h)
    assert st == 200 and '<span id="whoami">bob</span>' in page, (st, page[-500:])
    h = dict(basic_auth("bob", "bob's secret"), **{"X-Forwarded-For": "203.0.113.66"})
    assert web.request("GET", "/", h)[0] == 429
    text = web.log_text()
    assert "no proxy is trusted" not in text and "believed too" not in text and \
        "may send X-Forwarded-For and escape or aim" in text, text[-1500:]
    lone = S["lone"] = Web(S["dir"], "lone", S["gate"].control, htpasswd=S["cheap"]).start()
    assert "htpasswd is set and no proxy is trusted" in lone.log_text(), lone.log_text()


@suite.test
def crypt_takes_half_the_loop_at_most():
    """Eight clients send made-up users without a pause against a bcrypt file: crypt(3) may
    take half of the loop's time after a burst of half a second, then a sign-on that needs it
    gets 503 with Retry-After, uncounted and logged reason=busy; a user whose password is
    remembered still gets the page, and /healthz answers."""
    path = os.path.join(S["dir"], "htpasswd-bcrypt")
    with open(path, "w") as f:
        f.write("bob:%s\n" % bcrypt("bob's secret", 10))
    web = S["busy"] = Web(S["dir"], "busy", S["gate"].control, htpasswd=path).start()
    assert web.request("GET", "/", basic_auth("bob", "bob's secret"))[0] == 200   # remembered
    start = time.time()
    stop = start + 3
    codes, lock = {}, threading.Lock()

    def hammer(n):
        c = http.client.HTTPConnection("127.0.0.1", web.port, timeout=60)
        i = 0
        try:
            while time.time() < stop:
                c.request("GET", "/", headers=basic_auth("x%d-%d" % (n, i), "y"))
                r = c.getresponse()
                r.read()
                with lock:
                    codes[r.status] = codes.get(r.status, 0) + 1
                    if r.status == 503:
                        codes["retry"] = r.getheader("Retry-After")
                i += 1
        finally:
            c.close()
    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    lat = []
    for _ in range(5):
        t0 = time.time()
        st_bob = web.request("GET", "/", basic_auth("bob", "bob's secret"), timeout=60)[0]
        st_health = web.request("GET", "/healthz", {}, timeout=60)[0]
        lat.append(time.time() - t0)
        assert st_bob == 200 and st_health == 200, (st_bob, st_health)
    wrong = [web.request("GET", "/", basic_auth("bob", "wrong %d" % i), timeout=60)[0]
             for i in range(12)]
    for t in threads:
        t.join()
    elapsed = time.time() - start
    t0 = time.time()
    for _ in range(5):
        bcrypt("y", 10)
    one = (time.time() - t0) / 5
    bound = (0.5 + elapsed / 2) / one * 1.15 + 2      # half the loop (three quarters: 52)
    print("# sign-ons answered: %r; bob's page and /healthz: median %.0f ms; crypt(3) %.0f ms, "
          "%.1f s: at most %.0f checked" % (codes, sorted(lat)[2] * 1000, one * 1000, elapsed,
                                           bound))
    assert codes.get(401, 0) > 0 and codes.get(503, 0) > 0, codes
    assert codes.get(401, 0) <= bound, "crypt(3) took more than half the loop: %r" % codes
    assert codes["retry"].isdigit() and 1 <= int(codes["retry"]) <= 2, codes
    log = web.wait_log(lambda t: "reason=busy" in t)
    assert "reason=busy" in log, log[-1500:]
    # bob's wrong passwords while crypt(3) was busy got 503 and were not counted: with
    # fewer than 10 of them checked (401), his right password still passes, not 429
    assert wrong.count(503) > 2 and set(wrong) <= {401, 503}, wrong
    if wrong.count(401) < 10:
        time.sleep(1.5)
        assert web.request("GET", "/", basic_auth("bob", "bob's secret"))[0] == 200, wrong


@suite.test
def unknown_user_as_slow_as_the_slowest_scheme():
    """A file of two schemes, the fast one first: an unknown user is checked against the
    slowest (yescrypt), not the first entry (sha512crypt); -t says the file mixes them."""
    path = os.path.join(S["dir"], "htpasswd-mixed")
    with open(path, "w") as f:
        f.write("first:%s\nann:%s\n" % (sha512crypt("first's secret"), yescrypt("ann's secret")))
    web = S["mixed"] = Web(S["dir"], "mixed", S["gate"].control, htpasswd=path).start()

    def took(user):
        t0 = time.time()
        assert web.request("GET", "/", basic_auth(user, "guess"))[0] == 401
        return time.time() - t0
    known = min(took("ann") for _ in range(3))
    unknown = min(took("nobody-%d" % i) for i in range(3))
    print("# yescrypt user %.4f s, unknown user %.4f s" % (known, unknown))
    assert unknown > known / 2, (known, unknown)
    r = subprocess.run([WEBD, "-t", "-c", web.conf_path], capture_output=True, text=True)
    assert r.returncode == 0 and "more than one hash scheme or cost" in r.stderr, r.stderr


@suite.test
def viewers_and_admins():
    before = len(S["web"].web_events())
    st, h, page, _ = S["web"].request("GET", "/", as_user("mallory"))
    assert st == 403 and "not a viewer" in page, (st, page)
    ev = S["web"].events_after(before)[-1]
    assert ev.get("reason") == "not-a-viewer" and ev.get("actor") == "mallory", ev
    st, h, page, _ = S["web"].request("GET", "/why?q=" + ALICE, as_user("helen"))
    assert st == 200 and 'id="account"' in page, (st, page[-2000:])
    assert 'class="lock"' not in page and 'class="unlock"' not in page, "helen sees a button"
    st, h, page, _ = S["web"].request("GET", "/why?q=" + ALICE, as_user("admin"))
    assert st == 200 and re.search(r'<form class="(un)?lock"', page), page[-2000:]


@suite.test
def csrf_refusals():
    key = "csrf-victim@example.test"
    assert control("lock\tjson\t%s\tfor=600" % key).startswith("OK"), "lock"
    cookie, token = admin_session(key)
    # helen's own page has no form: she forges one with her own cookie and the admin's token
    _, _, _, helen_sc = S["web"].request("GET", "/", as_user("helen"))
    cases = [
        ("no-cookie", as_user("admin"), token, "bad-token"),
        ("wrong-token", as_user("admin", Cookie=cookie), "0" * 64, "bad-token"),
        ("no-token", as_user("admin", Cookie=cookie), None, "bad-token"),
        ("foreign-origin", as_user("admin", Cookie=cookie, Origin="https://evil.example"),
         token, "foreign-origin"),
        ("cross-site", as_user("admin", Cookie=cookie, **{"Sec-Fetch-Site": "cross-site"}),
         token, "cross-site"),
        ("same-site", as_user("admin", Cookie=cookie, **{"Sec-Fetch-Site": "same-site"}),
         token, "cross-site"),
        ("not-admin", as_user("helen", Cookie=cookie_of(helen_sc)), token, "not-an-admin"),
    ]
    for name, headers, tok, reason in cases:
        before = len(S["web"].web_events())
        fields = {"target": key}
        if tok is not None:
            fields["csrf"] = tok
        st, h, page, _ = post(S["web"], "/unlock", fields, headers)
        assert st == 403 and 'id="error"' in page, (name, st, page[-1000:])
        security_headers(h, name)
        ev = S["web"].events_after(before)
        assert len(ev) == 1, (name, ev)
        assert (ev[0].get("action"), ev[0].get("target"), ev[0].get("result"),
                ev[0].get("reason")) == ("unlock", key, "refused", reason), (name, ev[0])
        assert locked(key), "%s: the lock is gone" % name


@suite.test
def origin_of_the_page_and_null_pass():
    key = "origin-ok@example.test"
    for origin in ("http://127.0.0.1:%d" % S["web"].port, "null"):
        assert control("lock\tjson\t%s\tfor=600" % key).startswith("OK")
        cookie, token = admin_session(key)
        st, h, page, _ = post(S["web"], "/unlock", {"target": key, "csrf": token},
                              as_user("admin", Cookie=cookie, Origin=origin,
                                      **{"Sec-Fetch-Site": "same-origin"}))
        assert st == 303, (origin, st, page[-1000:])
        assert not locked(key), origin


@suite.test
def unlock_lifts_the_lock_in_policyd():
    key = "jane@example.test"
    before = len(S["web"].web_events())
    assert control("lock\tjson\t%s\tfor=600" % key).startswith("OK")
    assert locked(key)
    cookie, token = admin_session(key)
    st, h, page, _ = post(S["web"], "/unlock", {"target": key, "csrf": token},
                          as_user("admin", Cookie=cookie))
    assert st == 303, (st, page[-1000:])
    security_headers(h, "303")
    assert h["location"] == "why?q=" + urllib.parse.quote(key, safe="") + "&done=unlocked", h
    assert not locked(key), "still locked"
    ev = S["web"].events_after(before)[-1]
    assert (ev.get("action"), ev.get("target"), ev.get("actor"), ev.get("result")) == \
        ("unlock", key, "admin", "ok"), ev
    admin = S["gate"].events("admin")
    assert admin and admin[-1].get("action") == "unlock" and \
        admin[-1].get("actor") == "web:admin", admin[-1:]
    # The page the redirect leads to says what was done.
    st, h, page, _ = S["web"].request("GET", "/" + h["location"], as_user("admin", Cookie=cookie))
    assert st == 200 and 'id="flash"' in page, (st, page[-2000:])


@suite.test
def flash_only_when_the_state_agrees():
    """done= in a link says nothing the page's own state does not: "unlocked" of a locked key
    or "locked" of a free one shows no flash."""
    key = "flash-check@example.test"
    assert control("lock\tjson\t%s\tfor=600" % key).startswith("OK")
    q = "/why?q=" + urllib.parse.quote(key)
    for done, want in (("unlocked", False), ("locked", True)):
        st, h, page, _ = S["web"].request("GET", q + "&done=" + done, as_user("helen"))
        assert st == 200 and ('id="flash"' in page) == want, (done, st, page[-1500:])
    assert control("unlock\tjson\t%s" % key).startswith("OK")
    for done, want in (("unlocked", True), ("locked", False)):
        st, h, page, _ = S["web"].request("GET", q + "&done=" + done, as_user("helen"))
        assert st == 200 and ('id="flash"' in page) == want, (done, st, page[-1500:])
    st, h, page, _ = S["web"].request("GET", "/why?q=ZZZZZZZZZZ&done=unlocked", as_user("helen"))
    assert 'id="flash"' not in page, page[-1500:]
    # an address: policyd keys it by its network (192.0.2.99/32), the forms send the address
    addr = "192.0.2.99"
    assert control("lock\tjson\t%s\tfor=600" % addr).startswith("OK")
    try:
        for done, want in (("locked", True), ("unlocked", False)):
            st, h, page, _ = S["web"].request("GET", "/why?q=%s&done=%s" % (addr, done),
                                              as_user("helen"))
            assert st == 200 and ('id="flash"' in page) == want, (done, st, page[-1500:])
    finally:
        assert control("unlock\tjson\t%s" % addr).startswith("OK")
    st, h, page, _ = S["web"].request("GET", "/why?q=%s&done=unlocked" % addr, as_user("helen"))
    assert 'id="flash"' in page, page[-1500:]


@suite.test
def actor_is_web_user_and_a_long_name_is_refused():
    """policyd's event=admin names the page's user as web:USER; its actor= holds 128 bytes, so a
    user name over 124 bytes gets a clear 403 (logged), and one of 124 bytes acts."""
    ok_name, long_name = "a" * 124, "b" * 125
    web = S["longuser"] = Web(S["dir"], "longuser", S["gate"].control,
                              trusted_proxies="127.0.0.1/32",
                              admins="%s %s" % (ok_name, long_name)).start()
    key = "actor-check@example.test"
    for name, want in ((long_name, 403), (ok_name, 303)):
        st, h, page, sc = web.request("GET", "/why?q=" + urllib.parse.quote(key), as_user(name))
        assert st == 200, (st, page[-500:])
        cookie, token = cookie_of(sc), form_tokens(page)[1]
        before = len(web.web_events())
        st, h, page, _ = post(web, "/lock", {"target": key, "csrf": token},
                              as_user(name, Cookie=cookie))
        assert st == want, (len(name), st, page[-800:])
        ev = web.events_after(before)[-1]
        if want == 403:
            assert "longer than 124 bytes" in page, page[-800:]
            assert (ev.get("result"), ev.get("reason"), ev.get("actor")) == \
                ("refused", "user-too-long", long_name), ev
            assert not locked(key)
        else:
            assert ev.get("result") == "ok", ev
            admin = S["gate"].events("admin")
            assert admin[-1].get("actor") == "web:" + ok_name, admin[-1:]


@suite.test
def lock_through_the_page():
    key = "locked-by-page@example.test"
    cookie, token = admin_session(key)
    st, h, page, _ = post(S["web"], "/lock", {"target": key, "csrf": token},
                          as_user("admin", Cookie=cookie))
    assert st == 303 and h["location"].endswith("&done=locked"), (st, h, page[-1000:])
    assert locked(key)
    import json
    account = json.loads(control("why\tjson\t" + key)[3:])["account"]
    assert 7000 < int(account["seconds_left"]) <= 7200, account     # lock_time = 2h


@suite.test
def secure_cookie_behind_https_proxy():
    st, h, page, sc = S["web"].request("GET", "/", as_user("helen", **{"X-Forwarded-Proto":
                                                                      "https"}))
    assert st == 200 and "; Secure" in cookie_line(sc), sc
    # the same header from an address that is not trusted says nothing
    st, h, page, sc = S["basic"].request("GET", "/", dict(basic_auth("bob", "bob's secret"),
                                                          **{"X-Forwarded-Proto": "https"}))
    assert st == 200 and "Secure" not in cookie_line(sc), sc
    # a browser that has the cookie keeps it: none is set again
    cookie = cookie_of(sc)
    st, h, page, sc = S["basic"].request("GET", "/", dict(basic_auth("bob", "bob's secret"),
                                                          Cookie=cookie))
    assert st == 200 and sc == [], sc


def cookie_line(set_cookies):
    return [c for c in set_cookies if c.startswith("authguard_csrf=")][0]


@suite.test
def security_headers_everywhere():
    answers = [
        S["web"].request("GET", "/", as_user("helen")),
        S["web"].request("GET", "/why?q=" + ALICE, as_user("helen")),
        S["web"].request("GET", "/style.css"),
        S["web"].request("GET", "/healthz"),
        S["web"].request("GET", "/no/such/page", as_user("helen")),
        S["web"].request("DELETE", "/", as_user("helen")),
        S["web"].request("GET", "/unlock", as_user("helen")),
        S["basic"].request("GET", "/"),
    ]
    for st, h, body, _ in answers:
        security_headers(h, "status %d" % st)
    assert [a[0] for a in answers] == [200, 200, 200, 200, 404, 405, 405, 401], \
        [a[0] for a in answers]
    assert answers[2][1]["content-type"].startswith("text/css")
    assert answers[3][2] == "ok\n"


@suite.test
def policyd_down_502_then_back():
    gate = S["gate"]
    gate.stop()
    try:
        st, h, page, _ = S["web"].request("GET", "/why?q=" + ALICE, as_user("helen"))
        assert st == 502 and 'id="error"' in page, (st, page[-1000:])
        assert "authguard-policyd does not answer" in page and "cannot reach" not in page \
            and gate.control not in page, page[-1000:]
        security_headers(h, "502")
        st, h, body, _ = S["web"].request("GET", "/healthz")
        assert st == 503, (st, body)
        want = "control socket %s: why: cannot reach" % gate.control
        assert want in S["web"].wait_log(lambda t: want in t)
    finally:
        gate.start()
    st, h, page, _ = S["web"].request("GET", "/why?q=" + ALICE, as_user("helen"))
    assert st == 200, (st, page[-1000:])
    assert S["web"].request("GET", "/healthz")[0] == 200


class FakeControl:
    """A control socket that answers late (delay s) or with garbage."""

    def __init__(self, path, delay, answer):
        self.path, self.delay, self.answer = path, delay, answer
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.bind(path)
        self.s.listen(16)
        self.stopped = False
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while not self.stopped:
            try:
                c, _ = self.s.accept()
            except OSError:
                return
            threading.Thread(target=self.one, args=(c,), daemon=True).start()

    def one(self, c):
        try:
            c.recv(4096)
            time.sleep(self.delay)
            c.sendall(self.answer)
        except OSError:
            pass
        finally:
            c.close()

    def stop(self):
        self.stopped = True
        self.s.close()


@suite.test
def slow_or_garbage_control_does_not_hang_others():
    path = os.path.join(S["dir"], "slow-control")
    fake = FakeControl(path, 5, b"OK\n{}")
    S["slow"] = web = Web(S["dir"], "slow", path, trusted_proxies="127.0.0.1/32").start()
    try:
        results = {}

        def slow():
            t0 = time.time()
            results["slow"] = (web.request("GET", "/why?q=x", as_user("helen"))[0],
                               time.time() - t0)
        threads = [threading.Thread(target=slow) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.2)
        t0 = time.time()
        st = web.request("GET", "/", as_user("helen"))[0]
        quick = time.time() - t0
        css = web.request("GET", "/style.css")[0]
        for t in threads:
            t.join(10)
        print("# search page %.3f s while 3 questions wait; the slow one: %r" % (quick,
                                                                                results["slow"]))
        assert st == 200 and css == 200 and quick < 0.5, (st, quick)
        assert results["slow"][0] == 502 and 0.9 < results["slow"][1] < 3, results
        assert "no answer within the control_timeout" in web.wait_log(
            lambda t: "control_timeout" in t)
        fake.delay, fake.answer = 0, b"\x00\xffgarbage{{{\n"
        st, h, page, _ = web.request("GET", "/why?q=x", as_user("helen"))
        assert st == 502 and "cannot be read" in page, (st, page[-800:])
        fake.answer = b"ERR unknown command: overview\n"
        st, h, page, _ = web.request("GET", "/overview", as_user("helen"))
        assert st == 502 and "unknown command: overview" in page, (st, page[-800:])
        fake.answer = b"OK\n" + b"[" * 200000
        st, h, page, _ = web.request("GET", "/overview", as_user("helen"))
        assert st == 502, st
        fake.answer = b"OK\n" + b" " * (1 << 20) + b"{}"
        st, h, page, _ = web.request("GET", "/overview", as_user("helen"))
        assert st == 502, st
        assert "answer longer than 1048576 bytes" in web.wait_log(
            lambda t: "answer longer" in t)
        assert web.request("GET", "/", as_user("helen"))[0] == 200
    finally:
        fake.stop()


@suite.test
def oversized_and_malformed_input():
    web = S["web"]
    cases = [
        ("GET", "/why?q=" + "a" * 600, None, 400, "q: a control byte"),
        ("GET", "/why?q=a%09b", None, 400, "q: a control byte"),
        # refused by libmicrohttpd before a request exists: its own message, with the listener
        # (0.9.75 of Debian 12 and 1.0.1 of Debian 13 word it differently)
        ("GET", "/why?q=" + "a" * 40000, None, 414,
         re.compile(r"warning: web_listen: Error processing request \(HTTP response code is 414 "
                    r"\('<html><head><title>Request too big</title></head><body>(Your HTTP header "
                    r"was|Request HTTP header is) too big for the memory constraints of this "
                    r"webserver\.</body></html>'\)\)"
                    r"\. Closing connection\.\n")),
        ("POST", "/unlock", "target=%zz&csrf=1", 400, "a malformed form"),
        ("POST", "/unlock", "target=a&target=b", 400, "a malformed form"),
        ("POST", "/unlock", "target=" + "a" * 5000, 413,
         re.compile(r"web_listen: POST /unlock from 127\.0\.0\.1: 413 (Content|Payload) Too "
                    r"Large\n")),
    ]
    for method, path, body, want, logged in cases:
        if want in (414, 413):
            # refusals are logged once per 10 s: each of these on a daemon of its own
            web = Web(S["dir"], "refuse%d" % want, S["gate"].control,
                      trusted_proxies="127.0.0.1/32").start()
            S.setdefault("refusers", []).append(web)
        else:
            web = S["web"]
        before = web.log_text()
        h = as_user("admin", Cookie="authguard_csrf=" + "0" * 32)
        if body is not None:
            h["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            st, hd, page, _ = web.request(method, path, h, body)
        except (ConnectionError, http.client.HTTPException) as e:
            st = "closed: %s" % e
        assert st == want, (path[:60], st, want)
        if want in (414, 413):
            # this request's own line (the first refusal of its daemon: not held back)
            log = web.wait_log(lambda t: logged.search(t[len(before):]), 2)[len(before):]
            assert logged.search(log), (path[:60], log[-800:])
        else:
            log = web.wait_log(lambda t: logged in t[len(before):], 0.5)[len(before):]
            assert logged in log, (path[:60], log[-800:])
    assert S["web"].request("GET", "/", as_user("helen"))[0] == 200
    for web in S.pop("refusers"):
        assert web.stop() == 0, web.log_text()[-2000:]


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=5):
        http.client.HTTPConnection.__init__(self, "localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def unix_get(path, headers):
    c = UnixHTTPConnection(path)
    c.request("GET", "/why?q=" + ALICE, headers=headers)
    r = c.getresponse()
    page = r.read().decode()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, page


@suite.test
def unix_socket_listener():
    """A unix web_listen: made with its mode, removed when the daemon stops; its peer's user
    header believed only with the word unix in trusted_proxies."""
    path = os.path.join(S["dir"], "web-http")
    for trusted, want in (("", 403), ("unix", 200)):
        web = Web(S["dir"], "unix" + trusted, S["gate"].control, web_listen="unix:" + path,
                  web_socket_mode="0600", trusted_proxies=trusted)
        web.start()
        try:
            assert oct(os.stat(path).st_mode & 0o777) == "0o600", oct(os.stat(path).st_mode)
            st, h, page = unix_get(path, {"X-Remote-User": "proxyuser"})
            assert st == want, (trusted, st, page[-500:])
            security_headers(h, "unix")
            if want == 200:
                assert '<span id="whoami">proxyuser</span>' in page
            else:
                want_log = "X-Remote-User from unix, not in trusted_proxies: ignored"
                assert want_log in web.wait_log(lambda t: want_log in t), web.log_text()
        finally:
            rc = web.stop()
        assert rc == 0, (rc, web.log_text()[-2000:])
        assert not os.path.exists(path), "the socket is left behind"


def raw_request(port, lines):
    """One request written by hand (headers that repeat): (status, whole answer)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        out = b""
        while b"\r\n\r\n" not in out:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    text = out.decode("utf-8", "replace")
    return int(text.split(" ", 2)[1]), text


@suite.test
def proxy_headers_twice_refused():
    for name, v1, v2 in (("X-Remote-User", "helen", "admin"),
                         ("X-Forwarded-Proto", "https", "http"),
                         ("X-Forwarded-Host", "a.example", "b.example"),
                         ("X-Forwarded-For", "192.0.2.7", "192.0.2.8")):
        before = len(S["web"].web_events())
        lines = ["GET / HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
        if name != "X-Remote-User":
            lines.append("X-Remote-User: helen")
        lines += ["%s: %s" % (name, v1), "%s: %s" % (name.lower(), v2)]
        st, text = raw_request(S["web"].port, lines)
        assert st == 400, (name, text[:500])
        ev = S["web"].events_after(before)
        assert len(ev) == 1 and (ev[0].get("reason"), ev[0].get("header")) == \
            ("header-twice", name), (name, ev)
    st, text = raw_request(S["web"].port, ["GET / HTTP/1.1", "Host: 127.0.0.1",
                                           "Connection: close", "X-Remote-User: helen"])
    assert st == 200, text[:500]


@suite.test
def libmicrohttpd_own_answers_as_documented():
    """authguard-web(8): libmicrohttpd's own 431 (and 400) carry none of the page's headers."""
    st, text = raw_request(S["web"].port, ["GET / HTTP/1.1", "Host: x", "Connection: close",
                                           "X-Remote-User: helen", "X-Big: " + "a" * 40000])
    assert st == 431 and "content-security-policy" not in text.lower(), text[:500]
    st, text = raw_request(S["web"].port, ["GET / HTTP/1.1", "Host: x", "Bad Header"])
    assert st == 400 and "content-security-policy" not in text.lower(), text[:500]


@suite.test
def proxy_secret_required():
    web = S["secret"] = Web(S["dir"], "secret", S["gate"].control,
                            trusted_proxies="127.0.0.1/32",
                            proxy_secret="X-Authguard-Proxy: 5ec2e7a1b2c3d4e5")
    web.start()
    assert "without proxy_secret" not in web.log_text(), web.log_text()
    for secret, want in ((None, 403), ("5ec2e7a1b2c3d4e6", 403), ("5ec2e7a1b2c3d4e", 403),
                         ("5ec2e7a1b2c3d4e5", 200)):
        h = as_user("helen")
        if secret is not None:
            h["X-Authguard-Proxy"] = secret
        st, hd, page, _ = web.request("GET", "/", h)
        assert st == want, (secret, st, page[-500:])
    want_log = "X-Remote-User from 127.0.0.1 without the right proxy_secret: ignored"
    log = web.wait_log(lambda t: want_log in t)
    assert want_log in log and "5ec2e7a1b2c3d4e" not in log, log
    st, text = raw_request(web.port, ["GET / HTTP/1.1", "Host: x", "Connection: close",
                                      "X-Remote-User: helen",
                                      "X-Authguard-Proxy: 5ec2e7a1b2c3d4e5",
                                      "X-Authguard-Proxy: 5ec2e7a1b2c3d4e5"])
    assert st == 403, text[:300]


def hosts_web():
    """An authguard-web with host_names, behind a trusted proxy (127.0.0.1)."""
    if not S.get("hosts"):
        S["hosts"] = Web(S["dir"], "hosts", S["gate"].control, trusted_proxies="127.0.0.1/32",
                         host_names="helpdesk.example.test [::1]").start()
    return S["hosts"]


@suite.test
def host_names_listed_served_others_421():
    """With host_names, a listed Host (any case, a port) is served; another gets 421 with a
    page and one escaped line (the second is counted, not logged), every page but /healthz."""
    web = hosts_web()
    for host in ("helpdesk.example.test", "HelpDesk.Example.TEST:8443", "[::1]:8026"):
        st, h, page, _ = web.request("GET", "/", as_user("helen", Host=host))
        assert st == 200 and 'id="search"' in page, (host, st, page[-500:])
    before = len(web.web_events())
    hostile = 'evil.example" reason=ok x=\x1b'
    st, h, page, _ = web.request("GET", "/", as_user("helen", Host=hostile))
    assert st == 421 and 'id="error"' in page and "421 Misdirected request" in page, \
        (st, page[-500:])
    security_headers(h, "421")
    for path in ("/why?q=" + ALICE, "/overview", "/style.css", "/no/such/page",
                 "/healthz/x"):
        st, h, page, _ = web.request("GET", path, as_user("helen", Host="127.0.0.1"))
        assert st == 421, (path, st, page[-300:])
    st, h, page, _ = post(web, "/unlock", {"target": ALICE, "csrf": "0" * 64},
                          as_user("admin", Host="evil.example"))
    assert st == 421, (st, page[-300:])
    ev = web.events_after(before)
    assert len(ev) == 1, ev
    assert (ev[0].get("action"), ev[0].get("host"), ev[0].get("result"),
            ev[0].get("reason")) == ("request", hostile, "refused", "host-not-listed"), ev
    assert "\x1b" not in ev[0]["_line"], ev


@suite.test
def host_names_checked_before_sign_on():
    """An unlisted Host gets 421 before basic authentication: no crypt(3), no failure counted;
    X-Forwarded-Host from a peer that is not trusted does not count."""
    web = S["hostsbasic"] = Web(S["dir"], "hostsbasic", S["gate"].control,
                                trusted_proxies="192.0.2.0/24", htpasswd=S["htpasswd"],
                                host_names="helpdesk.example.test")
    web.start()
    before = len(web.web_events())
    for _ in range(12):
        st, h, page, _ = web.request("GET", "/", dict(basic_auth("helen", "guess"),
                                                      Host="evil.example"))
        assert st == 421 and "www-authenticate" not in h, (st, h)
    st, h, page, _ = web.request("GET", "/", dict(basic_auth("helen", "helen's secret"),
                                                  Host="evil.example",
                                                  **{"X-Forwarded-Host":
                                                     "helpdesk.example.test"}))
    assert st == 421, st
    ev = web.events_after(before)
    assert [e.get("reason") for e in ev] == ["host-not-listed"], ev
    # Not one failure counted: the right password still passes at once.
    st, h, page, _ = web.request("GET", "/", dict(basic_auth("helen", "helen's secret"),
                                                  Host="helpdesk.example.test:8026"))
    assert st == 200 and '<span id="whoami">helen</span>' in page, (st, page[-500:])


@suite.test
def host_names_trusted_proxy_forwarded_host_counts():
    """From a trusted proxy, X-Forwarded-Host is the host the browser asked: it is checked,
    not the proxy's own Host."""
    web = hosts_web()
    st, h, page, _ = web.request("GET", "/", as_user("helen", Host="127.0.0.1:8026",
                                                     **{"X-Forwarded-Host":
                                                        "helpdesk.example.test"}))
    assert st == 200 and 'id="search"' in page, (st, page[-500:])
    st, h, page, _ = web.request("GET", "/", as_user("helen", Host="helpdesk.example.test",
                                                     **{"X-Forwarded-Host":
                                                        "rebound.example"}))
    assert st == 421, (st, page[-500:])


@suite.test
def host_names_forwarded_host_needs_the_proxy_secret():
    """With proxy_secret, a trusted peer's X-Forwarded-Host counts only with the right
    secret: without it, the request's own Host is checked."""
    web = S["hostssecret"] = Web(S["dir"], "hostssecret", S["gate"].control,
                                 trusted_proxies="127.0.0.1/32",
                                 proxy_secret="X-Authguard-Proxy: s3cret",
                                 host_names="helpdesk.example.test").start()
    fwd = {"X-Forwarded-Host": "helpdesk.example.test"}
    for secret in (None, "wrong"):
        more = dict(fwd, **({"X-Authguard-Proxy": secret} if secret else {}))
        st, h, page, _ = web.request("GET", "/", as_user("helen", Host="rebound.example",
                                                         **more))
        assert st == 421, (secret, st, page[-300:])
    st, h, page, _ = web.request("GET", "/", as_user(
        "helen", Host="rebound.example", **dict(fwd, **{"X-Authguard-Proxy": "s3cret"})))
    assert st == 200 and 'id="search"' in page, (st, page[-500:])


@suite.test
def host_names_healthz_answers_any_host():
    web = hosts_web()
    for method in ("GET", "HEAD"):
        st, h, body, _ = web.request(method, "/healthz", {"Host": "192.0.2.1:8026"})
        assert st == 200 and body == ("ok\n" if method == "GET" else ""), (method, st, body)


@suite.test
def host_names_unset_any_host_served():
    for host in ("evil.example", "127.0.0.1", "rebound.example:80"):
        st, h, page, _ = S["web"].request("GET", "/", as_user("helen", Host=host))
        assert st == 200 and 'id="search"' in page, (host, st, page[-500:])
    st, h, body, _ = S["web"].request("GET", "/style.css", {"Host": "evil.example"})
    assert st == 200, st


@suite.test
def config_check_and_refusals():
    d = S["dir"]
    ok = Web(d, "check", S["gate"].control, htpasswd=S["htpasswd"])
    r = subprocess.run(ok.argv()[:1] + ["-t", "-c", ok.conf_path], capture_output=True, text=True)
    assert r.returncode == 0 and "configuration ok" in r.stdout, (r.stdout, r.stderr)
    bad = Web(d, "public", S["gate"].control)
    with open(bad.conf_path, "a") as f:
        f.write("web_listen = inet:0.0.0.0:8026\n")
    r = subprocess.run([WEBD, "-t", "-c", bad.conf_path], capture_output=True, text=True)
    assert r.returncode != 0 and "loopback" in r.stderr, r.stderr
    apr = os.path.join(d, "htpasswd-apr1")
    with open(apr, "w") as f:
        f.write("old:$apr1$abcdefgh$0123456789abcdefghijkl\n")
    bad = Web(d, "apr1", S["gate"].control, htpasswd=apr)
    r = subprocess.run([WEBD, "-t", "-c", bad.conf_path], capture_output=True, text=True)
    assert r.returncode != 0 and "apr1" in r.stderr and ":1:" in r.stderr, r.stderr
    bad = Web(d, "nouser", S["gate"].control, user="no-such-user-here")
    r = subprocess.run([WEBD, "-t", "-c", bad.conf_path], capture_output=True, text=True)
    assert r.returncode != 0 and "no-such-user-here: no such user" in r.stderr, r.stderr
    bad = Web(d, "mode", S["gate"].control, web_listen="unix:" + os.path.join(d, "w-http"),
              web_socket_mode="0666")
    r = subprocess.run([WEBD, "-t", "-c", bad.conf_path], capture_output=True, text=True)
    assert r.returncode != 0 and "others may not write" in r.stderr, r.stderr
    bad = Web(d, "fast", S["gate"].control, control_timeout="10ms")
    r = subprocess.run([WEBD, "-t", "-c", bad.conf_path], capture_output=True, text=True)
    assert r.returncode != 0 and "control_timeout: want at least 100ms" in r.stderr, r.stderr
    both = Web(d, "both", S["gate"].control, htpasswd=S["htpasswd"],
               trusted_proxies="127.0.0.1", proxy_secret="X-S: abc")
    r = subprocess.run([WEBD, "-t", "-c", both.conf_path], capture_output=True, text=True)
    assert r.returncode == 0 and "htpasswd is set, and X-Remote-User from trusted_proxies is " \
        "believed too" in r.stderr and "without proxy_secret" not in r.stderr, r.stderr
    nosecret = Web(d, "nosecret", S["gate"].control, trusted_proxies="127.0.0.1")
    r = subprocess.run([WEBD, "-t", "-c", nosecret.conf_path], capture_output=True, text=True)
    assert r.returncode == 0 and "trusts trusted_proxies without proxy_secret" in r.stderr \
        and "believed too" not in r.stderr, r.stderr
    v6 = Web(d, "v6", S["gate"].control)
    with open(v6.conf_path, "a") as f:
        f.write("web_listen = inet:[::1]:%d\n" % free_port())
    v6.start()
    assert "started: web_listen inet:[::1]:" in v6.log_text(), v6.log_text()
    assert v6.stop() == 0


@suite.test
def why_of_100_attempts_response_time():
    """The answer page of an account with 100 recent attempts (failures, then the lock's
    refusals, and good logins), through the whole path: HTTP, the control socket, the page."""
    c = GateClient(S["gate"].socket)
    for i in range(100):        # at once: a refusal's delay runs beside the others
        pw = "dave's password" if i % 10 == 9 else "guess %d" % i
        c.send(auth_line(1000 + i, "PLAIN", resp=b64("\0%s\0%s" % (DAVE, pw)),
                         rip="192.0.2.%d" % (i % 50 + 1)))
    for i in range(100):
        c.line()
    c.close()
    times = []
    for _ in range(20):
        t0 = time.time()
        st, h, page, _ = S["web"].request("GET", "/why?q=" + DAVE, as_user("admin"))
        times.append(time.time() - t0)
        assert st == 200, st
    rows = page.count("<tr data-ref=")
    times.sort()
    print("# why of an account with 100 attempts: %d rows, %d bytes, median %.1f ms, "
          "max %.1f ms" % (rows, len(page), times[10] * 1000, times[-1] * 1000))
    assert rows >= 100, rows
    assert times[10] < 0.5, times


if __name__ == "__main__":
    suite.run(setup, teardown)

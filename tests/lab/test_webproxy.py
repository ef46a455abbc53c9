#!/usr/bin/env python3
"""conf-examples/nginx-authguard-web.conf in front of the real authguard-web.

Debian's nginx runs the example file as it is, with only its machine-specific paths replaced
(the lab's certificate, a password file of the test's, free ports; each replacement must find
what it replaces), in front of the real authguard-web, which asks the real authguard-policyd
in front of the lab's real Postfix and Dovecot. Through nginx over TLS:

- a user nginx authenticated sees the pages under /authguard/, named in #whoami; a user nginx
  let in who is not a viewer gets 403 from authguard-web;
- without nginx's authentication nothing gets through, also not with a client-sent
  X-Remote-User; an authenticated user who sends one stays who nginx says;
- every link, stylesheet and form action of the pages resolves under the prefix and answers;
- a real failed SMTP login's ref, typed into the search form, shows its cause;
- an admin's lock and unlock buttons work through the proxy (the Origin check sees the
  browser's Host with its port, the CSRF cookie is Secure behind https) and their redirects
  land under the prefix;
- the example's other way, authguard-web on a unix socket of nginx's group, works with nginx's
  workers as www-data, and no other local user can connect to that socket.

The example configuration of authguard-web and its man page are checked against the daemon:
every key it takes, named in both, and its options."""

import base64
import grp
import html.parser
import http.client
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gatelab  # noqa: E402
from gatelab import Gate, b64, new_gate_dir, ref_of, teardown_suite  # noqa: E402
from lab import Lab, free_port, tcp_accepts, wait_until  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("webproxy")
S = {}
TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
EXAMPLE = os.path.join(TOP, "conf-examples", "nginx-authguard-web.conf")
WEB = os.path.join(gatelab.BUILD, "authguard-web")
NGINX = "/usr/sbin/nginx"
PREFIX = "/authguard/"
# nginx's users: jane may act, tom may look, eve is known to nginx only.
PASSWORDS = {"jane": "Jane-Page-1", "tom": "Tom-Page-1", "eve": "Eve-Page-1"}
CTX = ssl._create_unverified_context()
PROXY_SECRET = "3f1c0ffee0ddba11deadbeef00c0ffee"


# --- the daemons --------------------------------------------------------------------------------

class Web:
    """authguard-web in the foreground, on a loopback port, asking the gate's control socket."""
    name = "authguard-web"

    def __init__(self, d, control, **conf):
        self.dir = d
        self.port = free_port()
        self.conf_path = os.path.join(d, "authguard-web.conf")
        self.log = os.path.join(d, "web.log")
        self.proc = None
        settings = {"web_listen": "inet:127.0.0.1:%d" % self.port, "control_socket": control,
                    "trusted_proxies": "127.0.0.1/32", "user_header": "X-Remote-User",
                    "proxy_secret": "X-Authguard-Proxy: " + PROXY_SECRET,
                    "viewers": "jane tom", "admins": "jane", "user": "root"}
        settings.update(conf)
        with open(self.conf_path, "w") as f:
            for k, v in settings.items():
                f.write("%s = %s\n" % (k, v))

    def start(self, socket_path=None):
        log = open(self.log, "ab")
        self.proc = subprocess.Popen([WEB, "-f", "-c", self.conf_path], stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log, start_new_session=True)
        log.close()
        wait_until(lambda: self.proc.poll() is not None or (
            os.path.exists(socket_path) if socket_path else tcp_accepts(self.port)), 10,
            "authguard-web's listener")
        assert self.proc.poll() is None, "authguard-web exited:\n" + self.log_text()
        return self

    def stop(self):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc, self.proc = self.proc.returncode, None
        return rc

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()


def replace_once(text, old, new):
    """The example with old replaced by new: old must be there, exactly once."""
    assert text.count(old) == 1, "%r is %d times in %s" % (old, text.count(old), EXAMPLE)
    return text.replace(old, new)


class Nginx:
    """Debian's nginx with the example site, its machine paths replaced, in a main
    configuration of its own (prefix, pid, logs and temporary files in d)."""
    name = "nginx"

    def __init__(self, d, cert, key, web_port, worker="root"):
        """web_port: authguard-web's loopback port, or the path of its unix socket (then as
        the example's comment says); worker: the user of nginx's worker processes."""
        self.dir = d
        self.port = free_port()
        self.log = os.path.join(d, "error.log")
        self.htpasswd = os.path.join(d, "htpasswd")
        with open(self.htpasswd, "w") as f:
            for user, pw in PASSWORDS.items():
                h = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=pw,
                                   capture_output=True, text=True, check=True).stdout.strip()
                f.write("%s:%s\n" % (user, h))
        with open(EXAMPLE) as f:
            site = f.read()
        site = replace_once(site, "listen 443 ssl;", "listen 127.0.0.1:%d ssl;" % self.port)
        site = replace_once(site, "listen [::]:443 ssl;", "")
        site = replace_once(site, "/etc/ssl/certs/ssl-cert-snakeoil.pem", cert)
        site = replace_once(site, "/etc/ssl/private/ssl-cert-snakeoil.key", key)
        site = replace_once(site, "auth_basic_user_file /etc/nginx/authguard-web.htpasswd;",
                            "auth_basic_user_file %s;" % self.htpasswd)
        if isinstance(web_port, int):
            upstream = "http://127.0.0.1:%d/" % web_port
        else:
            upstream = "http://unix:%s:/" % web_port
            assert "# and below: proxy_pass http://unix:/run/authguard-web/http:/;" in site
        site = replace_once(site, 'X-Authguard-Proxy "@PROXY_SECRET@";',
                            'X-Authguard-Proxy "%s";' % PROXY_SECRET)
        site = replace_once(site, "proxy_pass http://127.0.0.1:8026/;",
                            "proxy_pass %s;" % upstream)
        self.site = os.path.join(d, "site.conf")
        with open(self.site, "w") as f:
            f.write(site)
        self.conf = os.path.join(d, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write("""daemon off;
user %(worker)s;
worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log info;
events { worker_connections 64; }
http {
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	access_log %(d)s/access.log;
	client_body_temp_path %(d)s/body;
	proxy_temp_path %(d)s/proxy;
	fastcgi_temp_path %(d)s/fastcgi;
	uwsgi_temp_path %(d)s/uwsgi;
	scgi_temp_path %(d)s/scgi;
	include %(site)s;
}
""" % {"d": d, "site": self.site, "worker": worker})
        if worker != "root":            # as the guide has it: group www-data, 0640
            shutil.chown(self.htpasswd, group=worker)
            os.chmod(self.htpasswd, 0o640)
        self.proc = None

    def start(self):
        r = subprocess.run([NGINX, "-t", "-p", self.dir, "-c", self.conf], capture_output=True,
                           text=True)
        assert r.returncode == 0, "nginx -t:\n" + r.stderr
        log = open(os.path.join(self.dir, "stderr.log"), "ab")
        self.proc = subprocess.Popen([NGINX, "-p", self.dir, "-c", self.conf],
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                     start_new_session=True)
        log.close()
        wait_until(lambda: self.proc.poll() is not None or tcp_accepts(self.port), 10,
                   "nginx's listener")
        assert self.proc.poll() is None, "nginx exited:\n" + self.log_text()
        return self

    def stop(self):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)        # nginx's graceful stop
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        rc, self.proc = self.proc.returncode, None
        return rc

    def log_text(self):
        out = ""
        for name in ("stderr.log", "error.log"):
            try:
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    out += f.read()
            except OSError:
                pass
        return out


def setup():
    assert os.access(NGINX, os.X_OK), "Debian's nginx is not installed (package nginx)"
    assert os.access(WEB, os.X_OK), "%s is not built" % WEB
    d = S["dir"] = new_gate_dir()
    S["lab"] = lab = Lab(sasl_path=os.path.join(d, "auth"))
    lab.start_dovecot()
    S["gate"] = Gate(lab, d, account_fail_limit="5/10m").start()
    lab.start_postfix()
    wd = os.path.join(d, "web")
    os.makedirs(wd)
    S["web"] = Web(wd, S["gate"].control).start()
    nd = os.path.join(d, "nginx")
    os.makedirs(nd)
    S["nginx"] = Nginx(nd, lab.tls_cert, lab.tls_key, S["web"].port).start()


def teardown():
    errors = []
    for name in ("nginx", "web"):
        d = S.get(name)
        if d:
            rc = d.stop()
            if rc not in (0, None):
                errors.append("%s exited %s:\n%s" % (d.name, rc, d.log_text()[-3000:]))
    teardown_suite(S)
    assert not errors, "\n".join(errors)


# --- a client through nginx ---------------------------------------------------------------------

class Page(html.parser.HTMLParser):
    """The parts of a page the tests read: texts by id, links, forms."""

    def __init__(self, text):
        super().__init__()
        self.ids, self.links, self.forms = {}, [], []
        self._open = []             # ids whose text is being collected
        self._form = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.setdefault(a["id"], "")
            self._open.append((tag, a["id"]))
        for attr in ("href", "src"):
            if a.get(attr) is not None:
                self.links.append(a[attr])
        if tag == "form":
            self._form = {"action": a.get("action", ""), "method": a.get("method", "get").lower(),
                          "class": a.get("class", ""), "id": a.get("id", ""), "fields": {}}
            self.forms.append(self._form)
        if tag == "input" and self._form is not None and a.get("name"):
            self._form["fields"][a["name"]] = a.get("value", "")

    def handle_endtag(self, tag):
        if self._open and self._open[-1][0] == tag:
            self._open.pop()
        if tag == "form":
            self._form = None

    def handle_data(self, data):
        for _, i in self._open:
            self.ids[i] += data


def request(method, path, user=None, headers=None, body=None, port=None):
    """One request to nginx over TLS: (status, headers, text)."""
    c = http.client.HTTPSConnection("127.0.0.1", port or S["nginx"].port, context=CTX,
                                    timeout=15)
    h = dict(headers or {})
    if user:
        h["Authorization"] = "Basic " + base64.b64encode(
            ("%s:%s" % (user, PASSWORDS[user])).encode()).decode()
    try:
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        return r.status, r.headers, r.read().decode("utf-8", "replace")
    finally:
        c.close()


def get(path, user=None, headers=None):
    return request("GET", path, user, headers)


def smtp_fail(user, password):
    """A real failed AUTH PLAIN through Postfix and the gate: its ref."""
    s = S["lab"].smtp_connect(starttls=True)
    try:
        code, msg = s.docmd("AUTH PLAIN", b64("\0%s\0%s" % (user, password)))
    finally:
        s.close()
    assert code == 535, (code, msg)
    return ref_of(msg.decode())


# --- the tests ----------------------------------------------------------------------------------

@suite.test
def signed_on_user_sees_the_page_under_the_prefix():
    st, h, text = get(PREFIX, "jane")
    assert st == 200, (st, text[:2000])
    assert h["Content-Type"].startswith("text/html"), h["Content-Type"]
    assert Page(text).ids.get("whoami", "").strip() == "jane", Page(text).ids
    assert "default-src 'none'" in h["Content-Security-Policy"], h
    st, _, text = get(PREFIX, "tom")
    assert st == 200 and Page(text).ids["whoami"].strip() == "tom", (st, text[:2000])
    st, h, _ = get(PREFIX.rstrip("/"), "jane")          # /authguard: to /authguard/
    assert st == 301 and h["Location"].endswith(PREFIX), (st, h["Location"])


@suite.test
def user_nginx_knows_but_no_viewer_is_refused():
    st, _, text = get(PREFIX, "eve")
    assert st == 403, (st, text[:2000])
    assert "error" in Page(text).ids, text[:2000]


@suite.test
def no_way_in_without_nginx_authentication():
    for headers in ({}, {"X-Remote-User": "jane"}, {"X-Remote-User": "jane",
                                                      "X-Forwarded-Proto": "https"}):
        for path in (PREFIX, PREFIX + "why?q=jane", PREFIX + "overview"):
            st, h, text = get(path, headers=headers)
            assert st == 401 and h["WWW-Authenticate"].startswith("Basic"), (path, st, h)
            assert "whoami" not in text, text[:2000]
    st, _, text = get(PREFIX, headers={"Authorization": "Basic " + base64.b64encode(
        b"jane:not-her-password").decode()})
    assert st == 401 and "whoami" not in text, (st, text[:2000])
    # nginx says who it is: the client's header does not change that
    st, _, text = get(PREFIX, "tom", headers={"X-Remote-User": "jane"})
    assert st == 200 and Page(text).ids["whoami"].strip() == "tom", (st, text[:2000])
    st, _, text = get(PREFIX, "eve", headers={"X-Remote-User": "jane"})
    assert st == 403, (st, text[:2000])


def check_links(path, user):
    """Every link and form action of the page at path resolves under the prefix and answers
    200 through nginx; the list of URLs followed."""
    st, _, text = get(path, user)
    assert st == 200, (path, st, text[:2000])
    page = Page(text)
    base = "https://127.0.0.1:%d%s" % (S["nginx"].port, path)
    followed = []
    targets = [(link, "get") for link in page.links] + \
        [(f["action"], f["method"]) for f in page.forms]
    for link, method in targets:
        url = urllib.parse.urljoin(base, link)
        parts = urllib.parse.urlsplit(url)
        assert parts.netloc == "127.0.0.1:%d" % S["nginx"].port, (path, link)
        assert parts.path.startswith(PREFIX), (path, link, parts.path)
        if method != "get":
            continue
        target = parts.path + ("?" + parts.query if parts.query else "")
        st, h, body = get(target, user)
        assert st == 200, (path, link, target, st, body[:1000])
        followed.append(target)
    return page, followed


@suite.test
def every_link_works_under_the_prefix():
    ref = smtp_fail("alice@example.test", "not-alices-1")
    page, followed = check_links(PREFIX, "jane")
    assert PREFIX + "style.css" in followed and PREFIX + "overview" in followed, followed
    search = [f for f in page.forms if f["id"] == "search"]
    assert search and search[0]["method"] == "get", page.forms
    # the search form, as a browser submits it
    url = urllib.parse.urljoin(PREFIX, search[0]["action"]) + "?" + \
        urllib.parse.urlencode({"q": ref})
    assert url.startswith(PREFIX + "why?"), url
    st, _, text = get(url, "jane")
    assert st == 200 and ref in text and "bad-password" in text, (st, text[:3000])
    check_links(url, "jane")
    check_links(PREFIX + "overview", "jane")
    st, h, css = get(PREFIX + "style.css", "jane")
    assert st == 200 and h["Content-Type"].startswith("text/css"), (st, h)


def post_form(page_path, form_class, user):
    """Submit the page's form.CLASS as a browser on the proxy's origin: (status, headers, the
    cookie header sent)."""
    st, h, text = get(page_path, user)
    assert st == 200, (st, text[:2000])
    cookies = h.get_all("Set-Cookie") or []
    csrf = [c for c in cookies if c.startswith("authguard_csrf=")]
    assert csrf, h
    forms = [f for f in Page(text).forms if form_class in f["class"].split()]
    assert forms, (form_class, Page(text).forms)
    form = forms[0]
    assert form["method"] == "post", form
    action = urllib.parse.urlsplit(urllib.parse.urljoin(
        "https://127.0.0.1:%d%s" % (S["nginx"].port, page_path), form["action"])).path
    assert action.startswith(PREFIX), action
    origin = "https://127.0.0.1:%d" % S["nginx"].port
    st, h, _ = request("POST", action, user, headers={
        "Cookie": csrf[0].split(";")[0], "Origin": origin, "Sec-Fetch-Site": "same-origin",
        "Content-Type": "application/x-www-form-urlencoded"},
        body=urllib.parse.urlencode(form["fields"]))
    return st, h, csrf[0]


@suite.test
def admin_locks_and_unlocks_through_the_proxy():
    target = "carol@example.test"
    page = PREFIX + "why?" + urllib.parse.urlencode({"q": target})
    smtp_fail(target, "not-carols-1")
    st, h, cookie = post_form(page, "lock", "jane")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie, cookie
    assert st == 303, (st, h)
    where = urllib.parse.urljoin("https://127.0.0.1:%d%s" % (S["nginx"].port, PREFIX + "lock"),
                                 h["Location"])
    parts = urllib.parse.urlsplit(where)
    assert parts.path == PREFIX + "why" and "done=locked" in parts.query, where
    st, _, text = get(parts.path + "?" + parts.query, "jane")
    assert st == 200 and "flash" in Page(text).ids, text[:3000]
    st, h, _ = post_form(page, "unlock", "jane")
    assert st == 303 and "done=unlocked" in h["Location"], (st, h)
    events = S["gate"].events("admin")
    assert [(e.get("action"), e.get("target"), e.get("actor")) for e in events][-2:] == \
        [("lock", target, "web:jane"), ("unlock", target, "web:jane")], [e["_line"] for e in events]


@suite.test
def viewer_gets_no_button_and_a_forged_post_is_refused():
    target = "carol@example.test"
    page = PREFIX + "why?" + urllib.parse.urlencode({"q": target})
    st, _, text = get(page, "tom")
    assert st == 200 and not [f for f in Page(text).forms if f["method"] == "post"], text[:3000]
    st, _, text = get(page, "jane")
    fields = [f for f in Page(text).forms if "lock" in f["class"].split()][0]["fields"]
    st, h, text = request("POST", PREFIX + "lock", "tom", headers={
        "Origin": "https://127.0.0.1:%d" % S["nginx"].port,
        "Content-Type": "application/x-www-form-urlencoded"},
        body=urllib.parse.urlencode(fields))
    assert st == 403, (st, text[:2000])


@suite.test
def local_process_without_the_secret():
    """A local process that goes around nginx to authguard-web's loopback port with a user
    header is nobody without the example's secret header; nginx's requests carry it."""
    import http.client
    for extra, want in (({}, 403), ({"X-Authguard-Proxy": "0" * 32}, 403),
                        ({"X-Authguard-Proxy": PROXY_SECRET}, 200)):
        c = http.client.HTTPConnection("127.0.0.1", S["web"].port, timeout=5)
        c.request("GET", "/", headers=dict({"X-Remote-User": "jane"}, **extra))
        st = c.getresponse().status
        c.close()
        assert st == want, (extra, st)
    st, _, text = get(PREFIX, "tom")
    assert st == 200, st
    assert "warning" not in S["web"].log_text().split("started:")[0] or \
        "without proxy_secret" not in S["web"].log_text(), S["web"].log_text()[-1000:]


@suite.test
def unix_socket_that_only_nginx_reaches():
    """The example's other way: authguard-web on a unix socket of group www-data, mode 0660,
    nginx's workers as www-data; the page works through nginx, and another local user cannot
    connect to the socket (so cannot send a user header to it)."""
    d = os.path.join(S["dir"], "unix")
    os.makedirs(os.path.join(d, "nginx"))
    os.chmod(d, 0o755)
    sock = os.path.join(d, "http")
    web = Web(d, S["gate"].control, web_listen="unix:" + sock, web_socket_group="www-data",
              web_socket_mode="0660", trusted_proxies="unix", proxy_secret="")
    ngx = None
    try:
        web.start(socket_path=sock)
        st = os.stat(sock)
        assert st.st_gid == grp.getgrnam("www-data").gr_gid and st.st_mode & 0o777 == 0o660, \
            (st.st_gid, oct(st.st_mode))
        ngx = Nginx(os.path.join(d, "nginx"), S["lab"].tls_cert, S["lab"].tls_key, sock,
                    worker="www-data").start()
        st, _, text = request("GET", PREFIX, "tom", port=ngx.port)
        assert st == 200 and Page(text).ids["whoami"].strip() == "tom", (st, text[:2000])
        st, _, text = request("GET", PREFIX, port=ngx.port, headers={"X-Remote-User": "jane"})
        assert st == 401, st
        probe = ("import socket,sys\ns=socket.socket(socket.AF_UNIX)\n"
                 "try:\n s.connect(sys.argv[1])\nexcept PermissionError:\n sys.exit(3)\n")
        r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                            sys.executable, "-c", probe, sock], capture_output=True, text=True)
        assert r.returncode == 3, ("nobody connected", r.returncode, r.stderr)
        r = subprocess.run(["setpriv", "--reuid=www-data", "--regid=www-data",
                            "--init-groups", sys.executable, "-c", probe, sock],
                           capture_output=True, text=True)
        assert r.returncode == 0, ("www-data could not connect", r.returncode, r.stderr)
    finally:
        errors = []
        for daemon in (ngx, web):
            if daemon and daemon.stop() not in (0, None):
                errors.append(daemon.log_text()[-2000:])
        assert not errors, errors


def example_keys():
    """key: value of conf-examples/authguard-web.conf, its commented keys included."""
    out = {}
    with open(os.path.join(TOP, "conf-examples", "authguard-web.conf")) as f:
        for line in f:
            m = re.match(r"^#?([a-z_]+) = ?(.*)$", line.rstrip("\n"))
            if m:
                out[m.group(1)] = m.group(2)
    return out


def check_config(text):
    path = os.path.join(S["dir"], "check.conf")
    with open(path, "w") as f:
        f.write(text)
    return subprocess.run([WEB, "-t", "-c", path], capture_output=True, text=True)


@suite.test
def example_configuration_and_man_page_match_the_daemon():
    """Every key of the example (commented ones too) is one the daemon takes, with the
    example's value; the man page names exactly those keys; a key the daemon does not know
    fails the same check."""
    keys = example_keys()
    assert "web_listen" in keys and "admins" in keys, keys
    conf = dict(keys, user="root", web_socket_owner="", web_socket_group="")
    text = "".join("%s = %s\n" % kv for kv in conf.items())
    r = check_config(text)
    assert r.returncode == 0, r.stdout + r.stderr
    r = check_config(text + "web_no_such_key = 1\n")
    assert r.returncode != 0 and ":%d: unknown key" % (len(conf) + 1) in r.stderr, r
    with open(os.path.join(TOP, "doc", "authguard-web.8")) as f:
        man = f.read()
    section = man.split(".SH CONFIGURATION", 1)[1].split("\n.SH ", 1)[0]
    named = set()
    for m in re.finditer(r'^\.TP\n\.BR ([a-z_]+(?: ", " [a-z_]+)*) " \(default', section, re.M):
        named.update(re.findall(r"[a-z_]+", m.group(1)))
    assert named == set(keys), ("man page only: %s; example only: %s"
                                % (sorted(named - set(keys)), sorted(set(keys) - named)))
    synopsis = man.split(".SH SYNOPSIS", 1)[1].split(".SH ", 1)[0]
    options = set(re.findall(r"\\-([a-z])", synopsis))
    assert options == {"c", "f", "t", "v"}, options
    check_config(text)
    for opt, rc in (("-v", 0), ("-x", None)):
        r = subprocess.run([WEB, "-t", opt, "-c", os.path.join(S["dir"], "check.conf")],
                           capture_output=True, text=True)
        assert (r.returncode == 0) == (rc == 0), (opt, r.returncode, r.stderr)


if __name__ == "__main__":
    suite.run(setup, teardown)

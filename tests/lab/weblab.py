"""authguard-web in the lab: its configuration, start/stop, its log, and HTTP helpers.

    gate = Gate(lab, gdir, ...).start()
    web = Web(gate, trusted_proxies="127.0.0.1/32", viewers="ann bea", admins="ann",
              htpasswd={"cid": "secret"}).start()
    status, headers, body = web.get("/why?q=alice@example.test", user="ann")
    ...
    web.stop()

Web asks the gate's control socket (Gate.control) and listens on a free loopback port
(Web.url). It runs in the foreground (-f) with its log on stderr, written to Web.log;
Web.events() parses its logfmt lines, once every line of the requests answered before is
written (Web.sync()). htpasswd, when given as {name: password}, is written as a file of
sha512-crypt hashes (openssl passwd -6) beside the config. The binary comes from
$AUTHGUARD_BUILD, like the gate's, so the same tests run the normal and the sanitizer builds.
"""

import http.client
import os
import subprocess
import time

from gatelab import Daemon, BUILD, parse_logfmt
from lab import OPENSSL, free_port, tcp_accepts

WEB = os.path.join(BUILD, "authguard-web")


def crypt_sha512(password):
    """A $6$ crypt(3) hash of password (openssl: Python's crypt module is gone in 3.13)."""
    r = subprocess.run([OPENSSL, "passwd", "-6", "-stdin"], input=password.encode(),
                       stdout=subprocess.PIPE, check=True)
    return r.stdout.decode().strip()


class Web(Daemon):
    """One authguard-web asking a Gate's control socket."""
    name = "authguard-web"

    def __init__(self, gate, web_dir=None, htpasswd=None, **conf):
        self.gate = gate
        self.dir = web_dir or gate.dir
        self.port = free_port()
        self.url = "http://127.0.0.1:%d/" % self.port
        self.conf_path = os.path.join(self.dir, "authguard-web.conf")
        self.log = os.path.join(self.dir, "web.log")
        self.proc = None
        settings = {
            "web_listen": "inet:127.0.0.1:%d" % self.port,
            "control_socket": gate.control,
            "control_timeout": "5s",
            "user": "root",             # the lab runs as root; a daemon needs it said
        }
        if htpasswd is not None:
            path = os.path.join(self.dir, "web.htpasswd")
            with open(path, "w") as f:
                for name, password in htpasswd.items():
                    f.write("%s:%s\n" % (name, crypt_sha512(password)))
            settings["htpasswd"] = path
        settings.update({k: v for k, v in conf.items() if v is not None})
        self.settings = settings
        with open(self.conf_path, "w") as f:
            f.write("# written by tests/lab/weblab.py\n")
            for k, v in settings.items():
                f.write("%s = %s\n" % (k, v))

    def argv(self):
        return [WEB, "-f", "-c", self.conf_path]

    def start(self, timeout=10, env=None):
        """Start and wait until the port accepts connections."""
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=log, start_new_session=True, close_fds=True,
                                     env=dict(os.environ, **(env or {})))
        log.close()
        deadline = time.time() + timeout
        while not tcp_accepts(self.port):
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited %s:\n%s"
                                   % (self.name, self.proc.returncode, self.log_text()))
            if time.time() > deadline:
                raise RuntimeError("%s does not listen on %d:\n%s"
                                   % (self.name, self.port, self.log_text()))
            time.sleep(0.02)
        return self

    def request(self, method, path, user=None, headers=None, body=None, timeout=10):
        """(status, {lower-case header: value}, body text) of one request; user, when given,
        goes in the user header (the lab's trusted proxy is 127.0.0.1)."""
        h = dict(headers or {})
        if user is not None:
            h[self.settings.get("user_header", "X-Remote-User")] = user
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read().decode("utf-8", "replace")
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()

    def get(self, path, user=None, headers=None):
        return self.request("GET", path, user=user, headers=headers)

    def sync(self, timeout=5):
        """Return once the web has written the log lines of every request answered before now.
        It writes its log lines at the end of each round of its event loop, so a reply can
        reach the client before the line that goes with it; a request made now is answered in
        a later round. GET /style.css: no authentication, no control socket, no log line.
        No-op when the web is not running."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            self.request("GET", "/style.css", timeout=timeout)
        except OSError:
            pass

    def events(self, event="web"):
        """The logfmt lines of this event in the web's log, parsed (after sync())."""
        self.sync()
        out = []
        for line in self.log_text().splitlines():
            i = 0 if line.startswith("event=") else line.find(" event=") + 1
            if i <= 0 and not line.startswith("event="):
                continue
            ev = parse_logfmt(line[i:])
            ev["_line"] = line
            if ev.get("event") == event:
                out.append(ev)
        return out

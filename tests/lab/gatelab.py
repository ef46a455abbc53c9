"""authguard-policyd in the lab: configuration, start/stop, its log, and client helpers.

    lab = Lab(sasl_path=gate_socket_path())  ...  gate = Gate(lab, client_detail="full").start()

The gate runs in the foreground (-f) with its log on stderr, written to Gate.log; Gate.events()
parses its logfmt event lines. The gate writes its log lines once per round of its event loop,
after that round's replies: a client can read a reply before its log line is in the file, so
Gate.events() first asks the control socket something (answered in a later round) and reads the
log after that answer. The binary comes from $AUTHGUARD_BUILD (the build directory that
tests/run.sh exports), so the same tests run the normal and the sanitizer builds.
"""

import base64
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("AUTHGUARD_BUILD", os.path.join(HERE, "..", "..", "build"))
POLICYD = os.path.join(BUILD, "authguard-policyd")


def new_gate_dir():
    """A fresh 0755 directory for one gate (socket, config, state, log)."""
    d = tempfile.mkdtemp(prefix="aggate-", dir="/tmp")
    os.chmod(d, 0o755)
    return d


def parse_logfmt(text):
    """key=value pairs of one logfmt line (values may be quoted with \\-escapes)."""
    out = {}
    for m in re.finditer(r'([a-z_]+)=("((?:[^"\\]|\\.)*)"|[^ ]*)', text):
        key, raw, quoted = m.group(1), m.group(2), m.group(3)
        if quoted is not None:
            raw = re.sub(r'\\(x[0-9a-f]{2}|.)', lambda e: _unescape(e.group(1)), quoted)
        out[key] = raw
    return out


def _unescape(e):
    if e.startswith("x") and len(e) == 3:
        return chr(int(e[1:], 16))
    return {"n": "\n", "r": "\r", "t": "\t"}.get(e, e)


class Daemon:
    """A daemon of ours in the foreground (-f), its stderr in self.log; subclasses set
    self.socket, self.log and argv()."""
    name = "daemon"
    stop_wait = 10

    def start(self, timeout=10, env=None):
        if os.path.exists(self.socket):
            os.unlink(self.socket)
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=log, start_new_session=True, close_fds=True,
                                     env=dict(os.environ, **(env or {})))
        log.close()
        deadline = time.time() + timeout
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited %s:\n%s"
                                   % (self.name, self.proc.returncode, self.log_text()))
            if time.time() > deadline:
                raise RuntimeError("%s did not create its socket" % self.name)
            time.sleep(0.02)
        return self

    def stop(self, sig=signal.SIGTERM):
        """Signal and wait; returns the exit status (sanitizer reports make it non-zero)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(self.stop_wait)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc, self.proc = self.proc.returncode, None
        return rc

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


class Gate(Daemon):
    """One authguard-policyd wired to a Lab's Dovecot."""
    name = "authguard-policyd"

    def __init__(self, lab, gate_dir, **conf):
        self.lab = lab
        self.dir = gate_dir
        self.socket = os.path.join(gate_dir, "auth")
        self.state_dir = os.path.join(gate_dir, "state")
        self.conf_path = os.path.join(gate_dir, "authguard.conf")
        self.log = os.path.join(gate_dir, "policyd.log")
        self.control = os.path.join(gate_dir, "control")
        self.proc = None
        settings = {
            "sasl_listen": "unix:" + self.socket,
            "sasl_upstream": "unix:" + lab.auth_client_socket,
            "userdb_upstream": "unix:" + lab.auth_userdb_socket,
            "state_dir": self.state_dir,
            "control_listen": "unix:" + os.path.join(gate_dir, "control"),
            "socket_mode": "0666",
            "client_detail": "full",
            "user": "root",             # the lab runs as root; a daemon needs it said
            # The gate's own key, kept across its restarts (the default is a file in /etc).
            "fingerprint_key": os.path.join(gate_dir, "fingerprint.key"),
        }
        settings.update({k: v for k, v in conf.items() if v is not None})
        for k in [k for k, v in conf.items() if v is None]:
            settings.pop(k, None)
        self.settings = settings
        if settings.get("fingerprint_key") == os.path.join(gate_dir, "fingerprint.key"):
            self._make_key(settings["fingerprint_key"], settings.get("user"))
        with open(self.conf_path, "w") as f:
            f.write("# written by tests/lab/gatelab.py\n")
            for k, v in settings.items():
                f.write("%s = %s\n" % (k, v))

    @staticmethod
    def _make_key(path, user):
        """32 random bytes at path unless it exists, mode 0600, owned by the daemon's user:
        the daemon reads its key after it has become that user."""
        if not os.path.exists(path):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(os.urandom(32))
        if os.geteuid() == 0 and user:
            pw = pwd.getpwnam(user)
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def argv(self):
        return [POLICYD, "-f", "-c", self.conf_path]

    def sync(self, timeout=2):
        """Return once the gate has written the log lines of every round before now: a control
        request is answered in a later round of its event loop than any reply already seen,
        and each round ends by writing its log lines.  No-op without a running gate or
        control socket."""
        spec = self.settings.get("control_listen", "")
        if not self.alive() or not spec.startswith("unix:") or self._stopped_by_signal():
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(timeout)
                s.connect(spec[len("unix:"):])
                s.sendall(b"stats\ttext\t-\n")
                while s.recv(4096):
                    pass
        except OSError:
            pass

    def _stopped_by_signal(self):
        try:
            with open("/proc/%d/stat" % self.proc.pid) as f:
                return f.read().rsplit(")", 1)[1].split()[0] == "T"
        except (OSError, IndexError):
            return False

    def events(self, event="auth"):
        self.sync()
        out = []
        for line in self.log_text().splitlines():
            i = line.find(" event=")
            if i < 0:
                i = line.find(": {")
                if i >= 0 and '"event"' in line:
                    ev = json.loads(line[i + 2:])
                    ev["_line"] = line
                    if ev.get("event") == event:
                        out.append(ev)
                continue
            ev = parse_logfmt(line[i + 1:])
            ev["_line"] = line
            if ev.get("event") == event:
                out.append(ev)
        return out

    def event(self, ref, timeout=5):
        """The one event with this ref (waits for it); raises if none or several."""
        deadline = time.time() + timeout
        while True:
            found = [e for e in self.events() if e.get("ref") == ref]
            if len(found) > 1:
                raise AssertionError("ref %s logged %d times" % (ref, len(found)))
            if found:
                return found[0]
            if time.time() > deadline:
                raise AssertionError("no log line for ref %s" % ref)
            time.sleep(0.02)

    def wait_events(self, pred, count=1, timeout=10):
        deadline = time.time() + timeout
        while True:
            found = [e for e in self.events() if pred(e)]
            if len(found) >= count:
                return found
            if time.time() > deadline:
                raise AssertionError("expected %d matching log lines, got %d" % (count, len(found)))
            time.sleep(0.02)


REF_RE = re.compile(r"\(ref=([0-9A-Z]{8,})\)")


def ref_of(text):
    m = REF_RE.search(text)
    return m.group(1) if m else None


class NoLab:
    """Gate() wants a lab for its upstream paths; these point at a FakeAuth in directory d
    (d/fake-auth) and at no userdb at all."""

    def __init__(self, d):
        self.auth_client_socket = os.path.join(d, "fake-auth")
        self.auth_userdb_socket = os.path.join(d, "no-userdb")


def swaks_auth_reply(output):
    """(code, text) of the reply that ended swaks' AUTH exchange, or (None, output)."""
    lines = output.splitlines()
    start = None
    for i, line in enumerate(lines):
        if re.match(r"^ ?[~*-]> AUTH ", line):
            start = i
    if start is None:
        return None, output
    for line in lines[start + 1:]:
        m = re.match(r"^<[~*-]+ +(\d{3})[ -](.*)$", line)
        if m and m.group(1) != "334":
            return int(m.group(1)), m.group(2)
    return None, output


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


class GateClient:
    """Speaks the auth-client protocol to the gate directly, as smtpd does (for bad input)."""

    def __init__(self, path, timeout=10):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""
        self.s.sendall(b"VERSION\t1\t0\nCPID\t%d\n" % os.getpid())
        self.handshake = self.read_until(lambda l: l == b"DONE")

    def send(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode())

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("gate closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def read_until(self, pred):
        lines = []
        while True:
            lines.append(self.line())
            if pred(lines[-1]):
                return lines

    def closed(self, timeout=5):
        """True once the gate has closed this connection."""
        self.s.settimeout(timeout)
        try:
            while True:
                chunk = self.s.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except socket.timeout:
            return False

    def close(self):
        self.s.close()


def auth_line(id_, mech, secured=True, resp=None, rip="127.0.0.1"):
    line = "AUTH\t%d\t%s\tservice=smtp\tnologin\tlip=127.0.0.1\trip=%s" % (id_, mech, rip)
    if secured:
        line += "\tsecured"
    if resp is not None:
        line += "\tresp=" + resp
    return line + "\n"


def teardown_suite(S):
    """Stop a suite's gate, lab and gate directory (S: "gate", "lab", "dir").

    Everything is stopped even when a step fails; then any problem is raised: the gate's exit
    status (a sanitizer report makes it non-zero) or a lab process left behind."""
    errors = []
    gate, lab = S.get("gate"), S.get("lab")
    if gate:
        rc = gate.stop()
        if rc not in (0, None):
            errors.append("authguard-policyd exited %s:\n%s" % (rc, gate.log_text()[-3000:]))
    if lab:
        lab.stop()
        left = lab.leftover_processes()
        if left:
            errors.append("processes left: %r" % left)
    if S.get("dir"):
        subprocess.run(["rm", "-rf", S["dir"]])
    if errors:
        raise AssertionError("\n".join(errors))

"""The authguard lab: a real Postfix and a real Dovecot on loopback, in a throwaway directory.

Python 3 standard library only. Must run as root (Postfix and Dovecot drop privileges themselves).

    from lab import Lab
    with Lab() as lab:                       # starts Dovecot, then Postfix (and the delivery sink)
        rc, out = lab.swaks("-tls", "-a", "PLAIN", "-au", "alice@example.test",
                            "-ap", "correct horse", "--quit-after", "AUTH")
        code, text = lab.smtplib_login("alice@example.test", "correct horse")

What runs (all under Lab.dir, a fresh 0755 directory below the temp dir):

* Dovecot (`dovecot -F -c dovecot/dovecot.conf`, auth only; 2.3 or 2.4 syntax after `dovecot
  --version`, see Lab.dovecot_version) with a passwd-file passdb+userdb and a
  Lua passdb in front of it for the special accounts that make Dovecot answer with its real FAIL
  codes (see USERS and SPECIAL_USERS).  Listeners: Lab.auth_client_socket (auth-client protocol, what
  Postfix speaks) and Lab.auth_userdb_socket (master protocol: USER lookups), both mode 0666.
  auth_failure_delay = 0 and no auth penalty, so failures are answered at once.
* Postfix (`postfix -c postfix start`) with two smtpd listeners on free loopback ports:
  Lab.submission_port (plain smtpd, STARTTLS offered, cleartext AUTH allowed) and Lab.smtps_port
  (wrapper-mode TLS, like 465).  smtpd_sasl_path is the `sasl_path` argument (a unix socket, e.g. an
  authguard gate or tests/lab/sockspy.py) or, by default, Dovecot's auth-client socket.  Everything
  authenticated is relayed to an smtp-sink on Lab.sink_port that stores each message as a file in
  Lab.sink_dir.  Logs: Lab.maillog (Postfix), Lab.dovecot_log (Dovecot).

Lab(mailboxes=True): Postfix delivers everything itself (virtual(8), every domain, one Maildir
Lab.mail_dir/all/) instead of relaying to the sink, and Lab.sendmail_argv() is Postfix's own
sendmail submitting to this instance (-C its config directory; as root no
alternate_config_directories is needed).  mailbox(addr) reads what was delivered to addr.

Dovecot's own doors (Lab(logins=("imap", "pop3", "sieve"))): its imap, pop3 and managesieve login
services on free loopback ports (Lab.imap_port, Lab.pop3_port, Lab.sieve_port), cleartext logins
allowed, STARTTLS with the lab's certificate, the implicit-TLS listeners off; clients
imap_login(), pop3_login(), sieve_login(), curl_login().  Lab(auth_policy={"url": ...}) turns on
Dovecot's auth policy client (POSTs to url?command=allow|report; see _dovecot_policy_conf for the
keys), in 2.3's or 2.4's syntax; tests/lab/policyspy.py is a stand-in server that records the
requests.  auth_debug=True logs each passdb lookup (and each policy request body).

Postfix specifics: the queue tree is copied from a per-process template made once by `postfix
check` (~2 s) and `quick-start` skips the start-up integrity check; smtpd_peername_lookup = no
(clients show as unknown[127.0.0.N]); service_throttle_time = 1s (after smtpd dies with "no SASL
authentication mechanisms" while Dovecot is down, new clients are not held ~60 s).

API (see each docstring): Lab(sasl_path=None, extra_main_cf=None, maxproc=1,
extra_dovecot_conf="", keep_dir=None, auth_mechanisms="plain login", logins=(), auth_policy=None,
auth_debug=False, extra_users=None, mailboxes=False); start(), start_dovecot(), stop_dovecot(),
start_postfix(), stop_postfix(), start_sink(), stop_sink(), stop(); dovecot_pids(), dovecot_auth_pids(),
postfix_pids(), smtpd_pids(), postfix_master_pid(), leftover_processes(); swaks(),
smtp_connect(), smtplib_login(), imap_login(), pop3_login(), sieve_login(), curl_login(),
userdb_lookup(), sink_messages(), sendmail_argv(), mailbox_all(), mailbox(), mailbox_addresses();
maillog_text(), dovecot_log_text(), log_mark(), wait_log().  Module level: auth_client_handshake(),
userdb_lookup(), plain_response(), b64(), free_port(), dovecot_version(), cleanup_stale_labs(), USERS, SPECIAL_USERS.
A relative sasl_path is taken relative to Lab.dir (Lab(sasl_path="gate.sock")).

Teardown: every process the lab starts is put in a session of its own (Postfix's master makes
itself a session leader, Dovecot and smtp-sink are started with start_new_session), and stop()
kills those sessions (SIGTERM, then SIGKILL; Dovecot: SIGKILL at once), then sweeps /proc for
anything left that belongs to this lab (same session id, MAIL_CONFIG pointing at this lab's Postfix
config, or this lab's dir on the command line).  stop() is idempotent and also runs from the
context manager and from atexit; a default-action SIGTERM is turned into SystemExit so atexit runs
then too.  The test process becomes a child subreaper (prctl) so that killed daemons are reaped at
once (no <defunct> entries).  A lab whose test process was SIGKILLed is cleaned by the next Lab()
(cleanup_stale_labs: only labs whose owner process is gone).  Set AUTHGUARD_LAB_KEEP=1 (or
keep_dir=True) to keep the directory after stop() for post-mortem reading.
"""

import atexit
import base64
import imaplib
import os
import poplib
import pwd
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

POSTFIX = "/usr/sbin/postfix"
DOVECOT = "/usr/sbin/dovecot"
SMTP_SINK = "/usr/sbin/smtp-sink"
SENDMAIL = "/usr/sbin/sendmail"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
SWAKS = shutil.which("swaks") or "/usr/bin/swaks"

# Accounts in the passwd-file (passdb and userdb).  bob's password is app-password shaped.
USERS = {
    "alice@example.test": "correct horse",
    "bob@example.test": "abcdefghijklmnop",
    "carol@example.test": "Carol-Pass-1",
}
# Accounts answered by the Lua passdb, whatever the password, with these Dovecot passdb results.
# Dovecot turns them into FAIL ... code=user_disabled / code=pass_expired / code=temp_fail.
# They also exist in the userdb (so an auth-userdb USER lookup finds them).
SPECIAL_USERS = {
    "disabled@example.test": "PASSDB_RESULT_USER_DISABLED",
    "expired@example.test": "PASSDB_RESULT_PASS_EXPIRED",
    "tempfail@example.test": "PASSDB_RESULT_INTERNAL_FAILURE",
}
LAB_UID = LAB_GID = 1000  # userdb uid/gid: any number, nothing is delivered

# Dovecot's login services the lab can run (Lab(logins=...)): service, plaintext listener,
# implicit-TLS listener (turned off).
LOGIN_SERVICES = ("imap", "pop3", "sieve")
_LOGIN_LISTENERS = {
    "imap": ("imap-login", "imap", "imaps"),
    "pop3": ("pop3-login", "pop3", "pop3s"),
    "sieve": ("managesieve-login", "sieve", None),
}
# The auth policy client's request attributes: Dovecot's documented default.  2.3.19's
# (doveconf -d), and 2.4's (src/auth/auth-settings.c), which adds fail_type.
POLICY_ATTRIBUTES_23 = ("login=%{requested_username} pwhash=%{hashed_password} remote=%{rip} "
                        "device_id=%{client_id} protocol=%s session_id=%{session}")
POLICY_ATTRIBUTES_24 = (
    ("login", "%{requested_username}"),
    ("pwhash", "%{hashed_password}"),
    ("remote", "%{remote_ip}"),
    ("device_id", "%{client_id}"),
    ("protocol", "%{protocol}"),
    ("session_id", "%{session}"),
    ("fail_type", "%{fail_type}"),
)
POLICY_NONCE = "lab-policy-nonce"

_LIVE_LABS = []  # labs not yet stopped, for the atexit handler


def free_port(host="127.0.0.1"):
    """A TCP port on host that nobody listens on right now (bind port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


_DOVECOT_VERSION = []


def dovecot_version():
    """Dovecot's version as a tuple of ints, e.g. (2, 3, 19) or (2, 4, 1), from `dovecot --version`
    ("2.4.1-4 (7d8c0e5759)"); asked once per process."""
    if not _DOVECOT_VERSION:
        out = subprocess.run([DOVECOT, "--version"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             check=True).stdout.decode()
        nums = []
        for part in out.split()[0].split("-")[0].split("."):
            if not part.isdigit():
                break
            nums.append(int(part))
        if len(nums) < 2:
            raise RuntimeError("lab: cannot read the version of dovecot --version: %r" % out)
        _DOVECOT_VERSION.append(tuple(nums))
    return _DOVECOT_VERSION[0]


def tcp_accepts(port, host="127.0.0.1", timeout=0.5):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def tcp_listening(port, host="127.0.0.1"):
    """True if something listens on host:port (read from /proc/net/tcp: no connection is made,
    so smtpd logs no 'lost connection after CONNECT' for readiness checks)."""
    want = "%s:%04X" % ("".join("%02X" % int(b) for b in reversed(host.split("."))), port)
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                fields = line.split()
                if fields[1] == want and fields[3] == "0A":  # 0A = LISTEN
                    return True
    except OSError:
        pass
    return False


def unix_accepts(path, timeout=0.5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def wait_until(pred, timeout, what, interval=0.02):
    """Poll pred() until true; raise TimeoutError mentioning `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if pred():
            return
        if time.monotonic() > deadline:
            raise TimeoutError("lab: timed out waiting for " + what)
        time.sleep(interval)


# --- /proc helpers: who is alive, in which session, started for what --------------------------

def _proc_stat(pid):
    """(comm, state, ppid, pgrp, session) of pid, or None if it is gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    comm = data[data.index("(") + 1:data.rindex(")")]
    fields = data[data.rindex(")") + 2:].split()
    return comm, fields[0], int(fields[1]), int(fields[2]), int(fields[3])


def _proc_read(pid, name):
    try:
        with open("/proc/%d/%s" % (pid, name), "rb") as f:
            return f.read()
    except OSError:
        return b""


def cmdline(pid):
    """The process title as ps shows it (Dovecot and Postfix rewrite theirs)."""
    return _proc_read(pid, "cmdline").replace(b"\0", b" ").decode("utf-8", "replace").strip()


def _all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _alive(pid):
    st = _proc_stat(pid)
    return st is not None and st[1] not in ("Z", "X")


def session_pids(sid):
    """Live (non-zombie) processes whose session id is sid."""
    out = []
    for pid in _all_pids():
        st = _proc_stat(pid)
        if st and st[4] == sid and st[1] not in ("Z", "X"):
            out.append(pid)
    return out


def _kill(pid, sig):
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _reap_session(sid):
    """waitpid() the zombies of session sid that are our own children (see _become_subreaper)."""
    me = os.getpid()
    for pid in _all_pids():
        st = _proc_stat(pid)
        if st and st[4] == sid and st[1] == "Z" and st[2] == me:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


def _session_entries(sid):
    """All processes of session sid, zombies included."""
    return [pid for pid in _all_pids() if (_proc_stat(pid) or (0, 0, 0, 0, None))[4] == sid]


def kill_session(sid, grace=2.0):
    """SIGTERM (if grace) then SIGKILL every process of session sid.

    Returns when none is alive; raises if one survives SIGKILL.  Then waits (up to 3 s) until
    the dead are reaped too, so that `ps` shows no <defunct> leftovers."""
    if not sid:
        return
    steps = ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)) if grace else ((signal.SIGKILL, 5.0),)
    for sig, wait in steps:
        pids = session_pids(sid)
        if not pids:
            break
        for pid in pids:
            _kill(pid, sig)
            if sig == signal.SIGTERM:
                _kill(pid, signal.SIGCONT)  # a SIGSTOPped process must run to see SIGTERM
        deadline = time.monotonic() + wait
        while session_pids(sid) and time.monotonic() < deadline:
            time.sleep(0.01)
    left = session_pids(sid)
    if left:
        raise RuntimeError("lab: processes of session %d survive SIGKILL: %r" % (sid, left))
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        _reap_session(sid)
        if not _session_entries(sid):
            break
        time.sleep(0.01)


def _become_subreaper():
    """Make this process the reaper of its orphaned descendants (Linux prctl).

    Postfix's master and Dovecot's children end up orphans (the master daemonizes; Dovecot's
    children lose their parent when we kill it).  As their subreaper we collect them at once
    instead of leaving <defunct> entries until PID 1 gets to them.  Harmless if it fails."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_CHILD_SUBREAPER = 36
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _install_sigterm_handler():
    """Turn a default-action SIGTERM (test runner timeout) into SystemExit, so atexit runs."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        def on_term(signum, frame):
            raise SystemExit(128 + signum)
        signal.signal(signal.SIGTERM, on_term)


class Lab:
    """A throwaway Postfix + Dovecot on loopback.  See the module docstring."""

    def __init__(self, sasl_path=None, extra_main_cf=None, maxproc=1, extra_dovecot_conf="",
                 keep_dir=None, auth_mechanisms="plain login", logins=(), auth_policy=None,
                 auth_debug=False, extra_users=None, mailboxes=False):
        if os.geteuid() != 0:
            raise RuntimeError("lab: must run as root (Postfix and Dovecot need it)")
        _become_subreaper()
        _install_sigterm_handler()
        self._stopped = False
        self._sessions = {}          # name -> session id (= pid of the session leader)
        self._popen = {}             # name -> subprocess.Popen (to reap our direct children)
        self._all_sids = set()       # every session id ever started (for the final sweep)
        self.keep_dir = (os.environ.get("AUTHGUARD_LAB_KEEP") == "1") if keep_dir is None else keep_dir
        # Dovecot's auth_mechanisms: the passwd-file's {PLAIN} passwords serve every one of
        # them (cram-md5, digest-md5, scram-sha-1, scram-sha-256 too).
        self.auth_mechanisms = auth_mechanisms
        # Dovecot's own login services (imap, pop3, sieve) and its auth policy client: see
        # _dovecot_logins_conf and _dovecot_policy_conf.
        unknown = set(logins) - set(LOGIN_SERVICES)
        if unknown:
            raise ValueError("lab: unknown login services %r" % sorted(unknown))
        self.logins = tuple(p for p in LOGIN_SERVICES if p in logins)
        self.auth_policy = dict(auth_policy) if auth_policy else None
        self.auth_debug = auth_debug
        # More accounts in the passwd-file, {user: password}, for suites that need fresh ones.
        self.users = dict(USERS, **(extra_users or {}))
        # Lab(mailboxes=True): Postfix delivers every recipient itself (see _mailboxes_conf).
        self.mailboxes = mailboxes

        # The directory: 0755 and every parent traversable, so postfix and dovecot users get in.
        base = tempfile.gettempdir()
        if len(base) > 40 or not _traversable_by_all(base):
            base = "/tmp"  # unix socket paths are limited to 107 bytes; keep it short
        cleanup_stale_labs(base)
        self.dir = tempfile.mkdtemp(prefix="aglab-", dir=base)
        os.chmod(self.dir, 0o755)
        _write_owner(self.dir)
        _LIVE_LABS.append(self)
        try:
            self._layout(sasl_path, extra_main_cf or {}, maxproc, extra_dovecot_conf)
        except BaseException:
            self.stop()
            raise

    # --- configuration ------------------------------------------------------------------------

    def _layout(self, sasl_path, extra_main_cf, maxproc, extra_dovecot_conf):
        d = self.dir
        pf = pwd.getpwnam("postfix")
        self.submission_port = free_port()
        self.smtps_port = free_port()
        self.sink_port = free_port()
        while len({self.submission_port, self.smtps_port, self.sink_port}) < 3:
            self.smtps_port, self.sink_port = free_port(), free_port()

        # TLS: a self-signed certificate for smtpd (and Dovecot's login services).
        tls_dir = os.path.join(d, "tls")
        os.makedirs(tls_dir, mode=0o755)
        self.tls_cert = os.path.join(tls_dir, "cert.pem")
        self.tls_key = os.path.join(tls_dir, "key.pem")
        subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                        "-subj", "/CN=lab.example.test", "-keyout", self.tls_key,
                        "-out", self.tls_cert], check=True, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.chmod(self.tls_key, 0o600)

        # Dovecot
        self.dovecot_dir = os.path.join(d, "dovecot")
        self.dovecot_conf = os.path.join(self.dovecot_dir, "dovecot.conf")
        run_dir = os.path.join(self.dovecot_dir, "run")
        for sub in ("", "run", "state"):
            os.makedirs(os.path.join(self.dovecot_dir, sub), mode=0o755, exist_ok=True)
        os.makedirs(os.path.join(d, "home"), mode=0o755)
        self.dovecot_log = os.path.join(d, "dovecot.log")
        self.auth_client_socket = os.path.join(run_dir, "auth-client")
        self.auth_userdb_socket = os.path.join(run_dir, "auth-userdb")
        self.users_file = os.path.join(self.dovecot_dir, "users")
        self.lua_file = os.path.join(self.dovecot_dir, "special.lua")
        lines = []
        for user, password in list(self.users.items()) + [(u, None) for u in SPECIAL_USERS]:
            # user:password:uid:gid:gecos:home:shell:extra.  Special users get a password nobody
            # can type: the Lua passdb in front answers for them and returns (return-fail).
            pw = "{PLAIN}" + password if password is not None else "{PLAIN}!lua-passdb-answers"
            lines.append("%s:%s:%d:%d::%s/home/%s::\n" % (user, pw, LAB_UID, LAB_GID, d,
                                                         user.split("@")[0]))
        _write(self.users_file, "".join(lines), 0o644)
        if self.logins:
            # The mail processes after a login run as the userdb's uid and keep a Maildir at home.
            for user in list(self.users) + list(SPECIAL_USERS):
                home = os.path.join(d, "home", user.split("@")[0])
                os.makedirs(home, mode=0o700)
                os.chown(home, LAB_UID, LAB_GID)
        self.imap_port = self.pop3_port = self.sieve_port = None
        taken = {self.submission_port, self.smtps_port, self.sink_port}
        for proto in self.logins:
            port = free_port()
            while port in taken:
                port = free_port()
            taken.add(port)
            setattr(self, proto + "_port", port)
        _write(self.lua_file, _LUA_PASSDB, 0o644)
        self.dovecot_version = dovecot_version()
        template = (_DOVECOT24_CONF if self.dovecot_version >= (2, 4) else _DOVECOT_CONF) + \
            _DOVECOT_SERVICES
        _write(self.dovecot_conf, template.format(
            base_dir=run_dir, state_dir=os.path.join(self.dovecot_dir, "state"),
            log_path=self.dovecot_log, lua_file=self.lua_file, users_file=self.users_file,
            special=" ".join(SPECIAL_USERS), mechanisms=self.auth_mechanisms,
            protocols=" ".join(self.logins), auth_debug="yes" if self.auth_debug else "no",
            ssl="yes" if self.logins else "no",
            extra=self._dovecot_logins_conf() + self._dovecot_policy_conf()
            + extra_dovecot_conf), 0o644)

        # Delivery sink, writable by postfix (smtp-sink -u postfix).
        self.sink_dir = os.path.join(d, "sink")
        os.makedirs(self.sink_dir, mode=0o755)
        os.chown(self.sink_dir, pf.pw_uid, pf.pw_gid)

        # Postfix
        self.postfix_dir = os.path.join(d, "postfix")          # config_directory
        self.queue_dir = os.path.join(d, "spool")
        self.data_dir = os.path.join(d, "data")
        os.makedirs(self.postfix_dir, mode=0o755)
        # The queue tree comes from a per-process template: creating it (`postfix check`, done
        # by the first `postfix start`) takes ~2 s, copying it a few ms.  quick-start makes
        # `postfix start` skip its integrity checks for this already-checked tree.
        subprocess.run(["cp", "-a", _queue_template(), self.queue_dir], check=True)
        open(os.path.join(self.queue_dir, "quick-start"), "w").close()
        os.makedirs(self.data_dir, mode=0o700)
        os.chown(self.data_dir, pf.pw_uid, pf.pw_gid)
        self.maillog = os.path.join(d, "maillog")
        # A relative sasl_path is taken relative to the lab dir (e.g. "gate.sock"), for sockets
        # that a test starts after creating the Lab (a gate, tests/lab/sockspy.py).
        if sasl_path and not os.path.isabs(sasl_path):
            sasl_path = os.path.join(d, sasl_path)
        self.sasl_path = sasl_path or self.auth_client_socket
        main_cf = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue_dir,
            "data_directory": self.data_dir,
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "myhostname": "lab.example.test",
            "mydomain": "example.test",
            "myorigin": "$myhostname",
            "mydestination": "",
            "relay_domains": "",
            "local_recipient_maps": "",
            "alias_maps": "",
            "alias_database": "",
            "local_transport": "error:local delivery is disabled in the lab",
            "relayhost": "[127.0.0.1]:%d" % self.sink_port,
            "mynetworks": "127.0.0.0/8",
            "smtpd_relay_restrictions": "permit_sasl_authenticated, reject_unauth_destination",
            "smtpd_recipient_restrictions": "",
            "smtpd_peername_lookup": "no",      # no reverse DNS (clients may come from 127.0.0.N)
            "smtpd_sasl_auth_enable": "yes",
            "smtpd_sasl_type": "dovecot",
            "smtpd_sasl_path": self.sasl_path,
            "smtpd_sasl_security_options": "noanonymous",
            "smtpd_tls_auth_only": "no",        # AUTH offered before STARTTLS (cleartext tests)
            "smtpd_tls_security_level": "may",
            "smtpd_tls_cert_file": self.tls_cert,
            "smtpd_tls_key_file": self.tls_key,
            "smtpd_tls_loglevel": "1",
            "smtp_tls_security_level": "none",  # to the sink
            "maillog_file": self.maillog,
            "maillog_file_prefixes": d,
            "biff": "no",
            "append_dot_mydomain": "no",
            "smtpd_banner": "$myhostname ESMTP lab",
            # When smtpd dies at start-up (e.g. "fatal: no SASL authentication mechanisms" while
            # Dovecot is down), master throttles the service for 60 s by default: new clients
            # would hang ~30-60 s after Dovecot is back.  1 s keeps outage tests quick.
            "service_throttle_time": "1s",
        }
        main_cf.update(self._mailboxes_conf())
        main_cf.update(extra_main_cf)
        _write(os.path.join(self.postfix_dir, "main.cf"),
               "# generated by tests/lab/lab.py\n"
               + "".join("%s = %s\n" % kv for kv in main_cf.items()), 0o644)
        _write(os.path.join(self.postfix_dir, "master.cf"), _MASTER_CF.format(
            sub=self.submission_port, smtps=self.smtps_port, maxproc=maxproc), 0o644)

    def _mailboxes_conf(self):
        """Lab(mailboxes=True): Postfix's virtual(8) delivery agent keeps every message, for every
        recipient of every domain, in one Maildir, Lab.mail_dir/all/, instead of relaying it to
        the sink; mail submitted with Lab.sendmail_argv() goes the same way.  virtual(8) prepends
        Delivered-To: (the envelope recipient): Lab.mailbox(addr) and Lab.mailbox_addresses()
        read it.  The catch-all is on purpose: mail to an address nobody expects is kept too,
        where a test sees it.  (A map cannot name a Maildir per recipient: virtual(8) refuses
        regexp substitution in virtual_mailbox_maps.)"""
        if not self.mailboxes:
            self.mail_dir = None
            return {}
        self.mail_dir = os.path.join(self.dir, "mail")
        os.makedirs(self.mail_dir, mode=0o755)
        os.chown(self.mail_dir, LAB_UID, LAB_GID)
        every_domain = os.path.join(self.postfix_dir, "mailbox_domains")
        _write(every_domain, "/./ OK\n", 0o644)
        return {
            "virtual_mailbox_domains": "regexp:" + every_domain,
            "virtual_mailbox_maps": "static:all/",       # a trailing slash: a Maildir
            "virtual_mailbox_base": self.mail_dir,
            "virtual_uid_maps": "static:%d" % LAB_UID,
            "virtual_gid_maps": "static:%d" % LAB_GID,
            "virtual_minimum_uid": "%d" % LAB_UID,
            "virtual_transport": "virtual",
        }

    def _dovecot_logins_conf(self):
        """Dovecot's login services on loopback (Lab(logins=...)): one plaintext listener each on
        127.0.0.1 (imap_port, pop3_port, sieve_port), STARTTLS with the lab's certificate,
        cleartext logins allowed without TLS; the implicit-TLS listeners are off."""
        if not self.logins:
            return ""
        v24 = self.dovecot_version >= (2, 4)
        out = ["\n# login services (tests/lab/lab.py logins=)\nlisten = 127.0.0.1\n"]
        if v24:
            out.append("auth_allow_cleartext = yes\nssl_server_cert_file = %s\n"
                       "ssl_server_key_file = %s\nmail_driver = maildir\nmail_path = ~/Maildir\n"
                       % (self.tls_cert, self.tls_key))
        else:
            out.append("disable_plaintext_auth = no\nssl_cert = <%s\nssl_key = <%s\n"
                       "mail_location = maildir:~/Maildir\n" % (self.tls_cert, self.tls_key))
        for proto in self.logins:
            service, plain, implicit = _LOGIN_LISTENERS[proto]
            out.append("service %s {\n  inet_listener %s {\n    port = %d\n  }\n"
                       % (service, plain, getattr(self, proto + "_port")))
            if implicit:
                out.append("  inet_listener %s {\n    port = 0\n  }\n" % implicit)
            out.append("}\n")
        return "".join(out)

    def _dovecot_policy_conf(self):
        """Dovecot's auth policy client (Lab(auth_policy={...})), in the installed version's syntax.

        Keys: url (required: Dovecot POSTs to url?command=allow|report), nonce (default
        POLICY_NONCE), api_header (auth_policy_server_api_header: "Name:value", or a bare value
        sent as X-API-Key), reject_on_fail (bool), timeout_ms, hash_truncate, log_only,
        check_before_auth / check_after_auth / report_after_auth (bools).  The request attributes
        are Dovecot's documented default (2.4 adds fail_type)."""
        pol = self.auth_policy
        if not pol:
            return ""
        v24 = self.dovecot_version >= (2, 4)
        out = ["\n# auth policy client (tests/lab/lab.py auth_policy=)\n",
               "auth_policy_server_url = %s\n" % pol["url"],
               "auth_policy_hash_nonce = %s\n" % pol.get("nonce", POLICY_NONCE)]
        if v24:
            out.append("auth_policy_request_attributes {\n%s}\n"
                       % "".join("  %s = %s\n" % kv for kv in POLICY_ATTRIBUTES_24))
        else:
            out.append("auth_policy_request_attributes = %s\n" % POLICY_ATTRIBUTES_23)
        if pol.get("api_header"):
            out.append("auth_policy_server_api_header = %s\n" % pol["api_header"])
        if pol.get("hash_truncate") is not None:
            out.append("auth_policy_hash_truncate = %d\n" % pol["hash_truncate"])
        for key in ("reject_on_fail", "log_only", "check_before_auth", "check_after_auth",
                    "report_after_auth"):
            if pol.get(key) is not None:
                out.append("auth_policy_%s = %s\n" % (key, "yes" if pol[key] else "no"))
        if pol.get("timeout_ms") is not None:
            if v24:
                out.append("auth_policy {\n  http_client_request_absolute_timeout = %dms\n}\n"
                           % pol["timeout_ms"])
            else:
                out.append("auth_policy_server_timeout_msecs = %d\n" % pol["timeout_ms"])
        return "".join(out)

    # --- Dovecot ------------------------------------------------------------------------------

    def start_dovecot(self, timeout=15):
        """Start Dovecot (or restart it after stop_dovecot); return when auth answers a handshake."""
        if self._running("dovecot"):
            return
        err = open(os.path.join(self.dir, "dovecot.stderr"), "ab")
        p = subprocess.Popen([DOVECOT, "-F", "-c", self.dovecot_conf], stdin=subprocess.DEVNULL,
                             stdout=err, stderr=err, start_new_session=True, close_fds=True)
        err.close()
        self._popen["dovecot"] = p
        self._sessions["dovecot"] = p.pid
        self._all_sids.add(p.pid)

        def ready():
            if p.poll() is not None:
                raise RuntimeError("lab: dovecot exited with %s; see %s and %s/dovecot.stderr"
                                   % (p.returncode, self.dovecot_log, self.dir))
            try:
                return "DONE" in auth_client_handshake(self.auth_client_socket, timeout=1)
            except OSError:
                return False
        wait_until(ready, timeout, "dovecot auth-client handshake")
        wait_until(lambda: self.dovecot_auth_pids(), timeout, "dovecot/auth process")
        for proto in self.logins:
            port = getattr(self, proto + "_port")
            wait_until(lambda: tcp_listening(port), timeout, "dovecot's %s listener" % proto)

    def stop_dovecot(self):
        """A real outage: kill the master and all its children (auth too), at once.

        SIGKILL, not a clean shutdown: Dovecot's clean stop leaves dovecot/auth serving its
        connected clients.  Returns when the auth-client socket no longer accepts."""
        sid = self._sessions.pop("dovecot", None)
        if sid:
            for pid in session_pids(sid):
                _kill(pid, signal.SIGKILL)
            kill_session(sid, grace=0)
        p = self._popen.pop("dovecot", None)
        if p:
            p.wait()
        wait_until(lambda: not unix_accepts(self.auth_client_socket), 10,
                   "the auth-client socket to stop accepting")

    def dovecot_pids(self):
        sid = self._sessions.get("dovecot")
        return session_pids(sid) if sid else []

    def dovecot_auth_pids(self):
        """Pids of the dovecot/auth processes (not auth-worker): SIGSTOP them for a slow Dovecot."""
        out = []
        for pid in self.dovecot_pids():
            title = cmdline(pid)
            if title == "dovecot/auth" or title.startswith("dovecot/auth "):
                out.append(pid)
        return out

    # --- Postfix and the sink -----------------------------------------------------------------

    def start_sink(self, timeout=10):
        if self._running("sink"):
            return
        err = open(os.path.join(self.dir, "sink.stderr"), "ab")
        p = subprocess.Popen([SMTP_SINK, "-u", "postfix", "-d", os.path.join(self.sink_dir, "%M."),
                              "127.0.0.1:%d" % self.sink_port, "50"], stdin=subprocess.DEVNULL,
                             stdout=err, stderr=err, start_new_session=True, close_fds=True)
        err.close()
        self._popen["sink"] = p
        self._sessions["sink"] = p.pid
        self._all_sids.add(p.pid)
        wait_until(lambda: p.poll() is None and tcp_listening(self.sink_port)
                   or _raise_if_exited(p, "smtp-sink"), timeout, "smtp-sink")

    def start_postfix(self, timeout=30):
        """Start the sink and Postfix; return when both smtpd listeners accept connections."""
        if self._running("postfix"):
            return
        self.start_sink()
        r = subprocess.run([POSTFIX, "-c", self.postfix_dir, "start"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        pid = self.postfix_master_pid()
        if pid:
            st = _proc_stat(pid)
            self._sessions["postfix"] = st[4] if st and st[4] else pid
            self._all_sids.add(self._sessions["postfix"])
        if r.returncode != 0:
            raise RuntimeError("lab: postfix start failed (%d): %s\n--- maillog:\n%s"
                               % (r.returncode, r.stdout.decode(errors="replace"),
                                  _tail(self.maillog)))
        if not pid:
            raise RuntimeError("lab: postfix started but wrote no master.pid")
        wait_until(lambda: tcp_listening(self.submission_port)
                   and tcp_listening(self.smtps_port), timeout, "postfix smtpd listeners")

    def postfix_master_pid(self):
        try:
            with open(os.path.join(self.queue_dir, "pid", "master.pid")) as f:
                pid = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if _alive(pid) else None

    def postfix_pids(self):
        sid = self._sessions.get("postfix")
        return session_pids(sid) if sid else []

    def smtpd_pids(self):
        return [p for p in self.postfix_pids() if cmdline(p).startswith("smtpd")]

    def stop_postfix(self):
        sid = self._sessions.pop("postfix", None)
        if sid:
            kill_session(sid, grace=2.0)   # SIGTERM: master terminates its children too

    def stop_sink(self):
        sid = self._sessions.pop("sink", None)
        if sid:
            kill_session(sid, grace=0.5)
        p = self._popen.pop("sink", None)
        if p:
            p.wait()

    # --- all ----------------------------------------------------------------------------------

    def start(self):
        """Dovecot, then Postfix (and the sink)."""
        self.start_dovecot()
        self.start_postfix()
        return self

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()
        return False

    def stop(self):
        """Stop everything this lab started and remove its directory (unless kept).  Idempotent."""
        if self._stopped:
            return
        errors = []
        for step in (self.stop_postfix, self.stop_sink, self.stop_dovecot_quiet, self._sweep):
            try:
                step()
            except Exception as e:  # keep going: the other steps must still run
                errors.append("%s: %s" % (step.__name__, e))
        self._stopped = True
        if self in _LIVE_LABS:
            _LIVE_LABS.remove(self)
        if not self.keep_dir and not errors:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            _write(os.path.join(self.dir, "stopped"), "kept for reading\n", 0o644)
        if errors:
            raise RuntimeError("lab: teardown problems (dir kept: %s): %s"
                               % (self.dir, "; ".join(errors)))

    def stop_dovecot_quiet(self):
        if "dovecot" in self._sessions:
            self.stop_dovecot()

    def leftover_processes(self):
        """(pid, title) of every live process that belongs to this lab (should be [] after stop)."""
        sids = set(self._sessions.values()) | self._all_sids
        marker_env = ("MAIL_CONFIG=" + getattr(self, "postfix_dir", "\0")).encode()
        out = []
        for pid in _all_pids():
            if pid == os.getpid() or not _alive(pid):
                continue
            st = _proc_stat(pid)
            title = cmdline(pid)
            env = _proc_read(pid, "environ").split(b"\0")
            if (st and st[4] in sids) or marker_env in env or (self.dir + "/") in title:
                out.append((pid, title))
        return out

    def _sweep(self):
        """Last resort: SIGKILL anything of this lab still alive."""
        for _ in range(50):
            left = self.leftover_processes()
            if not left:
                return
            for pid, _title in left:
                _kill(pid, signal.SIGKILL)
            time.sleep(0.05)
        raise RuntimeError("lab: processes survive: %r" % self.leftover_processes())

    def _running(self, name):
        sid = self._sessions.get(name)
        return bool(sid and session_pids(sid))

    # --- clients ------------------------------------------------------------------------------

    def swaks(self, *args, port=None, timeout=30):
        """Run swaks against 127.0.0.1:port (default submission_port); return (rc, output).

        Adds `--to nobody@example.net` when no recipient is given (swaks would prompt for one).
        rc is -1 when swaks had to be killed after `timeout` seconds."""
        cmd = [SWAKS, "--server", "127.0.0.1", "--port", str(port or self.submission_port)]
        if not any(a in ("-t", "--to") or str(a).startswith("--to=") for a in args):
            cmd += ["--to", "nobody@example.net"]
        cmd += [str(a) for a in args]
        try:
            r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=timeout)
            return r.returncode, r.stdout.decode("utf-8", "replace")
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode("utf-8", "replace")
            return -1, out + "\n[lab: swaks killed after %ss]\n" % timeout

    def smtp_connect(self, port=None, starttls=False, implicit_tls=False, timeout=30,
                     source_address=None):
        """A connected smtplib client after EHLO (and STARTTLS + EHLO); for raw dialogs via
        .docmd().  Caller closes it.  Port defaults to smtps_port with implicit_tls."""
        ctx = ssl._create_unverified_context()
        if port is None:
            port = self.smtps_port if implicit_tls else self.submission_port
        src = (source_address, 0) if source_address else None
        if implicit_tls:
            s = smtplib.SMTP_SSL("127.0.0.1", port, local_hostname="client.example.test",
                                 timeout=timeout, context=ctx, source_address=src)
        else:
            s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.example.test",
                             timeout=timeout, source_address=src)
        try:
            s.ehlo()
            if starttls and not implicit_tls:
                s.starttls(context=ctx)
                s.ehlo()
        except BaseException:
            s.close()
            raise
        return s

    def smtplib_login(self, user, password, port=None, starttls=True, implicit_tls=False,
                      timeout=30, source_address=None):
        """smtplib's login() as users' code calls it; return (code, text) of the last AUTH reply.

        Note: smtplib tries every advertised mechanism it knows (PLAIN, then LOGIN here), so one
        wrong password is two AUTH attempts in one session; the result is the last reply.
        (None, text) when smtplib sent no AUTH at all (AUTH not advertised).  Connection errors
        raise."""
        s = self.smtp_connect(port, starttls=starttls, implicit_tls=implicit_tls,
                              timeout=timeout, source_address=source_address)
        try:
            code, resp = s.login(user, password)
            return code, _text(resp)
        except smtplib.SMTPResponseException as e:
            return e.smtp_code, _text(e.smtp_error)
        except smtplib.SMTPException as e:
            # AUTH not advertised (e.g. smtpd_tls_auth_only = yes without TLS), or no mechanism
            # smtplib knows: no AUTH command was sent, so there is no reply code.
            return None, str(e)
        finally:
            try:
                s.quit()
            except (smtplib.SMTPException, OSError):
                s.close()

    def imap_login(self, user, password, starttls=False, source_address=None, timeout=30):
        """Python imaplib LOGIN on imap_port; (True, text) or (False, text of the NO/BYE or the
        error).  Logs out after a successful login."""
        src = (source_address, 0) if source_address else None
        try:
            sock = socket.create_connection(("127.0.0.1", self.imap_port), timeout,
                                            source_address=src)
            c = _IMAP4Socket(sock, timeout)
        except (OSError, imaplib.IMAP4.error) as e:
            return False, "connect: %s" % e
        try:
            if starttls:
                c.starttls(ssl_context=ssl._create_unverified_context())
            typ, data = c.login(user, password)
            text = " ".join(_text(x) for x in data)
            try:
                c.logout()
            except (imaplib.IMAP4.error, OSError):
                pass
            return typ == "OK", text
        except imaplib.IMAP4.abort as e:
            return False, "abort: %s" % _text(e.args[0] if e.args else e)
        except imaplib.IMAP4.error as e:
            return False, _text(e.args[0] if e.args else e)
        except OSError as e:
            return False, "%s: %s" % (type(e).__name__, e)
        finally:
            try:
                c.shutdown()
            except OSError:
                pass

    def pop3_login(self, user, password, source_address=None, timeout=30):
        """Python poplib USER/PASS on pop3_port; (True, text) or (False, text of the -ERR or the
        error).  QUITs after a successful login."""
        src = (source_address, 0) if source_address else None
        try:
            c = poplib.POP3("127.0.0.1", self.pop3_port, timeout=timeout)
        except OSError as e:
            return False, "connect: %s" % e
        if src:  # poplib has no source_address: reconnect the same object from src
            c.sock.close()
            c.sock = socket.create_connection(("127.0.0.1", self.pop3_port), timeout,
                                              source_address=src)
            c.file = c.sock.makefile("rb")
            c.welcome = c._getresp()
        try:
            c.user(user)
            text = _text(c.pass_(password))
            c.quit()
            return True, text
        except poplib.error_proto as e:
            return False, _text(e.args[0] if e.args else e)
        except OSError as e:
            return False, "%s: %s" % (type(e).__name__, e)
        finally:
            try:
                c.close()
            except OSError:
                pass

    def sieve_login(self, user, password, source_address=None, timeout=30):
        """ManageSieve AUTHENTICATE "PLAIN" on sieve_port; (True, text) or (False, text)."""
        src = (source_address, 0) if source_address else None
        try:
            s = socket.create_connection(("127.0.0.1", self.sieve_port), timeout,
                                         source_address=src)
        except OSError as e:
            return False, "connect: %s" % e
        with s:
            f = s.makefile("rb")
            try:
                while True:  # greeting: capabilities, then OK
                    line = f.readline()
                    if not line or line.startswith((b"OK", b"NO", b"BYE")):
                        break
                s.sendall(b'AUTHENTICATE "PLAIN" "%s"\r\n'
                          % plain_response(user, password).encode())
                line = f.readline()
                ok = line.startswith(b"OK")
                if ok:
                    s.sendall(b"LOGOUT\r\n")
                return ok, _text(line).rstrip()
            except OSError as e:
                return False, "%s: %s" % (type(e).__name__, e)

    def curl_login(self, proto, user, password, source_address=None, timeout=30):
        """curl's imap:// or pop3:// login (lists the mailbox), returns (rc, output).  rc 0 is a
        good login; 67 (CURLE_LOGIN_DENIED) a refused one."""
        port = getattr(self, proto + "_port")
        cmd = [shutil.which("curl") or "/usr/bin/curl", "-sS", "-v", "--max-time", str(timeout),
               "--user", "%s:%s" % (user, password), "%s://127.0.0.1:%d/" % (proto, port)]
        if source_address:
            cmd[1:1] = ["--interface", source_address]
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout + 5)
        return r.returncode, r.stdout.decode("utf-8", "replace")

    def userdb_lookup(self, user, service="smtp", timeout=5):
        """One USER lookup on auth-userdb; returns Dovecot's reply line (USER/NOTFOUND/FAIL)."""
        return userdb_lookup(self.auth_userdb_socket, user, service, timeout)

    def sendmail_argv(self, *args):
        """Postfix's own sendmail(1) submitting to this lab's Postfix (-C its config directory)."""
        return [SENDMAIL, "-C", self.postfix_dir] + list(args)

    def mailbox_all(self):
        """Every message delivered so far (Lab(mailboxes=True)) as (delivered_to, raw bytes),
        oldest first (by file name, which virtual(8) starts with the delivery time)."""
        out = []
        for sub in ("new", "cur"):
            d = os.path.join(self.mail_dir, "all", sub)
            try:
                names = os.listdir(d)
            except OSError:
                continue
            for name in names:
                with open(os.path.join(d, name), "rb") as f:
                    data = f.read()
                out.append((name, _delivered_to(data), data))
        return [(to, data) for _name, to, data in sorted(out)]

    def mailbox_addresses(self):
        """The envelope recipients of every message delivered so far, sorted, with repeats."""
        return sorted(to for to, _data in self.mailbox_all())

    def mailbox(self, address):
        """The raw messages (bytes) delivered to address so far, oldest first."""
        return [data for to, data in self.mailbox_all() if to == address.lower()]

    def sink_messages(self):
        """Paths of the messages smtp-sink stored so far."""
        return sorted(os.path.join(self.sink_dir, f) for f in os.listdir(self.sink_dir))

    def maillog_text(self, since=0):
        """Postfix's log from byte offset `since` (see log_mark)."""
        return _read_text(self.maillog, since)

    def dovecot_log_text(self, since=0):
        return _read_text(self.dovecot_log, since)

    @staticmethod
    def log_mark(path):
        """Current size of a log file: pass it as `since` to read only what comes after."""
        try:
            return os.path.getsize(path)
        except OSError:
            return 0

    def wait_log(self, path, text, since=0, timeout=5.0, where=None):
        """Wait until `text` appears in log `path` after offset `since` (in a line for which
        where(line) is true, if given); return the first such line.  Postfix logs through
        postlogd, a moment after the SMTP reply."""
        found = []

        def check():
            for line in _read_text(path, since).splitlines():
                if text in line and (where is None or where(line)):
                    found.append(line)
                    return True
            return False
        wait_until(check, timeout, "%r in %s" % (text, path))
        return found[0]


class _IMAP4Socket(imaplib.IMAP4):
    """imaplib.IMAP4 over a socket the caller connected (to choose the source address)."""

    def __init__(self, sock, timeout):
        self._given_sock = sock
        imaplib.IMAP4.__init__(self, "127.0.0.1", 0, timeout)

    def _create_socket(self, timeout):
        return self._given_sock


# --- the two Dovecot protocols, minimal clients (for readiness checks and tests) ------------

def _recv_lines(sock, until, timeout):
    """Read lines until one starts with one of the `until` prefixes; return all lines."""
    sock.settimeout(timeout)
    buf = b""
    lines = []
    while True:
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            lines.append(line.decode("utf-8", "replace"))
            if lines[-1].startswith(until):
                return lines
        chunk = sock.recv(4096)
        if not chunk:
            return lines
        buf += chunk


def auth_client_handshake(path, timeout=5):
    """Connect to an auth-client socket, do the client handshake, return the server's lines."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(b"VERSION\t1\t0\nCPID\t%d\n" % os.getpid())
        return _recv_lines(s, ("DONE",), timeout)


def userdb_lookup(path, user, service="smtp", timeout=5):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(b"VERSION\t1\t0\nUSER\t1\t%s\tservice=%s\n" % (user.encode(), service.encode()))
        lines = _recv_lines(s, ("USER\t1\t", "NOTFOUND\t1", "FAIL\t1"), timeout)
        return lines[-1] if lines else ""


# --- labs left behind by a test process that died without running its teardown ---------------

def _start_time(pid):
    data = _proc_read(pid, "stat").decode("utf-8", "replace")
    try:
        return data[data.rindex(")") + 2:].split()[19]
    except (ValueError, IndexError):
        return None


def _write_owner(d):
    _write(os.path.join(d, "owner"), "%d %s\n" % (os.getpid(), _start_time(os.getpid())), 0o644)


def _owner_alive(d):
    try:
        with open(os.path.join(d, "owner")) as f:
            pid, start = f.read().split()
        return _start_time(int(pid)) == start
    except (OSError, ValueError):
        return True  # no readable owner file: not ours to judge


def cleanup_stale_labs(base=None):
    """Kill the processes of, and remove, lab dirs whose owning process is gone (SIGKILLed test
    runs).  Labs of live processes, and dirs kept on purpose (AUTHGUARD_LAB_KEEP), are left alone.
    Returns the dirs cleaned."""
    base = base or tempfile.gettempdir()
    cleaned = []
    try:
        names = os.listdir(base)
    except OSError:
        return cleaned
    for name in names:
        d = os.path.join(base, name)
        if (not name.startswith("aglab-") or not os.path.isfile(os.path.join(d, "owner"))
                or os.path.exists(os.path.join(d, "stopped")) or _owner_alive(d)):
            continue
        marker_env = ("MAIL_CONFIG=" + os.path.join(d, "postfix")).encode()
        sids = set()
        for pid in _all_pids():
            if pid == os.getpid() or not _alive(pid):
                continue
            if (d + "/") in cmdline(pid) or marker_env in _proc_read(pid, "environ").split(b"\0"):
                st = _proc_stat(pid)
                if st and st[4] > 1:
                    sids.add(st[4])
                _kill(pid, signal.SIGKILL)
        for sid in sids:
            try:
                kill_session(sid, grace=0)
            except RuntimeError:
                pass
        shutil.rmtree(d, ignore_errors=True)
        cleaned.append(d)
    return cleaned


# --- the Postfix queue template ----------------------------------------------------------------

_QUEUE_TEMPLATE = []      # [dir] once made; removed at exit
_QUEUE_TEMPLATE_LOCK = threading.Lock()


def _queue_template():
    """A Postfix queue directory tree made by `postfix check`, once per process."""
    with _QUEUE_TEMPLATE_LOCK:
        if not _QUEUE_TEMPLATE:
            t = tempfile.mkdtemp(prefix="aglab-queue-template-", dir="/tmp")
            os.chmod(t, 0o755)
            _write_owner(t)
            _QUEUE_TEMPLATE.append(t)
            atexit.register(shutil.rmtree, t, True)
            for sub in ("postfix", "spool", "data"):
                os.mkdir(os.path.join(t, sub), 0o755)
            pf = pwd.getpwnam("postfix")
            os.chown(os.path.join(t, "data"), pf.pw_uid, pf.pw_gid)
            _write(os.path.join(t, "postfix", "main.cf"),
                   "compatibility_level = 3.6\nqueue_directory = %s/spool\n"
                   "data_directory = %s/data\nmaillog_file = %s/maillog\n"
                   "maillog_file_prefixes = %s\n" % (t, t, t, t), 0o644)
            _write(os.path.join(t, "postfix", "master.cf"), _MASTER_CF.format(
                sub=free_port(), smtps=free_port(), maxproc=1), 0o644)
            r = subprocess.run([POSTFIX, "-c", os.path.join(t, "postfix"), "check"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
            if r.returncode != 0:
                raise RuntimeError("lab: postfix check failed: %s"
                                   % r.stdout.decode(errors="replace"))
        return os.path.join(_QUEUE_TEMPLATE[0], "spool")


# --- small helpers ----------------------------------------------------------------------------

def _write(path, text, mode):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def _read_text(path, since=0):
    """Text of a file from byte offset `since` ("" if it does not exist)."""
    try:
        with open(path, "rb") as f:
            f.seek(since)
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _delivered_to(data):
    """The first Delivered-To: of a delivered message (virtual(8) prepends it), lower case."""
    for line in data.split(b"\n"):
        if not line.strip():
            break
        if line.lower().startswith(b"delivered-to:"):
            return line.split(b":", 1)[1].strip().decode("utf-8", "replace").lower()
    return None


def _tail(path, n=30):
    return "\n".join(_read_text(path).splitlines()[-n:])


def _text(b):
    return b.decode("utf-8", "replace") if isinstance(b, bytes) else str(b)


def _traversable_by_all(path):
    path = os.path.abspath(path)
    while True:
        try:
            if not os.stat(path).st_mode & 0o001:
                return False
        except OSError:
            return False
        if path == "/":
            return True
        path = os.path.dirname(path)


def _raise_if_exited(p, what):
    if p.poll() is not None:
        raise RuntimeError("lab: %s exited with %s" % (what, p.returncode))
    return False


def b64(s):
    """base64 of a str/bytes as str (SASL responses)."""
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def plain_response(user, password, authzid=""):
    """The SASL PLAIN response for user/password, base64-encoded."""
    return b64("%s\0%s\0%s" % (authzid, user, password))


@atexit.register
def _stop_all_labs():
    for lab in list(_LIVE_LABS):
        try:
            lab.stop()
        except Exception as e:  # atexit: report, do not raise
            print("lab: atexit teardown: %s" % e, file=sys.stderr)


# --- configuration templates ------------------------------------------------------------------

# The listeners and anvil, the same in Dovecot 2.3 and 2.4: appended to either configuration.
_DOVECOT_SERVICES = """
service auth {{
  unix_listener auth-client {{
    mode = 0666
  }}
  unix_listener auth-userdb {{
    mode = 0666
  }}
}}
service anvil {{
  chroot =
  # no auth penalty
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
{extra}
"""

_DOVECOT_CONF = """\
# generated by tests/lab/lab.py: Dovecot as an authentication server only
protocols = {protocols}
base_dir = {base_dir}
state_dir = {state_dir}
log_path = {log_path}
ssl = {ssl}
# disable_plaintext_auth keeps its default (yes): verified, it does not stop the auth server
# from accepting cleartext PLAIN/LOGIN from Postfix without `secured` (login processes enforce it).
auth_mechanisms = {mechanisms}
auth_verbose = yes
auth_debug = {auth_debug}
# Answer failures at once (production: 2s delay and the anvil penalty, up to 15s per IP).
auth_failure_delay = 0
auth_cache_size = 0

# Special accounts: the Lua passdb answers for them (and only them), with Dovecot's own
# passdb results, so Dovecot sends its real FAIL codes.  return-fail: never fall through.
passdb {{
  driver = lua
  args = file={lua_file} blocking=no
  username_filter = {special}
  result_failure = return-fail
  result_internalfail = return-fail
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users_file}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {users_file}
}}
"""

# Dovecot 2.4 (Debian 13): the same server in 2.4's syntax (dovecot_config_version first; named
# passdb/userdb blocks with their drivers' own settings instead of args).  auth_cache_size,
# auth_mechanisms, auth_failure_delay and the listeners keep their 2.3 form.
_DOVECOT24_CONF = """\
# generated by tests/lab/lab.py: Dovecot as an authentication server only
dovecot_config_version = 2.4.1
dovecot_storage_version = 2.4.1
protocols = {protocols}
base_dir = {base_dir}
state_dir = {state_dir}
log_path = {log_path}
ssl = {ssl}
# auth_allow_cleartext (2.3's disable_plaintext_auth) keeps its default (no): verified, the auth
# server still accepts PLAIN/LOGIN from Postfix without `secured` (login processes enforce it).
auth_mechanisms = {mechanisms}
auth_verbose = yes
auth_debug = {auth_debug}
# Answer failures at once (production: 2s delay and the anvil penalty, up to 15s per IP).
auth_failure_delay = 0
auth_cache_size = 0

# Special accounts: the Lua passdb answers for them (and only them), with Dovecot's own
# passdb results, so Dovecot sends its real FAIL codes.  return-fail: never fall through.
passdb special {{
  driver = lua
  lua_file = {lua_file}
  username_filter = {special}
  result_failure = return-fail
  result_internalfail = return-fail
}}
passdb passwd-file {{
  default_password_scheme = PLAIN
  passwd_file_path = {users_file}
}}
userdb passwd-file {{
  passwd_file_path = {users_file}
}}
"""

_LUA_PASSDB = """\
-- generated by tests/lab/lab.py: special accounts that make Dovecot answer with its FAIL codes.
local results = {
%s}

local function result_for(req)
  local name = results[req.user]
  if name == nil then
    return dovecot.auth.PASSDB_RESULT_USER_UNKNOWN, "not a special lab account"
  end
  return dovecot.auth[name], "lab special account: " .. name
end

-- PLAIN and LOGIN call this one (any password gives the account's result).
function auth_passdb_verify_password(req, password)
  return result_for(req)
end

-- Credential lookups (not used by PLAIN/LOGIN).
function auth_passdb_lookup(req)
  return result_for(req)
end
""" % "".join('  ["%s"] = "%s",\n' % kv for kv in SPECIAL_USERS.items())

_MASTER_CF = """\
# generated by tests/lab/lab.py: no chroot anywhere; listeners on unprivileged loopback ports
# service type  private unpriv  chroot  wakeup  maxproc command + args
{sub}     inet  n       -       n       -       {maxproc}       smtpd
{smtps}   inet  n       -       n       -       {maxproc}       smtpd
  -o smtpd_tls_wrappermode=yes
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

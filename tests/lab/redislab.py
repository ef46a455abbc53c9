"""A real redis-server (Debian's) on a free loopback port and a unix socket, for the shared state.

    r = Redis(directory).start()   ...   r.cli("KEYS", "*")   r.kill()   r.start()   r.stop()

With tls=(cert, key, ca) its TCP port speaks TLS only (Redis 6 and later, built with TLS as
Debian 13's is), with that server certificate, asking clients for a certificate from ca;
TestPKI makes the certificates with openssl. The unix socket stays plain: redis-cli uses it.

No persistence (a restart comes back empty, as after a crash without a dump); its own session,
so that stop() and the suite's teardown leave no process behind.
"""

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse

from lab import free_port


class Redis:
    def __init__(self, d, password=None, tls=None, name="redis"):
        self.dir = d
        self.port = free_port()
        self.unix = os.path.join(d, name + ".sock")
        self.log = os.path.join(d, name + ".log")
        self.password = password
        self.tls = tls
        self.proc = None

    def url(self, db=0):
        auth = ":%s@" % urllib.parse.quote(self.password, safe="") if self.password else ""
        return "redis://%s127.0.0.1:%d/%d" % (auth, self.port, db)

    def unix_url(self, db=0):
        auth = ":%s@" % urllib.parse.quote(self.password, safe="") if self.password else ""
        return "unix:%s%s?db=%d" % (auth, self.unix, db)

    def tls_url(self, host="127.0.0.1", db=0):
        auth = ":%s@" % urllib.parse.quote(self.password, safe="") if self.password else ""
        return "rediss://%s%s:%d/%d" % (auth, host, self.port, db)

    def start(self, timeout=10):
        if self.tls:
            cert, key, ca = self.tls
            listen = ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", cert,
                      "--tls-key-file", key, "--tls-ca-cert-file", ca,
                      "--tls-auth-clients", "yes"]
        else:
            listen = ["--port", str(self.port)]
        argv = ["redis-server"] + listen + [
            "--bind", "127.0.0.1", "-::1", "--unixsocket", self.unix,
            "--unixsocketperm", "700", "--save", "", "--appendonly", "no", "--dir", self.dir,
            "--logfile", self.log, "--daemonize", "no", "--protected-mode", "no"]
        if self.password:
            argv += ["--requirepass", self.password]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("redis-server exited %s" % self.proc.returncode)
            try:
                if self.cli("PING").strip() == "PONG":
                    return self
            except subprocess.CalledProcessError:
                pass
            if time.time() > deadline:
                raise RuntimeError("redis-server did not answer PING")
            time.sleep(0.05)

    def cli(self, *args):
        argv = (["redis-cli", "-s", self.unix] if self.tls else
                ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port)])
        env = dict(os.environ, REDISCLI_AUTH=self.password) if self.password else None
        return subprocess.run(argv + [str(a) for a in args], capture_output=True, text=True,
                              check=True, timeout=10, env=env).stdout

    def signal(self, sig):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def kill(self):
        """As a crash: SIGKILL, state gone."""
        if self.proc:
            self.signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def stop(self):
        self.kill()

    def accepts(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), 0.5):
                return True
        except OSError:
            return False


class TestPKI:
    """A test CA, and certificates it signs (EC P-256, a day), made with openssl in d.

        pki = TestPKI(d); cert, key = pki.issue("server", dns=["localhost"], ips=["127.0.0.1"])
        pki.ca   the CA's certificate;  TestPKI(d2, "Other CA").ca  a CA that signed none of them
    """

    def __init__(self, d, name="authguard lab CA"):
        self.dir = d
        os.makedirs(d, exist_ok=True)
        self.ca = os.path.join(d, "ca.pem")
        self.ca_key = os.path.join(d, "ca.key")
        self._openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                      "-nodes", "-keyout", self.ca_key, "-out", self.ca, "-days", "1",
                      "-subj", "/CN=" + name)

    def issue(self, name, dns=(), ips=(), client=False):
        """A certificate and its key, signed by this CA: (cert path, key path)."""
        cert, key, csr = (os.path.join(self.dir, name + ext) for ext in (".pem", ".key", ".csr"))
        ext = os.path.join(self.dir, name + ".ext")
        with open(ext, "w") as f:
            f.write("basicConstraints = CA:FALSE\nkeyUsage = digitalSignature\n")
            f.write("extendedKeyUsage = %s\n" % ("clientAuth" if client else "serverAuth"))
            sans = ["DNS:" + n for n in dns] + ["IP:" + a for a in ips]
            if sans:
                f.write("subjectAltName = %s\n" % ",".join(sans))
        self._openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                      "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=" + name)
        self._openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key,
                      "-CAcreateserial", "-out", cert, "-days", "1", "-extfile", ext)
        os.chmod(key, 0o600)
        return cert, key

    @staticmethod
    def _openssl(*args):
        subprocess.run([shutil.which("openssl") or "openssl"] + list(args), check=True,
                       capture_output=True, timeout=30)

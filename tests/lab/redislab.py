"""A real redis-server (Debian's) on a free loopback port and a unix socket, for the shared state.

    r = Redis(directory).start()   ...   r.cli("KEYS", "*")   r.kill()   r.start()   r.stop()

No persistence (a restart comes back empty, as after a crash without a dump); its own session,
so that stop() and the suite's teardown leave no process behind.
"""

import os
import signal
import socket
import subprocess
import time
import urllib.parse

from lab import free_port


class Redis:
    def __init__(self, d, password=None):
        self.dir = d
        self.port = free_port()
        self.unix = os.path.join(d, "redis.sock")
        self.log = os.path.join(d, "redis.log")
        self.password = password
        self.proc = None

    def url(self, db=0):
        auth = ":%s@" % urllib.parse.quote(self.password, safe="") if self.password else ""
        return "redis://%s127.0.0.1:%d/%d" % (auth, self.port, db)

    def unix_url(self, db=0):
        auth = ":%s@" % urllib.parse.quote(self.password, safe="") if self.password else ""
        return "unix:%s%s?db=%d" % (auth, self.unix, db)

    def start(self, timeout=10):
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--unixsocket", self.unix, "--unixsocketperm", "700", "--save", "",
                "--appendonly", "no", "--dir", self.dir, "--logfile", self.log,
                "--daemonize", "no", "--protected-mode", "no"]
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
        argv = ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port)]
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

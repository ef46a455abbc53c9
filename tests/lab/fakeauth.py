"""A scripted stand-in for Dovecot's auth-client socket, for fault injection only.

Real Dovecot never sends overlong or NUL-bearing lines, unknown commands, or CONT for PLAIN,
and cannot be told to hang up at a chosen moment; this server does exactly that so the tests can
see the gate survive it. What it does with a request is chosen by the PLAIN user name:

    ok-*        OK <id> user=<user>
    overlong    a FAIL line of 20 000 bytes
    nul         a FAIL line with a NUL byte in it (then nothing)
    unknown     an unknown command, then FAIL
    cont        CONT for a PLAIN request
    hangup      closes the connection
    silent      never answers
    anything else: FAIL <id>

A request whose password is in FakeAuth.hold is never answered, whatever its user. Every PLAIN
AUTH line is also kept in FakeAuth.auths as (connection number, id, user, password), so that a
test can tell which request reached "Dovecot" and on which connection. hang_up() shuts down
every connection at once (Dovecot's auth process going away with requests in flight); with
listen=False it also stops accepting, so that reconnecting fails. handshake_delay (seconds) holds
back the handshake of new connections (a Dovecot slow to start).

Mechanisms CRAM-MD5 and DIGEST-MD5 (a challenge of 300 base64 bytes) are answered with a
challenge and then OK user=cram-user.
handshake: "normal", "never" (no DONE), "version2" (VERSION 2), "dovecot24" (Dovecot 2.4.1's
handshake to a client that announced protocol 1.3: VERSION 1 3 and, after the mechanisms, a
mechanism that needs TLS channel binding, the line captured from Dovecot 2.4.1 with
scram-sha-256-plus in auth_mechanisms).
"""

import base64
import os
import socket
import threading
import time


class FakeAuth:
    def __init__(self, path, handshake="normal", mechs=("PLAIN", "LOGIN", "CRAM-MD5",
                                                        "DIGEST-MD5")):
        self.path = path
        self.handshake = handshake
        self.mechs = mechs
        self.requests = []          # (mech, user) seen
        self.auths = []             # (connection number, id, user, password) of PLAIN
        self.hold = set()           # passwords never answered
        self.handshake_delay = 0
        self.connections = 0
        if os.path.exists(path):
            os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        os.chmod(path, 0o666)
        self.sock.listen(16)
        self.stopping = False
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self):
        self.stopping = True
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass
        self.sock.close()
        if os.path.exists(self.path):
            os.unlink(self.path)

    def hang_up(self, listen=True):
        """Shut down every connection now; listen=False: and accept no more."""
        if not listen:
            self.stopping = True
            self.sock.close()
            if os.path.exists(self.path):
                os.unlink(self.path)
        for c in self.conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            self.conns.append(c)
            threading.Thread(target=self._serve, args=(c, self.connections),
                             daemon=True).start()

    def _hello(self, c):
        if self.handshake == "never":
            return
        if self.handshake_delay:
            time.sleep(self.handshake_delay)
        version = "2" if self.handshake == "version2" else "1"
        minor = "3" if self.handshake == "dovecot24" else "2"
        out = "VERSION\t%s\t%s\n" % (version, minor)
        for m in self.mechs:
            out += "MECH\t%s\tplaintext\n" % m
        if self.handshake == "dovecot24":
            out += "MECH\tSCRAM-SHA-256-PLUS\tmutual-auth\tchannel-binding\n"
        out += "SPID\t1\nCUID\t1\nCOOKIE\t00\nDONE\n"
        c.sendall(out.encode())

    def _serve(self, c, number=0):
        buf = b""
        try:
            self._hello(c)
            while True:
                data = c.recv(65536)
                if not data:
                    return
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if not self._line(c, line.decode("utf-8", "replace"), number):
                        c.close()
                        return
        except OSError:
            return

    def _line(self, c, line, number=0):
        f = line.split("\t")
        if f[0] == "CONT" and len(f) >= 3:
            c.sendall(("OK\t%s\tuser=cram-user\n" % f[1]).encode())
            return True
        if f[0] != "AUTH":
            return True
        rid, mech = f[1], f[2]
        params = dict(p.split("=", 1) for p in f[3:] if "=" in p)
        if mech in ("CRAM-MD5", "DIGEST-MD5"):
            self.requests.append((mech, None))
            challenge = b"<1.2@fake>" if mech == "CRAM-MD5" else \
                b'realm="example.test",nonce="' + b"n" * 200 + b'",qop="auth",algorithm=md5-sess'
            c.sendall(("CONT\t%s\t%s\n" % (rid, base64.b64encode(challenge).decode())).encode())
            return True
        plain = base64.b64decode(params.get("resp", "")).split(b"\0")
        user = plain[1].decode()
        password = plain[2].decode() if len(plain) > 2 else ""
        self.requests.append((mech, user))
        self.auths.append((number, rid, user, password))
        if password in self.hold:
            pass
        elif user.startswith("ok-"):
            c.sendall(("OK\t%s\tuser=%s\n" % (rid, user)).encode())
        elif user == "overlong":
            c.sendall(("FAIL\t%s\treason=%s\n" % (rid, "x" * 20000)).encode())
        elif user == "nul":
            c.sendall(b"FAIL\t" + rid.encode() + b"\tuser=a\0b\n")
        elif user == "unknown":
            c.sendall(("BOGUS\t%s\nFAIL\t%s\n" % (rid, rid)).encode())
        elif user == "cont":
            c.sendall(("CONT\t%s\tAAAA\n" % rid).encode())
        elif user == "hangup":
            return False
        elif user == "silent":
            pass
        else:
            c.sendall(("FAIL\t%s\n" % rid).encode())
        return True

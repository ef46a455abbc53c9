"""authguard-milter in the lab: configuration, start/stop, its log, miltertest runs.

    m = Milter(dir, control="/path/to/policyd/control", authserv_id="mx.example.test").start()
    lines, rc = m.miltertest("auth_postfix", policyd=True)

The milter runs in the foreground (-f) with its log on stderr, written to Milter.log.  With
valgrind=True it runs under valgrind (memcheck, leak check); stop() then returns valgrind's
verdict through the exit status.  The binary comes from $AUTHGUARD_BUILD, as in gatelab.py.
"""

import os
import subprocess

from gatelab import BUILD, Daemon, parse_logfmt

HERE = os.path.dirname(os.path.abspath(__file__))
MILTER = os.path.join(BUILD, "authguard-milter")
SCRIPTS = os.path.join(HERE, "..", "milter")
MILTERTEST = "/usr/bin/miltertest"
VALGRIND = ["valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect", "--show-leak-kinds=definite,indirect",
            "--track-fds=no"]


class Milter(Daemon):
    name = "authguard-milter"

    def __init__(self, d, name="milter", control=None, valgrind=False, **conf):
        self.dir = d
        self.socket = os.path.join(d, name + ".sock")
        self.conf_path = os.path.join(d, name + ".conf")
        self.log = os.path.join(d, name + ".log")
        self.valgrind = valgrind
        self.stop_wait = 60 if valgrind else 10
        self.proc = None
        settings = {
            "milter_listen": "unix:" + self.socket,
            "control_listen": "unix:" + (control or os.path.join(d, "no-policyd")),
            "state_dir": os.path.join(d, "state"),
            "socket_mode": "0666",
            "authserv_id": "mx.example.test",
            "client_detail": "full",
            "user": "root",             # the lab runs as root; a daemon needs it said
        }
        settings.update({k: v for k, v in conf.items() if v is not None})
        for k in [k for k, v in conf.items() if v is None]:
            settings.pop(k, None)
        self.authserv_id = settings["authserv_id"]
        with open(self.conf_path, "w") as f:
            f.write("# written by tests/lab/milterlab.py\n")
            for k, v in settings.items():
                f.write("%s = %s\n" % (k, v))

    def argv(self):
        return (VALGRIND if self.valgrind else []) + [MILTER, "-f", "-c", self.conf_path]

    def events(self):
        out = []
        for line in self.log_text().splitlines():
            i = line.find(" event=milter")
            if i >= 0:
                ev = parse_logfmt(line[i + 1:])
                ev["_line"] = line
                out.append(ev)
        return out

    def miltertest(self, script, policyd):
        """Run tests/milter/<script>.lua; its ok/not ok lines and miltertest's exit status."""
        p = subprocess.run([MILTERTEST, "-D", "SOCK=unix:" + self.socket,
                            "-D", "SERVID=" + self.authserv_id,
                            "-D", "POLICYD=" + ("yes" if policyd else "no"),
                            "-D", "SCRIPT=" + script, "-D", "DIR=" + SCRIPTS,
                            "-s", os.path.join(SCRIPTS, "run.lua")],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=300)
        return p.stdout.decode("utf-8", "replace").splitlines(), p.returncode

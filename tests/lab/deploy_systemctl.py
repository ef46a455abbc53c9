#!/usr/bin/env python3
"""systemctl for the replay of doc/deploy.md (tests/lab/test_deploy.py).

The replay runs in a sandbox (its own mount, network and pid namespaces) where systemd is not
PID 1, so this stands in for the few systemctl commands the guide uses: daemon-reload, enable
[--now], start, restart and reload.  authguard's units are read from the installed unit files and
started as systemd would start them: ExecStartPre, RuntimeDirectory and StateDirectory, then
ExecStart with NOTIFY_SOCKET, as the unit's User= and Group= when it names them, and the start
waits for READY=1 as Type=notify does.  postfix is
started and reloaded by the commands of Debian's unit (postfix.service on Debian 13, the
postfix@- instance on Debian 12); dovecot by its own commands, as its unit does (dovecot, which
forks instead of -F, and doveadm reload); nginx by the commands of Debian's nginx.service
(ExecStartPre, ExecStart, ExecReload, ExecStop).  An authguard unit that is not Type=notify is
taken as started once its process has run for a second without exiting."""

import grp
import os
import pwd
import shlex
import signal
import socket
import subprocess
import sys
import time

UNITDIR = "/usr/lib/systemd/system"
RUN = "/run/deploy-systemctl"


def unit(name):
    keys = {}
    with open(os.path.join(UNITDIR, name + ".service")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(("#", "[")) and "=" in line:
                k, v = line.split("=", 1)
                keys.setdefault(k, []).append(v)
    return keys


def as_user(u, argv):
    """argv as the unit's User= and Group= (with the user's other groups), as systemd runs
    ExecStartPre and ExecStart; unchanged without User=."""
    if not u.get("User"):
        return argv
    group = u.get("Group", [None])[0] or grp.getgrgid(pwd.getpwnam(u["User"][0]).pw_gid).gr_name
    return ["setpriv", "--reuid=" + u["User"][0], "--regid=" + group, "--init-groups"] + argv


def made_dir(path, u, kind):
    """A RuntimeDirectory or StateDirectory: its mode, and the unit's user as its owner."""
    mode = int(u.get(kind + "Mode", ["0755" if kind == "RuntimeDirectory" else "0700"])[0], 8)
    os.makedirs(path, mode=mode, exist_ok=True)
    os.chmod(path, mode)
    if u.get("User"):
        pw = pwd.getpwnam(u["User"][0])
        gid = grp.getgrnam(u["Group"][0]).gr_gid if u.get("Group") else pw.pw_gid
        os.chown(path, pw.pw_uid, gid)


def start_authguard(name):
    u = unit(name)
    for d in u.get("RuntimeDirectory", []):
        made_dir(os.path.join("/run", d), u, "RuntimeDirectory")
    for d in u.get("StateDirectory", []):
        made_dir(os.path.join("/var/lib", d), u, "StateDirectory")
    for pre in u.get("ExecStartPre", []):
        subprocess.run(as_user(u, shlex.split(pre)), check=True)
    os.makedirs(RUN, exist_ok=True)
    path = os.path.join(RUN, name + ".notify")
    if os.path.exists(path):
        os.unlink(path)
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(path)
    os.chmod(path, 0o666)       # as systemd's: the daemon writes after it is no longer root
    ns.settimeout(0.2)
    log = open("/var/log/%s.log" % name, "ab")
    p = subprocess.Popen(as_user(u, shlex.split(u["ExecStart"][0])), stdin=subprocess.DEVNULL,
                         stdout=log, stderr=log, env=dict(os.environ, NOTIFY_SOCKET=path),
                         start_new_session=True)
    with open(os.path.join(RUN, name + ".pid"), "w") as f:
        f.write(str(p.pid))
    if u.get("Type", ["simple"])[0] != "notify":
        time.sleep(1)
        if p.poll() is None:
            return
    deadline = time.time() + 60         # systemd's default start timeout is 90 s
    while time.time() < deadline:
        try:
            if ns.recv(256) == b"READY=1":
                return
        except socket.timeout:
            pass
        if p.poll() is not None:
            break
    with open("/var/log/%s.log" % name) as f:
        sys.exit("systemctl: %s did not become ready:\n%s" % (name, f.read()[-3000:]))


def postfix_unit():
    """Debian's unit that runs Postfix, its instance's %i filled in."""
    u = unit("postfix")
    if u.get("ExecStart") != ["/bin/true"]:
        return u
    u = unit("postfix@")                # Debian 12: postfix.service only groups the instances
    return {k: [v.replace("%i", "-").replace("%I", "-") for v in vs] for k, vs in u.items()}


def run_unit(u, key):
    """Run the unit's commands for key (ExecStartPre, ExecStart, ExecReload) as systemd does:
    with its Environment and an INVOCATION_ID, and /run/systemd/system there (Debian 13's
    "postfix debian-systemd-start" checks both); a failure stops unless the command starts
    with "-"."""
    os.makedirs("/run/systemd/system", exist_ok=True)
    env = dict(os.environ, INVOCATION_ID=os.urandom(16).hex())
    for e in u.get("Environment", []):
        for kv in shlex.split(e):
            k, v = kv.split("=", 1)
            env[k] = v
    for cmd in u.get(key, []):
        prefix = cmd[:len(cmd) - len(cmd.lstrip("-+@!:"))]
        subprocess.run(shlex.split(cmd[len(prefix):]), check="-" not in prefix, env=env)


def start(name):
    if name == "dovecot":
        subprocess.run(["dovecot"], check=True)
    elif name == "nginx":
        u = unit("nginx")
        run_unit(u, "ExecStartPre")
        run_unit(u, "ExecStart")
    elif name == "postfix":
        u = postfix_unit()
        run_unit(u, "ExecStartPre")
        run_unit(u, "ExecStart")
    else:
        start_authguard(name)


def reload(name):
    if name == "dovecot":
        subprocess.run(["doveadm", "reload"], check=True)
    elif name == "postfix":
        run_unit(postfix_unit(), "ExecReload")
    elif name == "nginx":
        run_unit(unit("nginx"), "ExecReload")
    else:
        with open(os.path.join(RUN, name + ".pid")) as f:
            os.kill(int(f.read()), signal.SIGHUP)


def stop(name):
    """authguard's daemons only: SIGTERM, as systemd sends, then wait for the process to go."""
    with open(os.path.join(RUN, name + ".pid")) as f:
        pid = int(f.read())
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + 90         # systemd's default stop timeout
    while time.time() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:       # not our child: poll its existence
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        time.sleep(0.05)
    sys.exit("systemctl: %s did not stop" % name)


def main(args):
    args = [a for a in args if a not in ("-q", "--quiet", "--no-pager")]
    cmd, names = args[0], [n[:-len(".service")] if n.endswith(".service") else n
                           for n in args[1:] if not n.startswith("--")]
    if cmd == "daemon-reload":
        return
    if cmd == "enable":
        if "--now" in args:
            for n in names:
                start(n)
        return
    for n in names:
        if cmd == "start":
            start(n)
        elif cmd == "reload":
            reload(n)
        elif cmd == "restart" and n.startswith("authguard"):
            stop(n)
            start(n)
        elif cmd == "restart" and n == "nginx":
            if os.path.exists("/run/nginx.pid"):
                run_unit(unit("nginx"), "ExecStop")
            start(n)
        else:
            sys.exit("systemctl: %s: not needed by the guide" % cmd)


if __name__ == "__main__":
    main(sys.argv[1:])

#!/usr/bin/env python3
"""make bench: the policy service against a no-logic DUNNO server, and the milter through real
Postfix against no milter and a null milter (bench/milterbench.py), and IMAP logins with and
without the auth policy door (bench/doorbench.py), and authguard-web's result page
(bench/webbench.py); same machine, same run.

The servers take turns, ROUNDS times each, and the median round of each is reported: on a
small machine one round alone swings by a fifth.

64 connections with one request in flight each (as 64 smtpd processes), 100,000 tracked accounts
loaded from a state file, nine in ten requests authenticated RCPTs, one in ten unauthenticated
on a submission port. Prints a table and writes it to bench/RESULTS.md.
"""

import os
import platform
import subprocess
import sys
import tempfile
import time

import doorbench
import gatebench
from benchutil import median, wait_accepts
import milterbench
import reactbench
import webbench

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "build")
CONNS, SECS, ACCOUNTS, ROUNDS = 64, 5, 100000, 3


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def load(sock):
    r = subprocess.run([os.path.join(BUILD, "policyload"), sock, str(CONNS), str(SECS),
                        str(ACCOUNTS)], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("policyload: %s" % r.stderr.strip())
    out = r.stdout
    n, rps, p50, p99, errors = out.split()
    return int(n), float(rps), int(p50), int(p99), int(errors)


def state_file(path, n):
    now = int(time.time())
    with open(path, "w") as f:
        f.write("authguard-state 1\n")
        for i in range(n):
            f.write("E a user%d@example.com 0 0 0\nF %d %d %d\n" % (i, now - 5, i + 1, 7))


def start_policyd(d, state, mode):
    conf = os.path.join(d, "authguard.conf")
    with open(conf, "w") as f:
        f.write("user = root\nsasl_listen = unix:%s/auth\npolicy_listen = unix:%s/policy\n"
                "control_listen = unix:%s/control\nsasl_upstream = unix:%s/none\n"
                "state_dir = %s\nmax_tracked = 200000\npolicy_log = %s\n"
                % (d, d, d, d, state, mode))
    state_file(os.path.join(state, "state"), ACCOUNTS)
    log = open(os.path.join(d, "policyd.log"), "w")
    p = subprocess.Popen([os.path.join(BUILD, "authguard-policyd"), "-f", "-c", conf],
                         stderr=log)
    wait_accepts(os.path.join(d, "policy"), p)
    time.sleep(0.5)
    return p


def start_postfwd(d):
    """postfwd (Debian) with a per-SASL-user rate rule that never trips in the run."""
    rules = os.path.join(d, "postfwd.rules")
    with open(rules, "w") as f:
        f.write("id=RATE01; sasl_username=~/./; "
                "action=rate(sasl_username/100000000/60/450 4.7.1 rate limit exceeded)\n")
    pid = os.path.join(d, "postfwd.pid")
    with open(os.path.join(d, "postfwd.log"), "w") as log:
        subprocess.run(["postfwd", "-f", rules, "--interface", "127.0.0.1", "--port", "10045",
                        "--nodns", "--pidfile", pid, "-u", "nobody", "-g", "nogroup"],
                       check=True, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(500):
        if subprocess.run(["sh", "-c", "ss -ltn | grep -q 127.0.0.1:10045"]).returncode == 0:
            return pid
        time.sleep(0.02)
    raise RuntimeError("postfwd did not listen")


def stop_postfwd(pid):
    subprocess.run(["postfwd", "--kill", "--pidfile", pid], capture_output=True)
    subprocess.run(["pkill", "-f", "postfwd2::"], capture_output=True)
    time.sleep(0.5)


def start_prl(d):
    """policyd-rate-limit (Debian): the same limit per SASL user, its sqlite backend."""
    conf = os.path.join(d, "prl.yaml")
    sock = os.path.join(d, "prl.sock")
    with open(conf, "w") as f:
        f.write('debug: False\nuser: "root"\ngroup: "root"\npidfile: "%s/prl.pid"\n'
                'sqlite_config:\n    database: "%s/prl.sqlite3"\nbackend: 0\nSOCKET: "%s"\n'
                'socket_permission: 0666\nlimits:\n    - [100000000, 60]\nlimits_by_id: {}\n'
                'limit_by_sasl: True\nlimit_by_sender: False\nlimit_by_ip: False\n'
                'limited_networks: []\nsuccess_action: "dunno"\n'
                'fail_action: "defer_if_permit Rate limit reach, retry later"\n'
                'db_error_action: "dunno"\nreport: False\n' % (d, d, sock))
    if os.path.exists(sock):
        os.unlink(sock)         # left by the last round: it does not remove it
    p = subprocess.Popen(["policyd-rate-limit", "--file", conf], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    wait_accepts(sock, p)
    return p, sock


def main():
    began = time.time()
    d = tempfile.mkdtemp(prefix="agbench-")
    state = os.path.join(d, "state")
    os.makedirs(state, mode=0o700)
    runs = {"base": [], "all": [], "refusals": [], "postfwd": [], "prl": []}
    loaded = []
    p = None
    try:
        for _ in range(ROUNDS):
            sock = os.path.join(d, "nologic")
            if os.path.exists(sock):
                os.unlink(sock)     # the last round's; the new server binds its own
            p = subprocess.Popen([os.path.join(BUILD, "nologic"), sock])
            wait_accepts(sock, p)
            runs["base"].append(load(sock))
            p.terminate()
            p.wait()
            for mode in ("all", "refusals"):
                p = start_policyd(d, state, mode)
                with open(os.path.join(d, "policyd.log")) as f:
                    loaded = [l for l in f if "state loaded" in l] or loaded
                runs[mode].append(load(os.path.join(d, "policy")))
                p.terminate()
                p.wait()
            pid = start_postfwd(d)
            try:
                runs["postfwd"].append(load("127.0.0.1:10045"))
            finally:
                stop_postfwd(pid)
            p, sock = start_prl(d)
            runs["prl"].append(load(sock))
            p.terminate()
            p.wait()
    finally:
        if p and p.poll() is None:
            p.kill()
            p.wait()
        subprocess.run(["pkill", "-f", "postfwd2::"], capture_output=True)
        subprocess.run(["pkill", "-f", "policyd-rate-limit"], capture_output=True)
        subprocess.run(["rm", "-rf", d])
    base, ours = median(runs["base"]), {m: median(runs[m]) for m in ("all", "refusals")}
    spread = {m: "%.2f-%.2f" % (min(r[1] for r in runs[m]) / max(r[1] for r in runs["base"]),
                                max(r[1] for r in runs[m]) / min(r[1] for r in runs["base"]))
              for m in ("all", "refusals")}
    rows = [
        "| server | requests | requests/s | p50 µs | p99 µs | errors | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
        "| no-logic DUNNO server (baseline) | %d | %.0f | %d | %d | %d | 1.00 |" % base,
        "| authguard-policyd, `policy_log = all` (default) | %d | %.0f | %d | %d | %d | %.2f |"
        % (ours["all"] + (ours["all"][1] / base[1],)),
        "| authguard-policyd, `policy_log = refusals` | %d | %.0f | %d | %d | %d | %.2f |"
        % (ours["refusals"] + (ours["refusals"][1] / base[1],)),
        "| postfwd 1.35 (Debian), per-SASL-user rate rule | %d | %.0f | %d | %d | %d | %.2f |"
        % (median(runs["postfwd"]) + (median(runs["postfwd"])[1] / base[1],)),
        "| policyd-rate-limit 1.0.1 (Debian), per-SASL-user limit | %d | %.0f | %d | %d | %d "
        "| %.2f |" % (median(runs["prl"]) + (median(runs["prl"])[1] / base[1],)),
    ]
    text = "\n".join([
        "# authguard benchmarks",
        "",
        "Run: %s UTC, %s, %d cores, %s" % (time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
                                          cpu_model(), os.cpu_count(), platform.platform()),
        "",
        "Commands: `make bench` (= `sh bench/deps.sh; python3 bench/bench.py build`), which runs "
        "`build/policyload`, `build/nologic`, `build/authload`, `build/relay`, "
        "`build/nullmilter` (sources in bench/), Debian's postfwd, policyd-rate-limit and "
        "fail2ban, and the lab's real Postfix and Dovecot. Every ratio compares rows of this "
        "same run.",
        "",
        "## Policy service",
        "",
        "`make bench`: %d connections, one request in flight each, %d rounds of %d s per "
        "server taking turns (median round shown), %d tracked accounts loaded (%s), 90%% "
        "authenticated RCPT, 10%% unauthenticated on submission (refused, logged, remembered). "
        "The log goes to a file (-f)."
        % (CONNS, ROUNDS, SECS, ACCOUNTS, loaded[0].split(": ", 1)[-1].strip() if loaded
           else "?"),
        "",
    ] + rows + [
        "",
        "Throughput ratio authguard / no-logic (medians): **%.2f** with every decision logged, "
        "**%.2f** logging refusals only (target: at least 0.70); over all rounds %s and %s."
        % (ours["all"][1] / base[1], ours["refusals"][1] / base[1], spread["all"],
           spread["refusals"]),
        "",
    ])
    took = [("policy service", time.time() - began)]
    gtext, gok = gatebench.bench(BUILD, state_file)
    took.append(("gate and memory", time.time() - began - sum(t for _, t in took)))
    rtext, rok = reactbench.bench(BUILD)
    took.append(("reaction", time.time() - began - sum(t for _, t in took)))
    mtext, mok = milterbench.bench(BUILD)
    took.append(("milter", time.time() - began - sum(t for _, t in took)))
    dtext, dok = doorbench.bench(BUILD)
    took.append(("auth policy door", time.time() - began - sum(t for _, t in took)))
    wtext, wok = webbench.bench(BUILD)
    took.append(("helpdesk page", time.time() - began - sum(t for _, t in took)))
    text += "".join("\n" + "\n".join(t) for t in (gtext, rtext, mtext, dtext, wtext))
    text += "\n## Time\n\n`python3 bench/bench.py` took %.1f minutes: %s.\n" % (
        (time.time() - began) / 60, ", ".join("%s %.0f s" % t for t in took))
    print(text)
    with open(os.path.join(HERE, "RESULTS.md"), "w") as f:
        f.write(text)
    return 0 if gok and rok and mok and dok and wok and all(
        r[4] == 0 for m, rs in runs.items() for r in rs
        if m in ("base", "all", "refusals")) else 1


if __name__ == "__main__":
    sys.exit(main())

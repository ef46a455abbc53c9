"""The SASL gate's cost: successful AUTH PLAIN logins through authguard-policyd, against a byte
relay that parses nothing and against Dovecot directly, same Dovecot, same run, taking turns.

bench/authload speaks the auth-client protocol as smtpd does (handshake, then one AUTH in flight
per connection).  Dovecot's passdb is a passwd-file; the rows use alice's {PLAIN} password
(where Dovecot costs least, so the proxies show most) and a {SHA512-CRYPT} one (what servers
store).  Dovecot's auth cache is off, as in the lab.

Also here: the gate's memory per tracked account (1,000,000 accounts loaded from a state file),
and its peak RSS while new user names are sprayed through it with max_tracked set.
"""

import os
import subprocess
import sys
import time

from benchutil import median, wait_accepts

HERE = os.path.dirname(os.path.abspath(__file__))
ROUNDS, SECS = 3, 3
PLAIN_CONNS = (1, 8, 32)
CRYPT_CONNS = (8,)
REDIS_CONNS = (1, 8)         # past that Redis, on the same two cores, is saturated
HASHED_USER, HASHED_PW = "hashed@example.test", "Hashed-Pass-9"
MEM_ACCOUNTS = 1000000
# The spray: 5,000,000 new names with the default max_tracked.  Dovecot answers failures in
# batches every half second, so the load keeps SPRAY_CONNS * SPRAY_DEPTH AUTHs in flight (smtpd
# sends one per connection; the protocol allows more) to go faster than that.
SPRAY_NAMES, SPRAY_CONNS, SPRAY_DEPTH, SPRAY_CAP = 5000000, 64, 512, 100000


def _load(build, sock, conns, user, password):
    r = subprocess.run([os.path.join(build, "authload"), sock, str(conns), str(SECS), user,
                        password], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("authload: %s" % r.stderr.strip())
    n, rps, p50, p99, err = r.stdout.split()
    return int(n), float(rps), int(p50), int(p99), int(err)


def _add_hashed_user(lab):
    h = subprocess.run(["openssl", "passwd", "-6", HASHED_PW], capture_output=True, text=True,
                       check=True).stdout.strip()
    with open(lab.users_file, "a") as f:
        f.write("%s:{SHA512-CRYPT}%s:1000:1000::%s/home/hashed::\n" % (HASHED_USER, h, lab.dir))


def _rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _memory(build, d, state_file):
    """RSS of authguard-policyd with 0 and with MEM_ACCOUNTS tracked accounts."""
    out = []
    for n in (0, MEM_ACCOUNTS):
        sd = os.path.join(d, "mem%d" % n)
        os.makedirs(sd, mode=0o700)
        if n:
            state_file(os.path.join(sd, "state"), n)
        conf = os.path.join(sd, "c.conf")
        with open(conf, "w") as f:
            f.write("user = root\nsasl_listen = unix:%s/auth\nsasl_upstream = unix:%s/none\n"
                    "control_listen =\nstate_dir = %s\nmax_tracked = %d\n"
                    % (sd, sd, sd, max(n, 1000) * 2))
        log = open(os.path.join(sd, "log"), "w")
        p = subprocess.Popen([os.path.join(build, "authguard-policyd"), "-f", "-c", conf],
                             stderr=log)
        log.close()
        try:
            deadline = time.time() + 120
            while time.time() < deadline:
                with open(os.path.join(sd, "log")) as f:
                    if "started" in f.read():
                        break
                time.sleep(0.2)
            time.sleep(0.5)
            out.append(_rss_kb(p.pid))
        finally:
            p.terminate()
            p.wait()
    return out


def _spray(build, lab, d, Gate):
    """SPRAY_NAMES new user names through the gate with the default max_tracked; RSS sampled."""
    import threading

    gd = os.path.join(d, "spray")
    os.makedirs(gd)
    os.chmod(gd, 0o755)
    gate = Gate(lab, gd, max_tracked=str(SPRAY_CAP)).start()     # default limits
    samples, stop = [], threading.Event()

    def sample():
        while not stop.is_set():
            try:
                samples.append(_rss_kb(gate.proc.pid))
            except (OSError, ValueError):
                pass
            time.sleep(0.5)
    t = threading.Thread(target=sample)
    t.start()
    try:
        r = subprocess.run([os.path.join(build, "authload"), gate.socket, str(SPRAY_CONNS),
                            "900", "-", "wrong", "spray", str(SPRAY_DEPTH), str(SPRAY_NAMES)],
                           capture_output=True, text=True)
        st = subprocess.run([os.path.join(build, "authguard"), "-s", gate.control, "stats"],
                            capture_output=True, text=True).stdout
    finally:
        stop.set()
        t.join()
        gate.stop()
    if r.returncode != 0:
        raise RuntimeError("authload: %s" % r.stderr.strip())
    stats = dict(kv.split("=", 1) for kv in st.split() if "=" in kv)
    n, rps, p50, p99, err = r.stdout.split()
    half = samples[len(samples) // 2:] or [0]
    return {"n": int(n), "rps": float(rps), "p50": int(p50), "err": int(err), "peak": max(samples or [0]),
            "peak_first_half": max(samples[:len(samples) // 2] or [0]), "peak_second_half":
            max(half), "accounts": int(stats.get("accounts_tracked", -1)),
            "addresses": int(stats.get("addresses_tracked", -1)),
            "evicted": int(stats.get("accounts_evicted", -1))}


def _shared_stats(build, gate):
    r = subprocess.run([os.path.join(build, "authguard"), "-s", gate.control, "stats"],
                       capture_output=True, text=True)
    out = {}
    for word in r.stdout.split():
        k, _, v = word.partition("=")
        if v.isdigit():
            out[k] = int(v)
    return out


def bench(build, state_file):
    os.environ["AUTHGUARD_BUILD"] = os.path.abspath(build)
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "lab"))
    from lab import Lab
    from gatelab import Gate, new_gate_dir
    from redislab import Redis

    d = new_gate_dir()
    lab = gate = relay = redis = rgate = None
    rows = []
    try:
        # The spray keeps 32768 AUTHs in flight; each carries the gate's ref as its session,
        # and Dovecot's auth process then goes past its default vsz_limit (256 MB: "Out of
        # memory", it closes the gate's connection). smtpd sends one AUTH per connection.
        # auth_verbose off: Dovecot's log of 5,000,000 unknown users would cost more than they
        lab = Lab(sasl_path=os.path.join(d, "auth"), extra_dovecot_conf="auth_verbose = no\n"
                  "service auth {\n  vsz_limit = 1G\n}\n")
        _add_hashed_user(lab)
        lab.start_dovecot()
        gate = Gate(lab, d, guessing_threshold="255", account_fail_limit="255/1s",
                    ip_fail_limit="255/1s").start()
        # the same gate with its state shared through a real redis-server on loopback
        redis = Redis(d).start()
        rd = os.path.join(d, "redis-gate")
        os.makedirs(rd)
        rgate = Gate(lab, rd, guessing_threshold="255", account_fail_limit="255/1s",
                     ip_fail_limit="255/1s", state_backend=redis.url()).start()
        relay_sock = os.path.join(d, "relay.sock")
        relay = subprocess.Popen([os.path.join(build, "relay"), relay_sock,
                                  lab.auth_client_socket])
        wait_accepts(relay_sock, relay)
        servers = (("direct", lab.auth_client_socket), ("relay", relay_sock),
                   ("gate", gate.socket))
        cases = [("{PLAIN}", "alice@example.test", "correct horse", c) for c in PLAIN_CONNS] + \
                [("{SHA512-CRYPT}", HASHED_USER, HASHED_PW, c) for c in CRYPT_CONNS]
        for scheme, user, pw, conns in cases:
            paths = servers + ((("redis", rgate.socket),) if scheme == "{PLAIN}" and
                               conns in REDIS_CONNS else ())
            runs = {name: [] for name, _ in paths}
            local = total = 0
            for _ in range(ROUNDS):
                for name, sock in paths:
                    before = _shared_stats(build, rgate) if name == "redis" else None
                    runs[name].append(_load(build, sock, conns, user, pw))
                    if before is not None:
                        local += _shared_stats(build, rgate)["shared_local_decisions"] - \
                            before["shared_local_decisions"]
                        total += runs[name][-1][0]
            m = {k: median(v) for k, v in runs.items()}
            if total:
                m["redis_share"] = 1 - local / total
            rows.append((scheme, conns, m, runs))
        shared = _shared_stats(build, rgate)
        rgate.stop()
        redis.stop()
        gate.stop()
        spray = _spray(build, lab, d, Gate)
        mem = _memory(build, d, state_file)
    finally:
        if relay:
            relay.terminate()
            relay.wait()
        for daemon in (gate, rgate, redis):
            if daemon:
                daemon.stop()
        if lab:
            lab.stop()
        subprocess.run(["rm", "-rf", d])
    table = [
        "| passdb scheme | connections | Dovecot direct: AUTH/s, p50/p99 µs | byte relay | "
        "authguard gate | gate / relay | gate / direct | gate p50 − relay p50 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rtable = [
        "| connections | embedded: AUTH/s, p50/p99 µs | Redis: AUTH/s, p50/p99 µs | "
        "Redis / embedded | p50 difference | checks Redis answered in time |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for scheme, conns, m, runs in rows:
        if "redis" in m:
            gt, rg = m["gate"], m["redis"]
            rtable.append("| %d | %.0f, %d/%d | %.0f, %d/%d | %.2f | %+d µs | %.0f %% |"
                          % (conns, gt[1], gt[2], gt[3], rg[1], rg[2], rg[3], rg[1] / gt[1],
                             rg[2] - gt[2], 100 * m["redis_share"]))
    ok = True
    for scheme, conns, m, runs in rows:
        dr, rl, gt = m["direct"], m["relay"], m["gate"]
        table.append("| %s | %d | %.0f, %d/%d | %.0f, %d/%d | %.0f, %d/%d | %.2f | %.2f | "
                     "%+d µs |" % (scheme, conns, dr[1], dr[2], dr[3], rl[1], rl[2], rl[3],
                                   gt[1], gt[2], gt[3], gt[1] / rl[1], gt[1] / dr[1],
                                   gt[2] - rl[2]))
        ok = ok and all(r[4] == 0 for rs in runs.values() for r in rs)
    per_entry = (mem[1] - mem[0]) * 1024 / MEM_ACCOUNTS
    capped = 0 <= spray["accounts"] <= SPRAY_CAP and 0 <= spray["addresses"] <= SPRAY_CAP
    flat = spray["peak_second_half"] <= spray["peak_first_half"] * 1.10
    text = [
        "## SASL gate",
        "",
        "`make bench`: bench/authload speaks the auth-client protocol as smtpd does (successful "
        "AUTH PLAIN, one in flight per connection), %d rounds of %d s per path taking turns "
        "(median round shown), against the same Dovecot (passwd-file, auth cache off). Targets: "
        "gate at least 0.90 of the relay and at most 20 µs more p50 at one connection; at least "
        "0.97 of Dovecot direct with SHA512-CRYPT." % (ROUNDS, SECS),
        "",
    ] + table + [
        "",
        "### Shared state: Redis against embedded",
        "",
        "The same gate with `state_backend = redis://127.0.0.1:PORT` (Debian's redis-server on "
        "loopback, no persistence), same rounds, taking turns with the rows above. Each login "
        "waits for one EVALSHA (check and reserve) and sends, without waiting, another (the "
        "success) and the attempt for `why` (SET, LPUSH, LTRIM, EXPIRE). Redis shares the two "
        "cores with Dovecot, the gate and the load. A check Redis does not answer within "
        "redis_timeout (5ms), or one behind 1000 unanswered commands, is decided locally: the "
        "last column is the share Redis decided. Over the run: %d timeouts, %d local "
        "decisions, %d errors."
        % (shared.get("shared_timeouts", -1), shared.get("shared_local_decisions", -1),
           shared.get("shared_errors", -1)),
        "",
    ] + rtable + [
        "",
        "## Memory",
        "",
        "authguard-policyd RSS with an empty state: %d KiB; with %d tracked accounts (each with "
        "a failure in its window, loaded from a state file): %d KiB: **%.0f bytes per tracked "
        "account**." % (mem[0], MEM_ACCOUNTS, mem[1], per_entry),
        "",
        "Spray: %d new user names, each from a new address (as a botnet's), through the gate "
        "to the real Dovecot, `max_tracked = %d` (the default), %d connections with %d AUTHs "
        "in flight each: %d attempts in %.0f s (%.0f/s, p50 %.2f s: Dovecot answers failures "
        "every half second; each also costs an auth-userdb lookup); afterwards %d accounts and "
        "%d addresses tracked, %d accounts evicted: %s. Peak RSS **%d KiB** (first half of the "
        "spray %d KiB, second half %d KiB: %s). Budget: %d KiB empty + 2 × %d entries × %.0f "
        "bytes = %d KiB for the trackers, the rest is the %d requests in flight and the "
        "once-a-second snapshot."
        % (SPRAY_NAMES, SPRAY_CAP, SPRAY_CONNS, SPRAY_DEPTH, spray["n"],
           spray["n"] / max(spray["rps"], 1), spray["rps"], spray["p50"] / 1e6,
           spray["accounts"], spray["addresses"], spray["evicted"],
           "within the cap" if capped else "**over the cap**", spray["peak"],
           spray["peak_first_half"], spray["peak_second_half"],
           "flat" if flat else "**still growing**", mem[0], SPRAY_CAP, per_entry,
           mem[0] + 2 * SPRAY_CAP * per_entry / 1024, SPRAY_CONNS * SPRAY_DEPTH),
        "",
    ]
    return text, ok and spray["err"] == 0 and spray["n"] == SPRAY_NAMES and capped and flat

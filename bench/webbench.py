"""authguard-web's response time for the helpdesk's result page.

Real Postfix and Dovecot with authguard-policyd as the SASL gate (the lab's, tests/lab): ATTEMPTS
SMTP AUTH PLAIN logins of one account through Postfix (STARTTLS, a fresh session each, from ten
loopback addresses; one in five with a wrong password), so that `why USER` answers with those
attempts, as the page shows them. Then authguard-web (its control client asking the gate's
control socket) serves GET why?q=USER and GET why?q=REF (one of the failures), REQUESTS timed
requests each after WARMUP, one at a time on a keep-alive connection, the user header from a
trusted proxy address; the time is from sending the request to reading the whole page. For
comparison, the same question straight to the control socket (what authguard-policyd takes).
"""

import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ATTEMPTS, REQUESTS, WARMUP = 100, 500, 20
USER, PASSWORD = "alice@example.test", "correct horse"


def _percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100.0))]


def _logins(lab):
    """ATTEMPTS real SMTP logins of USER: (passes, failures, a failure's ref)."""
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "lab"))
    from gatelab import b64, ref_of
    passes, fails, ref = 0, 0, None
    for i in range(ATTEMPTS):
        wrong = i % 5 == 4
        s = lab.smtp_connect(starttls=True, source_address="127.0.0.%d" % (100 + i % 10))
        try:
            code, msg = s.docmd("AUTH PLAIN", b64("\0%s\0%s" % (
                USER, "wrong-%d" % (i % 3) if wrong else PASSWORD)))
        finally:
            s.close()
        if code == 235 and not wrong:
            passes += 1
        elif code == 535 and wrong:
            fails += 1
            ref = ref_of(msg.decode()) or ref
        else:
            raise RuntimeError("login %d: %d %r" % (i, code, msg))
    return passes, fails, ref


def _control_us(path, request):
    """One control request: microseconds from connect to the whole answer."""
    t0 = time.perf_counter()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        s.sendall(request.encode())
        out = b""
        while True:
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            out += chunk
    took = time.perf_counter() - t0
    if not out.startswith(b"OK\n"):
        raise RuntimeError("control: %r" % out[:200])
    return int(took * 1e6)


def _page_us(conn, q, rows):
    """One GET why?q=Q on a keep-alive connection: microseconds, the page checked."""
    t0 = time.perf_counter()
    conn.request("GET", "/why?q=" + urllib.parse.quote(q, safe=""),
                 headers={"X-Remote-User": "helpdesk"})
    r = conn.getresponse()
    body = r.read()
    took = time.perf_counter() - t0
    if r.status != 200 or body.count(b"data-ref=") != rows:
        raise RuntimeError("GET why?q=%s: %d, %d rows" % (q, r.status, body.count(b"data-ref=")))
    return int(took * 1e6), len(body)


def _start_web(build, d, port, control):
    conf = os.path.join(d, "authguard-web.conf")
    with open(conf, "w") as f:
        f.write("web_listen = inet:127.0.0.1:%d\ncontrol_socket = %s\n"
                "trusted_proxies = 127.0.0.1/32\nadmins = admin\nuser = root\n" % (port, control))
    log = open(os.path.join(d, "web.log"), "ab")
    p = subprocess.Popen([os.path.join(build, "authguard-web"), "-f", "-c", conf],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    log.close()
    return p


def bench(build):
    os.environ["AUTHGUARD_BUILD"] = os.path.abspath(build)
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "lab"))
    from lab import Lab, free_port, tcp_listening, wait_until
    from gatelab import Gate, new_gate_dir

    gdir = new_gate_dir()
    lab = Lab(sasl_path=os.path.join(gdir, "auth"))
    gate = web = None
    lat, size = {}, {}
    try:
        lab.start_dovecot()
        gate = Gate(lab, gdir, account_fail_limit="255/1h", ip_fail_limit="255/1h").start()
        lab.start_postfix()
        passes, fails, ref = _logins(lab)
        port = free_port()
        web = _start_web(build, gdir, port, gate.control)
        wait_until(lambda: tcp_listening(port) or web.poll() is not None, 10, "authguard-web")
        if web.poll() is not None:
            raise RuntimeError("authguard-web exited %s" % web.returncode)
        for name, q, rows in (("user", USER, ATTEMPTS), ("ref", ref, 1)):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for _ in range(WARMUP):
                _page_us(conn, q, rows)
            runs = [_page_us(conn, q, rows) for _ in range(REQUESTS)]
            conn.close()
            lat["web " + name] = [t for t, _ in runs]
            size[name] = runs[-1][1]
            req = "why\tjson\t%s\n" % q
            for _ in range(WARMUP):
                _control_us(gate.control, req)
            lat["control " + name] = [_control_us(gate.control, req) for _ in range(REQUESTS)]
        web.terminate()
        wrc = web.wait(10)
        web = None
        grc = gate.stop()
        gate = None
    finally:
        if web:
            web.kill()
            web.wait()
        if gate:
            gate.stop()
        lab.stop()
        shutil.rmtree(gdir, ignore_errors=True)
    p = {k: (_percentile(v, 50), _percentile(v, 99)) for k, v in lat.items()}
    rows = [
        "| request | requests | p50 µs | p99 µs |",
        "|---|---:|---:|---:|",
        "| authguard-web `GET why?q=%s` (%d attempts shown, page %d bytes) | %d | **%d** | "
        "**%d** |" % ((USER, ATTEMPTS, size["user"], REQUESTS) + p["web user"]),
        "| authguard-web `GET why?q=REF` (one failure, page %d bytes) | %d | **%d** | **%d** |"
        % ((size["ref"], REQUESTS) + p["web ref"]),
        "| of which: authguard-policyd `why` USER over the control socket (JSON) | %d | %d | %d |"
        % ((REQUESTS,) + p["control user"]),
        "| of which: authguard-policyd `why` REF over the control socket (JSON) | %d | %d | %d |"
        % ((REQUESTS,) + p["control ref"]),
    ]
    text = [
        "## Helpdesk page (authguard-web)",
        "",
        "`make bench`: %d real SMTP logins of one account through Postfix and the gate to "
        "Dovecot (%d right, %d wrong passwords, STARTTLS, ten addresses), then authguard-web "
        "asked %d times for the result page of that account and of one failure's ref (after "
        "%d warm-up requests; one at a time on a keep-alive connection, the user header from a "
        "trusted proxy address; request sent to page read), and the same `why` straight to the "
        "control socket (a connection each, as authguard-web opens one per request)."
        % (ATTEMPTS, passes, fails, REQUESTS, WARMUP),
        "",
    ] + rows + [""]
    return text, wrc == 0 and grc == 0


if __name__ == "__main__":
    # python3 bench/webbench.py BUILD: this section alone, printed (RESULTS.md untouched)
    out, good = bench(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "build"))
    print("\n".join(out))
    sys.exit(0 if good else 1)

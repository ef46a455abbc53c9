"""The milter's cost: messages/s through real Postfix to smtp-sink, with authguard-milter on
smtpd_milters and without it, same lab, same run, taking turns.

The load is what the milter works for: authenticated submissions. CLIENTS threads each open a
session (STARTTLS, AUTH PLAIN through authguard-policyd to Dovecot) and send PER_SESSION messages
in it, one after another, then start over, for SECS seconds per round. Between rounds the
queue drains to the sink and smtpd_milters is switched with postconf + postfix reload.  With the milter, every message gets
Authentication-Results and X-Authguard, and the milter asks authguard-policyd for the session's
attempts over the control socket.  smtp-source cannot authenticate, hence a client of our own;
its cost is the same in both configurations.
"""

import os
import smtplib
import ssl
import subprocess
import sys
import threading
import time

from benchutil import median

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENTS, PER_SESSION, SECS, ROUNDS = 8, 50, 8, 3
MODES = ("none", "null", "authguard")
BODY = ("From: <alice@example.test>\r\nTo: <bob@example.net>\r\nSubject: bench\r\n"
        "Message-ID: <%d.%d@client.example.test>\r\n\r\n" + "hello\r\n" * 40)


def _client(lab, stop, counts, errors, i):
    ctx = ssl._create_unverified_context()
    n = 0
    while not stop.is_set():
        try:
            s = smtplib.SMTP("127.0.0.1", lab.submission_port, local_hostname="client.example.test",
                             timeout=30, source_address=("127.0.0.%d" % (100 + i), 0))
            s.ehlo()
            s.starttls(context=ctx)
            s.ehlo()
            s.login("alice@example.test", "correct horse")
            for _ in range(PER_SESSION):
                if stop.is_set():
                    break
                s.sendmail("alice@example.test", ["bob@example.net"], BODY % (i, n))
                n += 1
                counts[i] += 1
            s.quit()
        except (smtplib.SMTPException, OSError):
            errors[i] += 1
            time.sleep(0.05)


def _round(lab):
    stop = threading.Event()
    counts, errors = [0] * CLIENTS, [0] * CLIENTS
    threads = [threading.Thread(target=_client, args=(lab, stop, counts, errors, i))
               for i in range(CLIENTS)]
    t0 = time.time()
    for t in threads:
        t.start()
    time.sleep(SECS)
    stop.set()
    for t in threads:
        t.join()
    return sum(counts), sum(counts) / (time.time() - t0), sum(errors)


def _set_milter(lab, value):
    subprocess.run(["postconf", "-c", lab.postfix_dir, "-e", "smtpd_milters=" + value],
                   check=True)
    subprocess.run(["postfix", "-c", lab.postfix_dir, "reload"], check=True,
                   capture_output=True)
    time.sleep(2)       # old smtpd processes finish; new ones read the new value


def _sink_count(lab):
    return len(os.listdir(lab.sink_dir))


def _drain(lab, sent, timeout=120):
    """Wait until the sink has every message: a queue left from one round would take CPU
    from the next, which is always the other configuration."""
    deadline = time.time() + timeout
    while _sink_count(lab) < sent and time.time() < deadline:
        time.sleep(0.2)


def bench(build):
    os.environ["AUTHGUARD_BUILD"] = os.path.abspath(build)
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "lab"))
    from lab import Lab
    from gatelab import Gate, new_gate_dir
    from milterlab import Milter

    d = new_gate_dir()
    lab = gate = milter = null = None
    runs = {m: [] for m in MODES}
    try:
        lab = Lab(sasl_path=os.path.join(d, "auth"), maxproc=CLIENTS + 4, extra_main_cf={
            "milter_default_action": "accept",
            "milter_connect_macros": "j {daemon_name} v _ {client_addr} {client_port}",
            "milter_mail_macros": "i {auth_type} {auth_authen} {mail_addr} {tls_version} "
                                  "{cipher}",
            "smtpd_milters": "",
            "default_destination_concurrency_limit": "20",
        })
        lab.start_dovecot()
        gate = Gate(lab, d, account_fail_limit="255/1s", ip_fail_limit="255/1s",
                    history_size="100000").start()
        milter = Milter(d, control=gate.control, authserv_id="mx.example.test").start()
        null_sock = os.path.join(d, "null.sock")
        null = subprocess.Popen([os.path.join(build, "nullmilter"), "unix:" + null_sock])
        sockets = {"none": "", "null": "unix:" + null_sock,
                   "authguard": "unix:" + milter.socket}
        lab.start_postfix()
        sent = 0
        for _ in range(ROUNDS):
            for mode in MODES:
                _set_milter(lab, sockets[mode])
                runs[mode].append(_round(lab))
                sent += runs[mode][-1][0]
                _drain(lab, sent)
        delivered = _sink_count(lab)
        headers = sum(1 for e in milter.events() if e.get("action") == "accept"
                      and e.get("auth_ref"))
    finally:
        if null:
            null.terminate()
            null.wait()
        if milter:
            milter.stop()
        if gate:
            gate.stop()
        if lab:
            lab.stop()
        subprocess.run(["rm", "-rf", d])

    def spread(a, b):
        return "%.2f-%.2f" % (min(r[1] for r in runs[a]) / max(r[1] for r in runs[b]),
                              max(r[1] for r in runs[a]) / min(r[1] for r in runs[b]))
    base, null_r, ours = median(runs["none"]), median(runs["null"]), median(runs["authguard"])
    rows = [
        "| Postfix smtpd_milters | messages | messages/s | client errors | ratio to none |",
        "|---|---:|---:|---:|---:|",
        "| none (baseline) | %d | %.1f | %d | 1.00 |" % base,
        "| null milter: libmilter, same negotiation, decides nothing | %d | %.1f | %d | %.2f |"
        % (null_r + (null_r[1] / base[1],)),
        "| authguard-milter | %d | %.1f | %d | %.2f |" % (ours + (ours[1] / base[1],)),
    ]
    text = [
        "## Milter",
        "",
        "`make bench`: real Postfix (submission listener, STARTTLS, AUTH PLAIN through "
        "authguard-policyd to Dovecot) delivering to smtp-sink; %d client threads on the same "
        "machine, %d messages per session, %d rounds of %d s per configuration taking turns, "
        "the queue drained between rounds (median round shown). With authguard-milter every "
        "message gets both headers and one control-socket query."
        % (CLIENTS, PER_SESSION, ROUNDS, SECS),
        "",
    ] + rows + [
        "",
        "Throughput ratio authguard-milter / no milter (medians): **%.2f** (target: at least "
        "0.90; over all rounds %s); authguard-milter / null milter: **%.2f** (over all rounds "
        "%s). Delivered to the sink: %d of %d sent; messages given headers with the "
        "session's auth-ref: %d."
        % (ours[1] / base[1], spread("authguard", "none"), ours[1] / null_r[1],
           spread("authguard", "null"), delivered, sent, headers),
        "",
    ]
    ok = delivered == sent and all(r[2] == 0 for rs in runs.values() for r in rs)
    return text, ok

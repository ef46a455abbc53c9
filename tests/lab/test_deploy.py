#!/usr/bin/env python3
"""doc/deploy.md replayed on this machine: every shell block of the guide, as written, in order,
as root, against Debian's own Postfix and Dovecot with their packaged configuration.

The replay runs in a sandbox so that the machine is left as it was: new mount, network and pid
namespaces (unshare), /etc, /usr and /var behind overlays whose changes are thrown away, an
empty /run, and only a loopback interface (so the guide's ports 587 and 465 are the real ones).
When the sandbox's first process ends, the kernel ends every process started inside.  systemd
is not PID 1 there: tests/lab/deploy_systemctl.py stands in for the systemctl commands the guide
uses (the units themselves are checked by systemd-analyze in test_ops.py).  There is no network
either: tests/lab/deploy_apt.py stands in for apt-get; it checks that the packages the guide
names are installed and changes nothing, so that pending updates on this machine play no part.
The guide's commands run in a copy of the source tree, as a clone would have it: its "make"
builds there.

The guide covers Debian 13 and Debian 12.  A block for one release only follows a paragraph
"On Debian 13 ...:" or "On Debian 12 ...:"; the replay runs the blocks without such a paragraph
and those for this machine's release.

Before the guide, the sandbox is a working mail server as the guide assumes: Postfix with a TLS
certificate, Dovecot (in the syntax of its release) checking two users' passwords.  After it,
real SMTP clients check what the guide promises, a client of nginx the helpdesk's page, and the
packages the guide's apt-get names are checked against the libraries the installed programs
link."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import Suite  # noqa: E402

suite = Suite("deploy")
HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
JANE_APP = "qwertyasdfghzxcv"           # jane's app password: what her Dovecot entry holds

BEFORE = r"""
# The server before the guide: Postfix (Debian's main.cf and master.cf, a certificate) and
# Dovecot checking passwords of two virtual users.
cp /usr/share/postfix/main.cf.debian /etc/postfix/main.cf
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mail.example.com \
    -keyout /etc/postfix/tls.key -out /etc/postfix/tls.crt 2>/dev/null
install -m 0600 /etc/postfix/tls.key /etc/dovecot/private/dovecot.key
install -m 0644 /etc/postfix/tls.crt /etc/dovecot/private/dovecot.pem
# The server's name and its CA, as a real server's clients have them.
echo "127.0.0.1 mail.example.com" >> /etc/hosts
cp /etc/postfix/tls.crt /usr/local/share/ca-certificates/mail.example.com.crt
update-ca-certificates >/dev/null
postconf -e myhostname=mail.example.com mydomain=example.com myorigin=example.com \
    mydestination=localhost inet_protocols=ipv4 maillog_file=/var/log/postfix.log \
    smtpd_tls_cert_file=/etc/postfix/tls.crt smtpd_tls_key_file=/etc/postfix/tls.key \
    smtpd_tls_security_level=may alias_maps= alias_database=
cat > /etc/dovecot/users <<EOF
alice@example.com:{PLAIN}Alice-Pass-1:5000:5000::/var/mail/alice::
jane@example.com:{PLAIN}%(jane)s:5000:5000::/var/mail/jane::
EOF
sed -i 's/^!include auth-system.conf.ext/#&/' /etc/dovecot/conf.d/10-auth.conf
cat > /etc/dovecot/conf.d/98-server.conf <<'EOF'
log_path = /var/log/dovecot.log
%(users)sEOF
doveconf -n >/dev/null
systemctl start dovecot
systemctl start postfix
"""

# The two users' passdb and userdb in the syntax of each Dovecot release.
DOVECOT_USERS = {
    "2.3": """passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u /etc/dovecot/users
}
userdb {
  driver = passwd-file
  args = username_format=%u /etc/dovecot/users
}
""",
    "2.4": """passdb passwd-file {
  default_password_scheme = PLAIN
  passwd_file_path = /etc/dovecot/users
}
userdb passwd-file {
  passwd_file_path = /etc/dovecot/users
}
""",
}

SANDBOX = r"""#!/bin/bash
set -eu
W=%(w)s
ip link set lo up
for d in etc usr var; do
    mkdir -p $W/upper/$d $W/work/$d
    mount -t overlay overlay -o lowerdir=/$d,upperdir=$W/upper/$d,workdir=$W/work/$d /$d
done
mount -t tmpfs -o mode=0755 tmpfs /run
export PATH=$W/bin:$PATH
echo "== the server before the guide (Dovecot %(dovecot)s)"
bash -eu $W/before.sh
for b in $W/block-*.sh; do
    echo "== guide: $(basename $b .sh)"
    (cd $W/src && bash -eu $b)
done
echo "== checks"
python3 $W/check.py
"""

CHECK = r"""
import json, os, re, smtplib, ssl, subprocess, sys, time

ctx = ssl._create_unverified_context()
failed = []


def check(name, cond, detail=""):
    print("%%s - deploy/%%s%%s" %% ("ok" if cond else "not ok", name,
                                  "" if cond else ": " + str(detail)[:2000]))
    if not cond:
        failed.append(name)


def auth(port, user, password, implicit=False, src="127.0.0.1"):
    # Each failing client below comes from an address of its own: Dovecot delays an address's
    # logins after its failures (auth_penalty), beyond Postfix's 10 s after the third.
    if implicit:
        s = smtplib.SMTP_SSL("127.0.0.1", port, context=ctx, timeout=30,
                             source_address=(src, 0))
        s.ehlo("client.example.net")
    else:
        s = smtplib.SMTP("127.0.0.1", port, timeout=30, source_address=(src, 0))
        s.ehlo("client.example.net")
        no_tls = s.has_extn("auth")
        s.starttls(context=ctx)
        s.ehlo("client.example.net")
        check("no AUTH before STARTTLS on %%d" %% port, not no_tls)
    import base64
    code, text = s.docmd("AUTH", "PLAIN " + base64.b64encode(
        b"\0" + user.encode() + b"\0" + password.encode()).decode())
    s.close()
    return code, text.decode()


code, text = auth(587, "alice@example.com", "Alice-Pass-1")
check("alice logs in on 587", code == 235, (code, text))
code, text = auth(465, "alice@example.com", "Alice-Pass-1", implicit=True)
check("alice logs in on 465", code == 235, (code, text))
# Before any failure: Dovecot delays an address's logins after its failures (anvil).
mark = os.path.getsize("/var/log/authguard-policyd.log")
subprocess.run(["systemctl", "reload", "authguard-policyd"], check=True)
deadline = time.time() + 60             # a generous bound for a loaded machine
while True:
    tail = open("/var/log/authguard-policyd.log", errors="replace").read()[mark:]
    if "reloaded" in tail or "reload refused" in tail or time.time() > deadline:
        break
    time.sleep(0.05)
check("systemctl reload authguard-policyd rereads the file as user authguard",
      "reloaded" in tail and "reload refused" not in tail, tail)
code, text = auth(587, "alice@example.com", "Alice-Pass-1")
check("alice logs in after the reload", code == 235, (code, text))


def why(ref, cause, what):
    r = subprocess.run(["authguard", "--json", "why", ref], capture_output=True, text=True)
    check("authguard why names %%s (%%s)" %% (cause, what), r.returncode == 0 and
          '"cause":"%%s"' %% cause in r.stdout.replace(" ", ""), r.stdout + r.stderr)


code, text = auth(587, "alice@example.com", "wrong-one", src="127.0.0.2")
ref = re.search(r"ref=([0-9A-Z]+)", text)
check("a wrong password gets 535 with a ref", code == 535 and ref, (code, text))
if ref:
    why(ref.group(1), "bad-password", "Dovecot's auth listener")
code, text = auth(587, "nobody@example.com", "Any-Pass-1", src="127.0.0.3")
ref = re.search(r"ref=([0-9A-Z]+)", text)
check("an unknown user gets 535 with a ref", code == 535 and ref, (code, text))
if ref:
    why(ref.group(1), "unknown-user", "Dovecot's userdb listener")
code, text = auth(587, "jane@example.com", "Jane-Account-1", src="127.0.0.4")
jref = re.search(r"ref=([0-9A-Z]+)", text)
check("jane's account password is refused with its ref", code == 535 and jref, (code, text))
if jref:
    why(jref.group(1), "app-password-required", "the accounts map")
for sock in ("authguard", "authguard-policy", "authguard-milter"):
    st = os.stat("/var/spool/postfix/private/" + sock)
    check("private/%%s is postfix's, 0660" %% sock, st.st_mode & 0o777 == 0o660, oct(st.st_mode))
ps = subprocess.run(["ps", "-o", "user:20=,comm=", "-C", "authguard-polic,authguard-milte"],
                    capture_output=True, text=True).stdout.split()
# authguard-policyd's state snapshot is a short-lived child of the same name and user.
check("the daemons run as authguard", set(ps[0::2]) == {"authguard"} and
      set(ps[1::2]) == {"authguard-polic", "authguard-milte"}, ps)
# Step 8: IMAP logins ask authguard through Dovecot's auth policy, and show in why.
import imaplib
try:
    im = imaplib.IMAP4("127.0.0.1", 143)
    im.starttls(ssl_context=ctx)
    try:
        im.login("alice@example.com", "wrong-on-imap")
        imap_failed = False
    except imaplib.IMAP4.error:
        imap_failed = True
    im.logout()
except OSError as e:
    imap_failed = e
check("a wrong IMAP password is refused", imap_failed is True, imap_failed)
deadline = time.time() + 10
while True:
    r = subprocess.run(["authguard", "--json", "why", "alice@example.com"],
                       capture_output=True, text=True)
    flat = r.stdout.replace(" ", "")
    if '"proto":"imap"' in flat or time.time() > deadline:
        break
    time.sleep(0.1)
check("authguard why shows the IMAP failure (proto imap, bad-password)",
      '"proto":"imap"' in flat and '"cause":"bad-password"' in flat, r.stdout + r.stderr)
# Step 9: the helpdesk's page through nginx.  The guide printed jane's password once; the
# check gives her one of its own, as an admin would reset it.
import base64, http.client
page_pw = "Page-Check-1"
made = open("/etc/nginx/authguard-web.htpasswd").read()
check("the guide made jane's line in nginx's password file (a crypt(3) SHA-512 hash)",
      re.fullmatch(r"jane:\$6\$[^:\s]+\n", made), made)
hashed = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=page_pw,
                        capture_output=True, text=True, check=True).stdout.strip()
with open("/etc/nginx/authguard-web.htpasswd", "w") as f:
    f.write("jane:%%s\n" %% hashed)


def page(path, password=None, headers=None):
    c = http.client.HTTPSConnection("mail.example.com", 443, context=ctx, timeout=30)
    h = dict(headers or {})
    if password:
        h["Authorization"] = "Basic " + base64.b64encode(
            ("jane:" + password).encode()).decode()
    try:
        c.request("GET", path, headers=h)
        r = c.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    except OSError as e:
        return None, str(e)
    finally:
        c.close()


st, body = page("/authguard/", page_pw)
check("jane sees the page at https://mail.example.com/authguard/",
      st == 200 and re.search(r'id="whoami"[^>]*>\s*jane\s*<', body), (st, body[:2000]))
if jref:
    st, body = page("/authguard/why?q=" + jref.group(1), page_pw)
    check("the page shows the cause of jane's ref",
          st == 200 and "app-password-required" in body, (st, body[:2000]))
st, body = page("/authguard/", headers={"X-Remote-User": "jane"})
check("no page without nginx's password, whatever header the client sends", st == 401,
      (st, body[:500]))
st = os.stat("/run/authguard/control")
import grp
check("the control socket is group authguard-web, 0660",
      grp.getgrgid(st.st_gid).gr_name == "authguard-web" and st.st_mode & 0o777 == 0o660,
      (st.st_gid, oct(st.st_mode)))
ps = subprocess.run(["ps", "-o", "user:20=", "-C", "authguard-web"], capture_output=True,
                    text=True).stdout.split()
check("authguard-web runs as authguard-web", ps == ["authguard-web"], ps)
log = open("/var/log/postfix.log", errors="replace").read()
trouble = [l for l in log.splitlines() if re.search(r"(warning|error|fatal): .*"
           r"(SASL|sasl|milter|authguard|policy)", l) and "authentication failed" not in l]
check("Postfix reports no SASL, policy or milter trouble", not trouble, trouble)
# Step 10: jane's app sends her account password three times (notify_repeat): a notice to
# her, handed to Debian's own sendmail by authguard-policyd as user authguard (its postdrop
# group from the guide's adduser), so Postfix's pickup takes it from the maildrop.
import pwd
for _ in range(2):
    code, text = auth(587, "jane@example.com", "Jane-Account-1", src="127.0.0.4")
deadline = time.time() + 60
while True:
    r = subprocess.run(["authguard", "--json", "notices"], capture_output=True, text=True)
    try:
        rows = json.loads(r.stdout)
    except ValueError:
        rows = []
    done = [n for n in rows if n.get("result") in ("sent", "failed")]
    if done or time.time() > deadline:
        break
    time.sleep(0.2)
sent = [n for n in done if n["kind"] == "app-password-required" and
        n["to"] == "jane@example.com" and n["result"] == "sent"]
check("authguard notices: one app-password-required notice sent to jane", len(sent) == 1,
      (rows, open("/var/log/authguard-policyd.log", errors="replace").read()[-3000:]))
if sent:
    uid = pwd.getpwnam("authguard").pw_uid
    mid = sent[0]["message_id"]
    deadline = time.time() + 90                 # pickup scans the maildrop now and then
    while True:
        log = open("/var/log/postfix.log", errors="replace").read()
        m = re.search(r"postfix/cleanup\[\d+\]: (\w+): message-id=%%s" %% re.escape(mid), log)
        if m or time.time() > deadline:
            break
        time.sleep(0.5)
    picked = m and re.search(r"postfix/pickup\[\d+\]: %%s: uid=%%d from=<postmaster@example.com>"
                             %% (m.group(1), uid), log)
    check("Postfix queued the notice from user authguard, from postmaster (its queue id by "
          "the message_id)", m and picked, log[-3000:])


def closure(names):
    # names and what they bring in as apt-get install does (Pre-Depends, Depends, Recommends)
    provides = {}
    for line in subprocess.run(["dpkg-query", "-W", "-f",
                                "${db:Status-Abbrev}\t${Package}\t${Provides}\n"],
                               capture_output=True, text=True).stdout.splitlines():
        status, pkg, prov = line.split("\t")
        if status.startswith("ii"):
            for p in [pkg] + [p.split()[0] for p in prov.split(",") if p.strip()]:
                provides.setdefault(p, []).append(pkg)
    seen, todo = set(), [n.split(":")[0] for n in names]
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        deps = subprocess.run(["dpkg-query", "-W", "-f",
                               "${Pre-Depends},${Depends},${Recommends}", p],
                              capture_output=True, text=True).stdout
        for dep in deps.split(","):
            for alt in dep.split("|"):
                n = alt.split("(")[0].strip().split(":")[0]
                if n in provides:
                    todo.extend(provides[n])
                    break
    return seen


# The guide's apt-get names every library the installed programs link, or a package that
# brings it in: a machine with nothing more than the guide's packages builds them too.
named = open("/run/deploy-apt/named").read().split()
have = closure(named)
unnamed = []
for prog in ("/usr/sbin/authguard-policyd", "/usr/sbin/authguard-milter", "/usr/bin/authguard",
             "/usr/sbin/authguard-web"):
    dyn = subprocess.run(["readelf", "-d", prog], capture_output=True, text=True).stdout
    for lib in re.findall(r"\(NEEDED\).*\[(lib[^.\]]+)\.so", dyn):
        owners = subprocess.run(["dpkg", "-S", "*/%%s.so" %% lib], capture_output=True,
                                text=True).stdout
        pkgs = set(l.split(":")[0] for l in owners.splitlines())
        if not pkgs & have:
            unnamed.append("%%s (%%s) for %%s" %% (lib, " or ".join(sorted(pkgs)) or "?", prog))
check("the guide's apt-get names every library the programs link", named and not unnamed,
      "named: %%s; not brought in: %%s" %% (" ".join(named), "; ".join(unnamed)))
sys.exit(1 if failed else 0)
"""


def release():
    """This machine's Debian release: "12" or "13"."""
    with open("/etc/os-release") as f:
        m = re.search(r'^VERSION_ID="?(\d+)', f.read(), re.M)
    return m.group(1) if m else "unknown"


def dovecot_version():
    """"2.3" or "2.4": the syntax the installed Dovecot reads."""
    out = subprocess.run(["dovecot", "--version"], capture_output=True, text=True).stdout
    return ".".join(out.split(".")[:2])


def shell_blocks(path):
    """Each ```sh block of the guide as (release, text): release is "12" or "13" when the
    paragraph before the block is "On Debian 12 ...:" or "On Debian 13 ...:", else None."""
    with open(path) as f:
        text = f.read()
    blocks = []
    for m in re.finditer(r"^```sh\n(.*?)^```", text, re.S | re.M):
        before = text[:m.start()].rstrip("\n").rsplit("\n\n", 1)[-1]
        r = re.match(r"On Debian (\d+)\b.*:$", before, re.S)
        blocks.append((r.group(1) if r else None, m.group(1)))
    return blocks


def copy_tree(dst):
    """The source as a clone would have it (no build directories) in dst."""
    r = subprocess.run(["git", "-C", TOP, "ls-files", "-z", "-co", "--exclude-standard"],
                       capture_output=True)
    if r.returncode == 0:
        files = [f for f in r.stdout.decode().split("\0") if f]
    else:
        files = [os.path.relpath(os.path.join(d, f), TOP)
                 for d, dirs, names in os.walk(TOP) for f in names
                 if not os.path.relpath(d, TOP).split(os.sep)[0].startswith((".git", "build"))]
    for f in files:
        if os.path.isfile(os.path.join(TOP, f)):
            os.makedirs(os.path.join(dst, os.path.dirname(f)), exist_ok=True)
            shutil.copy2(os.path.join(TOP, f), os.path.join(dst, f))


def propagation():
    """unshare's --propagation: private, so that no mount of the sandbox reaches this
    machine's; in a chroot, whose / is no mount point, its mounts stay as they are (as
    private as the chroot's own namespace makes them)."""
    with open("/proc/self/mountinfo") as f:
        mounts = f.read().splitlines()
    if any(line.split()[4] == "/" for line in mounts):
        return "private"
    shared = [line for line in mounts if "shared:" in line]
    assert not shared, "shared mounts in this chroot: %s" % shared
    return "unchanged"


def stand_in(w, script, name):
    shutil.copy(os.path.join(HERE, script), os.path.join(w, "bin", name))
    os.chmod(os.path.join(w, "bin", name), 0o755)


@suite.test
def guide_covers_both_releases():
    blocks = shell_blocks(os.path.join(TOP, "doc", "deploy.md"))
    n12 = sum(1 for r, _ in blocks if r == "12")
    n13 = sum(1 for r, _ in blocks if r == "13")
    others = sorted(set(r for r, _ in blocks) - {None, "12", "13"})
    assert n12 >= 1 and n12 == n13 and not others, \
        "blocks for Debian 12: %d, for Debian 13: %d, for others: %s" % (n12, n13, others)


@suite.test
def apt_stand_in_installs_nothing():
    # The replay's apt-get: installed packages pass, missing ones are named, nothing changes.
    d = tempfile.mkdtemp(prefix="agdeploy-apt-")
    try:
        env = dict(os.environ, DEPLOY_APT_NAMED=os.path.join(d, "named"))
        apt = [sys.executable, os.path.join(HERE, "deploy_apt.py")]
        ok = subprocess.run(apt + ["install", "-y", "dpkg", "coreutils"], env=env,
                            capture_output=True, text=True)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        bad = subprocess.run(apt + ["install", "-y", "dpkg", "authguard-no-such-package"],
                             env=env, capture_output=True, text=True)
        assert bad.returncode != 0 and "not installed" in bad.stderr and \
            "authguard-no-such-package" in bad.stderr and " dpkg" not in bad.stderr, \
            bad.stdout + bad.stderr
        with open(os.path.join(d, "named")) as f:
            named = f.read().split()
        assert named == ["dpkg", "coreutils", "dpkg", "authguard-no-such-package"], named
        other = subprocess.run(apt + ["upgrade", "-y"], env=env, capture_output=True, text=True)
        assert other.returncode != 0 and "not needed by the guide" in other.stderr, \
            other.stdout + other.stderr
    finally:
        shutil.rmtree(d)


@suite.test
def guide_replayed_on_this_machine():
    rel = release()
    assert rel in ("12", "13"), "Debian %s: the guide covers Debian 12 and 13" % rel
    dovecot = dovecot_version()
    assert dovecot == {"12": "2.3", "13": "2.4"}[rel], "Dovecot %s on Debian %s" % (dovecot,
                                                                                     rel)
    w = tempfile.mkdtemp(prefix="agdeploy-")
    try:
        blocks = [b for r, b in shell_blocks(os.path.join(TOP, "doc", "deploy.md"))
                  if r in (None, rel)]
        assert len(blocks) >= 8, "only %d shell blocks in doc/deploy.md" % len(blocks)
        for i, b in enumerate(blocks):
            with open(os.path.join(w, "block-%02d.sh" % (i + 1)), "w") as f:
                f.write(b)
        with open(os.path.join(w, "before.sh"), "w") as f:
            f.write(BEFORE % {"jane": JANE_APP, "users": DOVECOT_USERS[dovecot]})
        with open(os.path.join(w, "check.py"), "w") as f:
            f.write(CHECK % {})
        with open(os.path.join(w, "sandbox.sh"), "w") as f:
            f.write(SANDBOX % {"w": w, "dovecot": dovecot})
        copy_tree(os.path.join(w, "src"))
        os.makedirs(os.path.join(w, "bin"))
        stand_in(w, "deploy_systemctl.py", "systemctl")
        stand_in(w, "deploy_apt.py", "apt-get")
        # A root shell as the guide's reader has it: no make variables from a calling make.
        env = {k: v for k, v in os.environ.items()
               if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "BUILD")}
        env["AUTHGUARD_PASSWORD"] = JANE_APP
        print("# Debian %s, Dovecot %s: %d blocks of the guide" % (rel, dovecot, len(blocks)))
        r = subprocess.run(["unshare", "--mount", "--propagation", propagation(), "--net",
                            "--pid", "--fork", "--mount-proc", "bash",
                            os.path.join(w, "sandbox.sh")], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=900, env=env,
                           stdin=subprocess.DEVNULL)
        out = r.stdout
        for line in out.splitlines():
            print("# " + line)
        assert r.returncode == 0, "the replay failed (see above)"
        assert "not ok - deploy/" not in out and out.count("ok - deploy/") >= 10, out[-3000:]
    finally:
        subprocess.run(["rm", "-rf", w])


if __name__ == "__main__":
    suite.run()

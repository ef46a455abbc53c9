#!/usr/bin/env python3
"""The Grafana dashboard (conf-examples/grafana-authguard.json) against the real metrics.

A real authguard-policyd (gate, policy service, auth policy door, shared state in a real Redis,
metrics_listen) in front of the lab's real Postfix and Dovecot gets real logins: SMTP AUTH
through Postfix (a pass, bad passwords until the account is locked, an unknown user), IMAP
through Dovecot's auth policy client, RCPT through Postfix's policy client. Then its /metrics
is fetched over HTTP, and every metric name in every PromQL expression of the dashboard (its
panels' targets and its variables' queries) must be a series of that exposition; every label
an expression groups by or matches on must be one of that metric's labels, and every value it
matches with = must be a value of that label in the exposition.

The check is shown to fail on a copy of the dashboard with one name, one label and one value
changed, and its expression parser on known expressions (functions, keywords, label names,
durations, variables and strings are not metric names).

The dashboard is also checked as a file: valid JSON, the ${DS_PROMETHEUS} input, every panel
with that datasource, every non-row panel with at least one PromQL target, unique panel ids."""

import copy
import json
import os
import re
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab, USERS, free_port, tcp_listening, wait_until  # noqa: E402
from gatelab import Gate, b64, new_gate_dir, teardown_suite  # noqa: E402
from redislab import Redis  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("grafana")
S = {}
TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DASHBOARD = os.path.join(TOP, "conf-examples", "grafana-authguard.json")
API_KEY = "grafana-lab-key"
NONCE = "grafana-lab-nonce"
DS = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}


# --- PromQL: the metric names, label names and label values an expression uses -----------------

FUNCTIONS = {
    # aggregation operators
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
    "bottomk", "topk", "quantile", "limitk", "limit_ratio",
    # functions
    "abs", "absent", "absent_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min",
    "day_of_month", "day_of_week", "day_of_year", "days_in_month", "delta", "deriv", "exp",
    "floor", "histogram_avg", "histogram_count", "histogram_fraction", "histogram_quantile",
    "histogram_stddev", "histogram_stdvar", "histogram_sum", "holt_winters", "hour", "idelta",
    "increase", "irate", "label_join", "label_replace", "ln", "log2", "log10", "minute", "month",
    "predict_linear", "rate", "resets", "round", "scalar", "sgn", "sort", "sort_desc", "sqrt",
    "time", "timestamp", "vector", "year", "avg_over_time", "min_over_time", "max_over_time",
    "sum_over_time", "count_over_time", "quantile_over_time", "stddev_over_time",
    "stdvar_over_time", "last_over_time", "present_over_time", "acos", "acosh", "asin", "asinh",
    "atan", "atanh", "cos", "cosh", "sin", "sinh", "tan", "tanh", "deg", "rad", "pi",
    # Grafana's template functions
    "label_values", "metrics", "query_result",
}
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
            "and", "or", "unless", "atan2", "inf", "nan"}
GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
IDENT = re.compile(r"(?<![\w.:$])([A-Za-z_:][A-Za-z0-9_:]*)")
MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*'
                     r'("(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')\s*,?')


def parse_promql(expr):
    """What an expression uses: {"metrics": {name}, "selectors": [(name, [(label, op, value)])],
    "grouping": {label}}.  Strings, {...} matchers, [...] ranges and durations, Grafana's
    $variables, numbers, function names (an identifier before "("), keywords and the label
    lists of by/without/on/ignoring/group_* are not metric names."""
    out = {"metrics": set(), "selectors": [], "grouping": set()}
    e = re.sub(r"\[[^\]]*\]", " ", expr)                     # ranges: [5m], [$__rate_interval]
    for m in GROUPING.finditer(STRING.sub('""', e)):
        out["grouping"].update(x.strip() for x in m.group(2).split(",") if x.strip())
    # selectors: NAME{...} (before the braces are cut out)
    i = 0
    while i < len(e):
        if e[i] == '"' or e[i] == "'" or e[i] == "`":
            m = STRING.match(e, i)
            i = m.end() if m else i + 1
            continue
        if e[i] == "{":
            j, matchers = i + 1, []
            while True:
                m = MATCHER.match(e, j)
                if not m:
                    break
                matchers.append((m.group(1), m.group(2), json.loads('"%s"' % m.group(3)[1:-1])
                                 if m.group(3)[0] == '"' else m.group(3)[1:-1]))
                j = m.end()
            k = e.index("}", j)
            assert not e[j:k].strip(), "cannot read the matchers of %r" % expr
            before = re.search(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*$", e[:i])
            name = before.group(1) if before else None
            if name in FUNCTIONS or name in KEYWORDS:
                name = None
            out["selectors"].append((name, matchers))
            e = e[:i] + " " * (k + 1 - i) + e[k + 1:]
            i = k + 1
            continue
        i += 1
    e = STRING.sub(" ", e)
    e = GROUPING.sub(" ", e)
    e = re.sub(r"\$\{?\w+\}?", " ", e)                     # Grafana variables
    for m in IDENT.finditer(e):
        word = m.group(1)
        rest = e[m.end():].lstrip()
        if word.lower() in KEYWORDS or word in FUNCTIONS or rest.startswith("("):
            continue
        out["metrics"].add(word)
    for name, _ in out["selectors"]:
        if name is None:
            continue
        assert name in out["metrics"], (name, expr)
    return out


def parse_variable_query(q):
    """label_values(METRIC{...}, LABEL): the expression METRIC{...} and LABEL."""
    m = re.match(r"\s*label_values\s*\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$", q)
    assert m, "not a label_values() query: %r" % q
    return m.group(1), m.group(2)


def parse_exposition(text):
    """{metric name: {label: {values}}} of every sample line of a Prometheus text exposition."""
    series = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})?\s+\S+$", line)
        assert m, "not a sample line: %r" % line
        labels = series.setdefault(m.group(1), {})
        for lm in re.finditer(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""):
            labels.setdefault(lm.group(1), set()).add(lm.group(2))
    return series


# --- the dashboard ------------------------------------------------------------------------------

def all_panels(dash):
    out = []
    for p in dash.get("panels", []):
        out.append(p)
        out.extend(p.get("panels", []))         # a collapsed row holds its panels
    return out


def expressions(dash):
    """(where, expr) of every PromQL expression: panel targets, and variables' metric queries."""
    out = []
    for p in all_panels(dash):
        for t in p.get("targets", []):
            out.append(("panel %s %r target %s" % (p.get("id"), p.get("title"), t.get("refId")),
                        t["expr"]))
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
            expr, label = parse_variable_query(q)
            out.append(("variable %s" % v["name"], expr))
            out.append(("variable %s" % v["name"], "label_values_of:%s:%s" % (expr, label)))
    return out


def check_against(dash, series):
    """Every name, label and literal value the dashboard queries, checked against an
    exposition's series: the list of what is missing (empty: all there)."""
    missing = []
    for where, expr in expressions(dash):
        if expr.startswith("label_values_of:"):
            _, e, label = expr.split(":", 2)
            for name in parse_promql(e)["metrics"]:
                if label not in series.get(name, {}) and label != "instance":
                    missing.append("%s: label %s of %s" % (where, label, name))
            continue
        used = parse_promql(expr)
        if not used["metrics"]:
            missing.append("%s: no metric in %r" % (where, expr))
        labels_of = set()
        for name in used["metrics"]:
            if name not in series:
                missing.append("%s: metric %s" % (where, name))
            else:
                labels_of.update(series[name])
        # instance and job are the scrape's own labels, added by Prometheus
        for label in used["grouping"] - {"instance", "job"} - labels_of:
            missing.append("%s: label %s (by) of %s" % (where, label, sorted(used["metrics"])))
        for name, matchers in used["selectors"]:
            for label, op, value in matchers:
                if label in ("instance", "job"):
                    continue
                have = series.get(name, {}).get(label)
                if have is None:
                    missing.append("%s: label %s of %s" % (where, label, name))
                elif op == "=" and "$" not in value and value not in have:
                    missing.append("%s: %s=%r of %s" % (where, label, value, name))
                elif op == "=~" and "$" not in value:
                    for alt in value.split("|"):
                        if re.fullmatch(r"[\w-]+", alt) and alt not in have:
                            missing.append("%s: %s=~%r of %s" % (where, label, alt, name))
    return missing


def load_dashboard():
    with open(DASHBOARD) as f:
        return json.load(f)


# --- the lab ------------------------------------------------------------------------------------

def setup():
    d = S["dir"] = new_gate_dir()
    door = S["door_port"] = free_port()
    S["metrics_port"] = free_port()
    S["policy"] = os.path.join(d, "policy")
    S["redis"] = Redis(d).start()
    S["lab"] = lab = Lab(
        sasl_path=os.path.join(d, "auth"), maxproc=4, logins=("imap",),
        extra_main_cf={
            "smtpd_relay_restrictions": "check_policy_service unix:%s, "
                                        "permit_sasl_authenticated, reject_unauth_destination"
                                        % S["policy"],
            "smtpd_policy_service_policy_context": "submission"},
        auth_policy={"url": "http://127.0.0.1:%d/" % door, "nonce": NONCE,
                     "api_header": "X-API-Key: " + API_KEY, "check_before_auth": True,
                     "check_after_auth": False, "report_after_auth": True,
                     "reject_on_fail": False, "timeout_ms": 2000})
    lab.start_dovecot()
    S["gate"] = Gate(lab, d, auth_policy_listen="inet:127.0.0.1:%d" % door,
                     auth_policy_api_header="X-API-Key: " + API_KEY,
                     auth_policy_hash_nonce=NONCE,
                     policy_listen="unix:" + S["policy"],
                     metrics_listen="inet:127.0.0.1:%d" % S["metrics_port"],
                     state_backend=S["redis"].url(), redis_prefix="grafana:",
                     account_fail_limit="3/10m", ip_fail_limit="100/10m").start()
    wait_until(lambda: tcp_listening(door), 10, "the auth policy door")
    lab.start_postfix()


def teardown():
    if S.get("redis"):
        S["redis"].stop()
    teardown_suite(S)


def smtp_auth(user, password):
    s = S["lab"].smtp_connect(starttls=True)
    try:
        code, _ = s.docmd("AUTH PLAIN", b64("\0%s\0%s" % (user, password)))
        return code
    finally:
        s.close()


def metrics():
    url = "http://127.0.0.1:%d/metrics" % S["metrics_port"]
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.status == 200, r.status
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
        return r.read().decode()


def real_traffic():
    """Logins through every door the dashboard shows, once: the labelled series exist after."""
    if S.get("traffic"):
        return
    lab = S["lab"]
    assert smtp_auth("alice@example.test", USERS["alice@example.test"]) == 235
    assert smtp_auth("nobody@example.test", "whatever-1") == 535
    for i in range(4):                              # the 4th is refused by the lock
        assert smtp_auth("bob@example.test", "wrong-%d" % i) in (535, 454)
    ok, text = lab.imap_login("carol@example.test", USERS["carol@example.test"])
    assert ok, text
    ok, text = lab.imap_login("carol@example.test", "not-carols")
    assert not ok, text
    rc, out = lab.swaks("--from", "someone@example.test", "--quit-after", "RCPT")
    assert "530" in out, out                         # refused by the policy service
    S["gate"].sync()
    S["traffic"] = True


# --- the tests ----------------------------------------------------------------------------------

@suite.test
def dashboard_is_an_importable_file():
    """Valid JSON; the ${DS_PROMETHEUS} input; every panel, target and query variable with that
    datasource; a PromQL target in every panel but rows; unique ids; grid inside 24 columns."""
    dash = load_dashboard()
    inputs = {i["name"]: i for i in dash["__inputs"]}
    assert inputs["DS_PROMETHEUS"]["type"] == "datasource", inputs
    assert inputs["DS_PROMETHEUS"]["pluginId"] == "prometheus", inputs
    assert dash["title"] and dash["uid"] and dash["schemaVersion"] >= 36, dash.get("title")
    ids = [p["id"] for p in all_panels(dash)]
    assert len(ids) == len(set(ids)), ids
    used_types = {p["type"] for p in all_panels(dash)}
    required = {r["id"] for r in dash["__requires"] if r["type"] == "panel"}
    assert used_types - {"row"} <= required, (used_types, required)
    for p in all_panels(dash):
        assert p.get("datasource") == DS, (p["id"], p.get("title"), p.get("datasource"))
        g = p["gridPos"]
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24 and g["h"] > 0, (p["id"], g)
        if p["type"] == "row":
            continue
        assert p.get("targets"), (p["id"], p["title"])
        for t in p["targets"]:
            assert t.get("datasource") == DS and t.get("expr"), (p["id"], t)
    for v in dash["templating"]["list"]:
        if v["type"] == "query":
            assert v["datasource"] == DS, v
    text = open(DASHBOARD).read()
    assert "${DS_PROMETHEUS}" in text
    # no datasource of the exporting site left in (a uid other than the input)
    uids = set(re.findall(r'"uid":\s*"([^"]*)"', text)) - {dash["uid"], "${DS_PROMETHEUS}",
                                                          "-- Grafana --"}
    assert not uids, uids


@suite.test
def parser_tells_metric_names_from_the_rest():
    """Functions, aggregations with by/without, label names, strings, durations, offsets,
    numbers, Grafana variables and histogram suffixes, as PromQL reads them."""
    p = parse_promql('histogram_quantile(0.95, sum by (le, proto) (rate('
                     'authguard_auth_duration_seconds_bucket{instance=~"$instance",'
                     'proto="smtp"}[$__rate_interval] offset 5m)))')
    assert p["metrics"] == {"authguard_auth_duration_seconds_bucket"}, p
    assert p["grouping"] == {"le", "proto"}, p
    assert p["selectors"] == [("authguard_auth_duration_seconds_bucket",
                               [("instance", "=~", "$instance"), ("proto", "=", "smtp")])], p
    p = parse_promql('sum(rate(a_total{x="rate(b_total)"}[5m])) / ignoring(y) '
                     'sum without (z) (c_count) > bool 1e3 and on() d_sum unless e')
    assert p["metrics"] == {"a_total", "c_count", "d_sum", "e"}, p
    assert p["grouping"] == {"y", "z"}, p
    p = parse_promql("max(authguard_upstream_up) or vector(0)")
    assert p["metrics"] == {"authguard_upstream_up"}, p


@suite.test
def every_name_the_dashboard_queries_is_in_the_real_metrics():
    """After real logins through Postfix (gate), Dovecot (auth policy door) and Postfix's policy
    client, with Redis as the shared state: every metric, label and value the dashboard uses
    is in the real /metrics."""
    real_traffic()
    text = metrics()
    series = parse_exposition(text)
    # the traffic reached every part the dashboard shows
    assert 'authguard_auth_attempts_total{proto="imap",result="fail",cause="bad-password"}' \
        in text, text
    assert re.search(r'authguard_lockouts_total\{kind="account"\} [1-9]', text), text
    assert re.search(r'authguard_authpolicy_requests_total\{command="allow",answer="allow"\} '
                     r'[1-9]', text), text
    assert re.search(r'authguard_policy_decisions_total\{action="refuse",cause="[a-z-]+"\} [1-9]',
                     text), text
    assert 'authguard_shared_up{state="up"} 1' in text or \
        re.search(r'authguard_shared_up\{state="[a-z]+"\} 1', text), text
    assert 'authguard_upstream_up{state="ready"} 1' in text, text
    dash = load_dashboard()
    missing = check_against(dash, series)
    assert not missing, "\n".join(missing)
    # and the dashboard shows every family there is (nothing the daemon offers left out)
    used = set()
    for _, expr in expressions(dash):
        if not expr.startswith("label_values_of:"):
            used |= parse_promql(expr)["metrics"]
    families = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    shown = {f for f in families
             if f in used or any(u.startswith(f + "_") for u in used)}
    assert families == shown, "not on the dashboard: %s" % sorted(families - shown)


@suite.test
def a_name_that_is_not_exposed_fails_the_check():
    """The same check on copies of the dashboard: a misspelt metric in one panel, a histogram
    suffix that does not exist, a label the metric lacks, a value never seen: each reported."""
    real_traffic()
    series = parse_exposition(metrics())
    dash = load_dashboard()
    assert not check_against(dash, series)
    cases = [
        ("authguard_lockouts_total", "authguard_lockout_total", "metric authguard_lockout_total"),
        ("authguard_auth_duration_seconds_count", "authguard_auth_duration_seconds_total",
         "metric authguard_auth_duration_seconds_total"),
        ("sum by (kind) (authguard_tracked_entries", "sum by (kinds) (authguard_tracked_entries",
         "label kinds (by)"),
        ('result="abort"', 'result="aborted"', "result='aborted'"),
    ]
    for old, new, said in cases:
        bad = copy.deepcopy(dash)
        changed = 0
        for p in all_panels(bad):
            for t in p.get("targets", []):
                if old in t["expr"] and not changed:
                    t["expr"] = t["expr"].replace(old, new)
                    changed += 1
        assert changed == 1, old
        missing = check_against(bad, series)
        assert missing and all(said in m for m in missing), (old, missing)
    bad = copy.deepcopy(dash)
    bad["templating"]["list"][0]["query"]["query"] = "label_values(authguard_upstream, instance)"
    missing = check_against(bad, series)
    assert missing == ["variable instance: metric authguard_upstream"], missing


if __name__ == "__main__":
    suite.run(setup, teardown)

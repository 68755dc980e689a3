#!/usr/bin/env python3
"""
run.py - API tests against a live `rhis serve` on 127.0.0.1.

Why: the dispatcher's phases, the error shape and the limits only show on a
real server with real sockets (Redis and nginx-tests drive real servers).
The script initialises a fresh database, adds users with different roles
and scopes, imports a few institutions, starts `rhis serve`, runs every
tests/api/cases/NNN-name.http file (format: tests/api/README.md) and then a
few programmatic tests that need raw sockets.  Standard library only.

Usage: run.py --rhis BUILD/rhis [--engine sqlite|postgres] [--keep]
              [CASE ...]   (CASE: a glob or part of a case file name)
PostgreSQL: RHIS_TEST_PG_URL=postgresql://user@host:port/db names a server
where the script may create and drop a database; unset -> exit 77 (skip).
RHIS_API_DUMP_DIR=DIR saves every application/fhir+json (+ndjson) response
body of the cases as DIR/CASE.STEP.json (.ndjson); tests/fhir-schema
validates them.
Last line: "N passed, N failed"; exit status 1 on any failure.
"""
import argparse
import fnmatch
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))

ADMIN_PW = "Admin-Pass-2024!"
# name -> (role, scope, password)
USERS = {
    "planner": ("planner", "220221", "Planner-Pass-1"),      # 永吉县
    "clinician": ("clinician", "220281", "Clinician-Pass-1"),  # 蛟河市
    "integrator": ("integrator", "220221", "Integrator-Pass-1"),
    "resident": ("resident", "220221", "Resident-Pass-1"),
    "expiring": ("cdc", "220221", "Expiring-Pass-1"),  # its token gets expired
    "ratelimited": ("planner", "220221", "Ratelimited-Pass-1"),
    "shutdown": ("planner", "220221", "Shutdown-Pass-1"),
    # access to records (issue 3): "inst:CODE" is resolved to the id of the
    # institution of that code after the CSV import
    "doctor_kq": ("clinician", "inst:YJ-KQ-THC", "Doctor-Kq-Pass-1"),
    "doctor_rmyy": ("clinician", "inst:YJ-RMYY", "Doctor-Rmyy-Pass-1"),
    "cdc": ("cdc", "220221", "Cdc-Pass-1"),
}
# Residents linked to their own Patient record: created (as admin, through
# the API) once the server runs, then the user is added with --patient.
LINKED_RESIDENTS = {
    "resident": {
        "resourceType": "Patient",
        "name": [{"text": "王淑芬", "family": "王", "given": ["淑芬"]}],
        "gender": "female", "birthDate": "1958-03-12",
        "identifier": [{"system": "urn:oid:2.16.156.10011.1.3",
                        "value": "22022119580312002X"}],
        "address": [{"extension": [{
            "url": "https://rhis.cn/fhir/StructureDefinition/"
                   "address-division",
            "valueCode": "220221100002"}]}],
    },
}
PASSWORDS = dict({"admin": ADMIN_PW}, **{k: v[2] for k, v in USERS.items()})

# real 永吉县 township codes (GB/T 2260 + 统计用区划代码 2023)
INSTITUTIONS_CSV = """code,name,tier,grade,ownership,area_code,beds_approved,beds_open,lat,lon
YJ-KQ-THC,永吉县口前镇卫生院,township_hc,,public,220221100,40,35,43.6722,126.4972
YJ-SH-THC,永吉县双河镇卫生院,township_hc,,public,220221101,20,18,,
YJ-XY-THC,永吉县西阳镇卫生院,township_hc,,public,220221102,25,20,,
YJ-RMYY,永吉县人民医院,county_hospital,2A,public,220221,300,280,43.67,126.50
JH-RMYY,蛟河市人民医院,county_hospital,2A,public,220281,400,380,,
"""

MAIN_SETTINGS = [
    "--max-body-bytes", "4096", "--connection-timeout", "2",
    "--json-max-depth", "16", "--max-header-bytes", "16384",
    "--login-rate-user", "1000", "--login-rate-addr", "100000",
    "--shutdown-grace", "10", "--threads", "2",
]
RATE_SETTINGS = [
    "--login-rate-user", "3", "--login-rate-addr", "100000",
    "--login-rate-window", "300", "--token-ttl", "60", "--threads", "2",
]


class Failure(Exception):
    pass


# ---------------------------------------------------------------- results

class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0

    def ok(self, name, note=""):
        self.passed += 1
        print("ok   %s%s" % (name, "  (" + note + ")" if note else ""))

    def fail(self, name, why):
        self.failed += 1
        print("FAIL %s: %s" % (name, why))

    def skip(self, name, why):
        self.skipped += 1
        print("skip %s: %s" % (name, why))

    def run(self, name, fn, *args):
        try:
            note = fn(*args)
        except Failure as e:
            self.fail(name, str(e))
        except (OSError, http.client.HTTPException, ValueError) as e:
            self.fail(name, "%s: %s" % (type(e).__name__, e))
        else:
            if isinstance(note, tuple) and note and note[0] == "skip":
                self.skip(name, note[1])
            else:
                self.ok(name, note or "")


# ---------------------------------------------------------------- HTTP

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name, value)
        self.body = body        # bytes
        self._json = None
        self._json_err = None
        try:
            self._json = json.loads(body.decode("utf-8")) if body else None
        except ValueError as e:
            self._json_err = str(e)

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self):
        if self._json is None:
            raise Failure("response body is not JSON (%s): %r" %
                          (self._json_err or "empty", self.body[:200]))
        return self._json

    def brief(self):
        text = self.body.decode("utf-8", "replace")
        if len(text) > 600:
            text = text[:600] + "..."
        return "HTTP %d %s" % (self.status, text)


def request(port, method, path, headers=None, body=None, timeout=20):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        if isinstance(body, str):
            body = body.encode("utf-8")
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, r.getheaders(), data)
    finally:
        conn.close()


def raw_exchange(port, data, timeout=10):
    """Sends raw bytes, returns (status or None, raw reply bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                reply += chunk
                if b"\r\n\r\n" in reply and _complete(reply):
                    break
        except (ConnectionResetError, socket.timeout):
            pass
        m = re.match(rb"HTTP/1\.[01] (\d{3})", reply)
        return (int(m.group(1)) if m else None), reply
    finally:
        s.close()


def _complete(reply):
    head, _, rest = reply.partition(b"\r\n\r\n")
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return m is None or len(rest) >= int(m.group(1))


# ---------------------------------------------------------------- server

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, rhis, db, tmp, name, settings):
        self.port = free_port()
        self.log_path = os.path.join(tmp, "serve-%s.log" % name)
        self.log = open(self.log_path, "wb")
        env = dict(os.environ)
        env.setdefault("RHIS_DATA_DIR", os.path.join(SOURCE, "data"))
        cmd = [rhis, "serve", "--db", db,
               "--listen", "127.0.0.1:%d" % self.port,
               "--web-root", os.path.join(SOURCE, "web")] + settings
        self.proc = subprocess.Popen(cmd, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env,
                                     cwd=tmp)
        self.tokens = {}
        deadline = time.time() + 15
        while True:
            if self.proc.poll() is not None:
                raise Failure("rhis serve exited with %d; log %s:\n%s" %
                              (self.proc.returncode, self.log_path,
                               self.tail()))
            try:
                if request(self.port, "GET", "/healthz",
                           timeout=2).status == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                self.kill()
                raise Failure("rhis serve did not answer /healthz in 15 s")
            time.sleep(0.05)

    def tail(self, n=20):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-n:])

    def healthy(self):
        try:
            return request(self.port, "GET", "/healthz", timeout=5).status \
                == 200
        except OSError:
            return False

    def login(self, user, password=None):
        pw = password if password is not None else PASSWORDS[user]
        return request(self.port, "POST", "/api/v1/login",
                       {"Content-Type": "application/json"},
                       json.dumps({"username": user, "password": pw}))

    def token(self, user):
        if user not in self.tokens:
            r = self.login(user)
            if r.status != 200:
                raise Failure("cannot log in as %s: %s" % (user, r.brief()))
            self.tokens[user] = r.json()["token"]
        return self.tokens[user]

    def stop(self, timeout=12):
        """SIGTERM; returns (exit code, seconds) or raises on a hang."""
        if self.proc.poll() is not None:
            return self.proc.returncode, 0.0
        t0 = time.time()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Failure("rhis serve did not exit within %d s of SIGTERM"
                          % timeout)
        return rc, time.time() - t0

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


# ---------------------------------------------------------------- JSON paths

def _path_tokens(path):
    """Splits `.a[0][*][k.x=v].b` into ('key', 'a'), ('idx', 0), ('all',),
    ('filter', 'k.x', 'v'), ('key', 'b'); brackets may nest in filters."""
    out, pos = [], 0
    while pos < len(path):
        m = re.match(r"\.([A-Za-z_$][\w$-]*)", path[pos:])
        if m:
            out.append(("key", m.group(1)))
            pos += m.end()
            continue
        if path[pos] != "[":
            raise Failure("bad JSON path %r at %r" % (path, path[pos:]))
        depth, end = 0, pos
        while end < len(path):
            if path[end] == "[":
                depth += 1
            elif path[end] == "]":
                depth -= 1
                if depth == 0:
                    break
            end += 1
        if end >= len(path):
            raise Failure("bad JSON path %r: unbalanced [" % path)
        inner = path[pos + 1:end]
        pos = end + 1
        if inner == "*":
            out.append(("all",))
        elif inner.isdigit():
            out.append(("idx", int(inner)))
        else:
            # the key path ends at the first '=' outside brackets
            d, cut = 0, -1
            for i, ch in enumerate(inner):
                d += ch == "["
                d -= ch == "]"
                if ch == "=" and d == 0:
                    cut = i
                    break
            if cut <= 0:
                raise Failure("bad JSON path filter [%s]" % inner)
            out.append(("filter", inner[:cut], inner[cut + 1:]))
    return out


def path_get(doc, path):
    """
    Evaluates PATH on doc: `.key`, `[N]`, `[*]` (every element) and
    `[key.path=value]` (first element where some value at key.path equals
    value, compared as text).  Returns a list of results (empty: nothing).
    """
    if path in (".", ""):
        return [doc]
    cur = [doc]
    for tok in _path_tokens(path):
        nxt = []
        for v in cur:
            if tok[0] == "key":
                if isinstance(v, dict) and tok[1] in v:
                    nxt.append(v[tok[1]])
            elif tok[0] == "all":
                if isinstance(v, list):
                    nxt.extend(v)
            elif tok[0] == "idx":
                if isinstance(v, list) and tok[1] < len(v):
                    nxt.append(v[tok[1]])
            elif isinstance(v, list):
                key = tok[1] if tok[1].startswith(("[", ".")) \
                    else "." + tok[1]
                for e in v:
                    if any(_text(g) == tok[2] for g in path_get(e, key)):
                        nxt.append(e)
                        break
        cur = nxt
    return cur


def _text(v):
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def _literal(s):
    s = s.strip()
    try:
        return json.loads(s)
    except ValueError:
        return s


# ---------------------------------------------------------------- case files

SUBST = re.compile(r"\{\{\s*([^}]*?)\s*\}\}")


class Step:
    def __init__(self, source, lineno):
        self.source = source
        self.lineno = lineno
        self.method = None
        self.target = None
        self.headers = []
        self.body = None
        self.expect = []  # (lineno, text)


def parse_case(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    steps = []
    chunk, start = [], 1
    for i, line in enumerate(lines + ["==="], 1):
        if line.strip() == "===":
            if any(l.strip() and not l.startswith("#") for l, _ in chunk):
                steps.append(parse_step(path, chunk, start))
            chunk, start = [], i + 1
        else:
            chunk.append((line, i))
    if not steps:
        raise Failure("%s: no steps" % path)
    return steps


def parse_step(path, chunk, start):
    st = Step(path, start)
    i = 0
    # comments and blank lines before the request line
    while i < len(chunk) and (not chunk[i][0].strip() or
                              chunk[i][0].startswith("#")):
        i += 1
    m = re.match(r"^([A-Z]+)\s+(\S+)\s*$", chunk[i][0]) if i < len(chunk) \
        else None
    if m is None:
        raise Failure("%s:%d: expected 'METHOD /path'" %
                      (path, chunk[i][1] if i < len(chunk) else start))
    st.method, st.target = m.group(1), m.group(2)
    st.lineno = chunk[i][1]
    i += 1
    while i < len(chunk) and chunk[i][0].strip() and \
            chunk[i][0].strip() != "###":
        line, n = chunk[i]
        if line.startswith("#"):
            i += 1
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise Failure("%s:%d: expected 'Header: value'" % (path, n))
        st.headers.append((name.strip(), value.strip()))
        i += 1
    body = []
    if i < len(chunk) and not chunk[i][0].strip():
        i += 1
    while i < len(chunk) and chunk[i][0].strip() != "###":
        body.append(chunk[i][0])
        i += 1
    while body and not body[-1].strip():
        body.pop()
    if body:
        st.body = "\n".join(body)
    if i >= len(chunk):
        raise Failure("%s:%d: missing '###' and 'expect STATUS'" %
                      (path, st.lineno))
    i += 1
    for line, n in chunk[i:]:
        if line.strip() and not line.lstrip().startswith("#"):
            st.expect.append((n, line.strip()))
    if not st.expect or not st.expect[0][1].startswith("expect "):
        raise Failure("%s:%d: the first line after ### must be "
                      "'expect STATUS'" % (path, st.lineno))
    return st


class CaseRunner:
    def __init__(self, server, name=""):
        self.server = server
        self.vars = {}
        self.name = name
        self.step = 0

    def subst(self, text):
        def one(m):
            expr = m.group(1)
            if expr.startswith("token:"):
                return self.server.token(expr[6:].strip())
            if expr.startswith("repeat "):
                parts = expr.split(" ", 2)
                if len(parts) != 3 or not parts[1].isdigit():
                    raise Failure("bad {{repeat N TEXT}}: %r" % expr)
                return parts[2] * int(parts[1])
            if expr.startswith("password:"):
                return PASSWORDS[expr[9:].strip()]
            if expr not in self.vars:
                raise Failure("{{%s}} is not captured yet" % expr)
            return self.vars[expr]
        return SUBST.sub(one, text)

    def run_step(self, st):
        target = self.subst(st.target)
        headers = {}
        for k, v in st.headers:
            headers[k] = self.subst(v)
        body = self.subst(st.body) if st.body is not None else None
        if body is not None and not any(k.lower() == "content-type"
                                        for k in headers):
            headers["Content-Type"] = "application/json"
        if body is None and st.method in ("POST", "PUT", "PATCH"):
            body = b""  # Content-Length: 0
        r = request(self.server.port, st.method, target, headers, body)
        self.step += 1
        dump_fhir(r, "%s.%02d" % (self.name, self.step))
        where = "%s:%d %s %s" % (os.path.basename(st.source), st.lineno,
                                 st.method, target)
        try:
            check_common(r)
            for n, line in st.expect:
                self.check(r, line)
        except Failure as e:
            raise Failure("%s: %s\n       got %s" % (where, e, r.brief()))
        return r

    def check(self, r, line):
        m = re.match(r"^expect\s+(\d{3}(?:\|\d{3})*)$", line)
        if m:
            if str(r.status) not in m.group(1).split("|"):
                raise Failure("expected status %s" % m.group(1))
            return
        m = re.match(r"^capture\s+(\w+)\s*=\s*(json|header)\s+(.+)$", line)
        if m:
            if m.group(2) == "json":
                got = path_get(r.json(), self.subst(m.group(3).strip()))
                if not got:
                    raise Failure("capture: %s not found" % m.group(3))
                self.vars[m.group(1)] = _text(got[0])
            else:
                v = r.header(m.group(3).strip())
                if v is None:
                    raise Failure("capture: no header %s" % m.group(3))
                self.vars[m.group(1)] = v
            return
        m = re.match(r"^header\s+([\w-]+)\s+(~|!~|absent)\s*(.*)$", line)
        if m:
            v = r.header(m.group(1))
            if m.group(2) == "absent":
                if v is not None:
                    raise Failure("header %s should be absent, is %r" %
                                  (m.group(1), v))
                return
            pat = self.subst(m.group(3))
            hit = v is not None and re.search(pat, v) is not None
            if hit != (m.group(2) == "~"):
                raise Failure("header %s = %r, wanted %s %r" %
                              (m.group(1), v, m.group(2), pat))
            return
        m = re.match(r"^body\s+(~|!~)\s+(.*)$", line)
        if m:
            text = r.body.decode("utf-8", "replace")
            hit = re.search(self.subst(m.group(2)), text, re.M) is not None
            if hit != (m.group(1) == "~"):
                raise Failure("body %s %r failed" % (m.group(1), m.group(2)))
            return
        m = re.match(r"^json\s+(\S+)\s+(exists|absent)$", line)
        if m:
            got = path_get(r.json(), self.subst(m.group(1)))
            if bool(got) != (m.group(2) == "exists"):
                raise Failure("json %s %s failed" % (m.group(1), m.group(2)))
            return
        m = re.match(r"^json\s+(\S+)\s+length\s+(==|>=|<=)\s+(\d+)$", line)
        if m:
            got = path_get(r.json(), m.group(1))
            if not got or not isinstance(got[0], (list, dict, str)):
                raise Failure("json %s has no length" % m.group(1))
            n, want = len(got[0]), int(m.group(3))
            if not {"==": n == want, ">=": n >= want,
                    "<=": n <= want}[m.group(2)]:
                raise Failure("json %s length is %d, wanted %s %d" %
                              (m.group(1), n, m.group(2), want))
            return
        m = re.match(r"^json\s+(\S+)\s+(==|!=|>=|<=|~|contains)\s+(.*)$",
                     line)
        if m:
            path, op, rhs = self.subst(m.group(1)), m.group(2), \
                self.subst(m.group(3))
            got = path_get(r.json(), path)
            if op == "contains":
                want = _literal(rhs)
                if want not in got and not (
                        len(got) == 1 and isinstance(got[0], (list, str)) and
                        _contains(got[0], want)):
                    raise Failure("json %s = %s does not contain %r" %
                                  (path, _show(got), want))
                return
            if not got:
                raise Failure("json %s: nothing there" % path)
            v = got[0]
            if op == "~":
                if re.search(rhs, _text(v)) is None:
                    raise Failure("json %s = %r does not match %r" %
                                  (path, v, rhs))
                return
            want = _literal(rhs)
            if op == "==" and v != want or op == "!=" and v == want:
                raise Failure("json %s = %r, wanted %s %r" %
                              (path, v, op, want))
            if op in (">=", "<=") and not (
                    isinstance(v, (int, float)) and
                    (v >= want if op == ">=" else v <= want)):
                raise Failure("json %s = %r, wanted %s %r" %
                              (path, v, op, want))
            return
        raise Failure("unknown expectation %r" % line)


def _contains(haystack, want):
    if isinstance(haystack, str):
        return isinstance(want, str) and want in haystack
    return want in haystack


def _show(got):
    return json.dumps(got[0] if len(got) == 1 else got, ensure_ascii=False)


def check_common(r):
    """Every answer has X-Request-Id; every error is an OperationOutcome
    tagged with that request id."""
    rid = r.header("X-Request-Id")
    if not rid:
        raise Failure("no X-Request-Id header")
    if r.status < 400:
        return
    try:
        oo = json.loads(r.body.decode("utf-8"))
    except ValueError:
        raise Failure("error body is not JSON")
    if not isinstance(oo, dict) or oo.get("resourceType") != \
            "OperationOutcome":
        raise Failure("error body is not an OperationOutcome")
    issues = oo.get("issue")
    if not isinstance(issues, list) or not issues or \
            not issues[0].get("code") or not issues[0].get("severity"):
        raise Failure("OperationOutcome without issue[0].code/severity")
    tags = (oo.get("meta") or {}).get("tag") or []
    if not any(t.get("system") == "urn:rhis:request-id" and
               t.get("code") == rid for t in tags):
        raise Failure("OperationOutcome lacks meta.tag urn:rhis:request-id "
                      "= X-Request-Id %s" % rid)


def dump_fhir(r, name):
    """With RHIS_API_DUMP_DIR set, saves a FHIR JSON body as NAME.json there
    (NDJSON as NAME.ndjson); tests/fhir-schema validates every resource
    against the R4 JSON schema."""
    out = os.environ.get("RHIS_API_DUMP_DIR")
    ctype = (r.header("Content-Type") or "").split(";")[0].strip().lower()
    ext = {"application/fhir+json": ".json",
           "application/fhir+ndjson": ".ndjson"}.get(ctype)
    if out and r.body and ext:
        with open(os.path.join(out, name + ext), "wb") as f:
            f.write(r.body)


def run_cases(res, server, patterns):
    cases_dir = os.path.join(HERE, "cases")
    files = sorted(f for f in os.listdir(cases_dir) if f.endswith(".http"))
    if patterns:
        files = [f for f in files
                 if any(fnmatch.fnmatch(f, p) or p in f for p in patterns)]
    for f in files:
        name = f[:-5]

        def one(path=os.path.join(cases_dir, f)):
            runner = CaseRunner(server, name)
            for st in parse_case(path):
                runner.run_step(st)
        res.run(name, one)


# ---------------------------------------------------------------- databases

class Database:
    """A fresh database for one run: a SQLite file or a PostgreSQL DB."""

    def __init__(self, engine, tmp):
        self.engine = engine
        self.pg_admin = None
        if engine == "sqlite":
            self.path = os.path.join(tmp, "rhis.db")
            self.url = "sqlite:" + self.path
            return
        base = os.environ.get("RHIS_TEST_PG_URL")
        if not base:
            print("skip: RHIS_TEST_PG_URL is not set")
            sys.exit(77)
        u = urllib.parse.urlsplit(base)
        name = "rhis_api_" + "".join(
            random.choice(string.ascii_lowercase + string.digits)
            for _ in range(10))
        self.pg_admin = base
        self.name = name
        self.url = urllib.parse.urlunsplit(
            (u.scheme, u.netloc, "/" + name, u.query, ""))
        self.psql = shutil.which("psql")
        if self.psql is None:
            print("FAIL: --engine postgres needs psql to create a database")
            sys.exit(1)
        self.sql_admin("CREATE DATABASE %s" % name)

    def sql_admin(self, sql):
        subprocess.run([self.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1",
                        "-d", self.pg_admin, "-c", sql], check=True,
                       stdout=subprocess.DEVNULL)

    def execute(self, sql, params=()):
        """Runs one statement in the test database (for test set-up)."""
        if self.engine == "sqlite":
            import sqlite3
            con = sqlite3.connect(self.path, timeout=10)
            try:
                con.execute(sql, params)
                con.commit()
            finally:
                con.close()
            return
        for p in params:  # only simple literals are used here
            sql = sql.replace("?", "'" + str(p).replace("'", "''") + "'", 1)
        subprocess.run([self.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1",
                        "-d", self.url, "-c", sql], check=True,
                       stdout=subprocess.DEVNULL)

    def scalar(self, sql, params=()):
        """The first column of the first row of a query (test set-up)."""
        if self.engine == "sqlite":
            import sqlite3
            con = sqlite3.connect(self.path, timeout=10)
            try:
                row = con.execute(sql, params).fetchone()
            finally:
                con.close()
            return row[0] if row else None
        for p in params:  # only simple literals are used here
            sql = sql.replace("?", "'" + str(p).replace("'", "''") + "'", 1)
        out = subprocess.run([self.psql, "-X", "-q", "-At", "-v",
                              "ON_ERROR_STOP=1", "-d", self.url, "-c", sql],
                             check=True, stdout=subprocess.PIPE).stdout
        text = out.decode("utf-8").strip()
        return text.splitlines()[0] if text else None

    def drop(self):
        if self.engine == "postgres":
            try:
                self.sql_admin("DROP DATABASE IF EXISTS %s WITH (FORCE)" %
                               self.name)
            except subprocess.CalledProcessError:
                print("warning: could not drop database %s" % self.name)


def run_cli(rhis, tmp, *args):
    env = dict(os.environ)
    env.setdefault("RHIS_DATA_DIR", os.path.join(SOURCE, "data"))
    p = subprocess.run([rhis] + list(args), cwd=tmp, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        raise Failure("rhis %s failed (%d): %s" %
                      (" ".join(args[:2]), p.returncode,
                       p.stdout.decode("utf-8", "replace")))
    return p.stdout.decode("utf-8", "replace")


def pwfile(tmp, name, pw):
    path = os.path.join(tmp, "pw-" + name)
    with open(path, "w") as f:
        f.write(pw + "\n")
    return path


def setup(rhis, db, tmp):
    def cli(*args):
        return run_cli(rhis, tmp, *args)

    cli("init", "--db", db.url, "--admin-password-file",
        pwfile(tmp, "admin", ADMIN_PW))
    csv = os.path.join(tmp, "institutions.csv")
    with open(csv, "w", encoding="utf-8") as f:
        f.write(INSTITUTIONS_CSV)
    out = cli("import-institutions", "--db", db.url, csv)
    if "5 rows" not in out:
        raise Failure("import-institutions: %s" % out.strip())
    for name, (role, scope, pw) in USERS.items():
        if name in LINKED_RESIDENTS:
            continue
        if scope.startswith("inst:") and not scope[5:].isdigit():
            scope = "inst:%s" % db.scalar(
                "SELECT id FROM institution WHERE code = ?", (scope[5:],))
        cli("user", "add", "--db", db.url, "--username", name, "--role",
            role, "--scope", scope, "--password-file",
            pwfile(tmp, name, pw))


def setup_linked(rhis, db, tmp, server):
    """Creates each linked resident's Patient as admin through the API and
    adds the resident with `rhis user add --patient ID`."""
    for name, patient in LINKED_RESIDENTS.items():
        r = request(server.port, "POST", "/fhir/Patient",
                    {"Content-Type": "application/fhir+json",
                     "Authorization": "Bearer " + server.token("admin")},
                    json.dumps(patient, ensure_ascii=False))
        if r.status != 201:
            raise Failure("cannot create the Patient of %s: %s" %
                          (name, r.brief()))
        pid = r.json()["id"]
        role, scope, pw = USERS[name]
        run_cli(rhis, tmp, "user", "add", "--db", db.url, "--username", name,
                "--role", role, "--scope", scope, "--password-file",
                pwfile(tmp, name, pw), "--patient", pid)


# ---------------------------------------------------------------- programmatic

def t_header_flood(server):
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    for i in range(200):
        head += b"X-Flood-%03d: %s\r\n" % (i, b"a" * 1024)
    status, reply = raw_exchange(server.port, head + b"\r\n")
    if status is not None and not 400 <= status < 500:
        raise Failure("200 x 1 KB headers answered %d, wanted a 4xx or a "
                      "closed connection" % status)
    if not server.healthy():
        raise Failure("server unhealthy after the header flood")
    return "status %s" % (status if status is not None else "closed")


def t_slow_client(server):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    t0 = time.time()
    try:
        s.sendall(b"GET /healt")
        # nothing more; --connection-timeout 2 must close this
        s.settimeout(8)
        try:
            data = s.recv(4096)
            while data:
                data = s.recv(4096)
        except ConnectionResetError:
            pass
        except socket.timeout:
            raise Failure("a half-sent request line kept the connection "
                          "open for %.1f s (timeout 2 s)" % (time.time() - t0))
    finally:
        s.close()
    took = time.time() - t0
    if took < 1.5:
        raise Failure("closed after %.1f s, before the 2 s timeout" % took)
    if not server.healthy():
        raise Failure("/healthz fails after the slow client")
    return "closed after %.1f s" % took


def t_chunked_too_big(server):
    body = b"x" * 5000
    req = (b"POST /api/v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Content-Type: application/json\r\n"
           b"Transfer-Encoding: chunked\r\n\r\n" +
           b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
    status, reply = raw_exchange(server.port, req)
    if status != 413:
        raise Failure("5000 chunked bytes (cap 4096) answered %s, wanted "
                      "413: %r" % (status, reply[:300]))
    if b"too-costly" not in reply:
        raise Failure("413 without issue code too-costly: %r" % reply[:400])
    if not server.healthy():
        raise Failure("unhealthy afterwards")


def t_expired_token(server, db):
    if db.engine == "postgres" and shutil.which("psql") is None:
        return ("skip", "psql not available")
    r = server.login("expiring")
    if r.status != 200:
        raise Failure("login: " + r.brief())
    tok = r.json()["token"]
    hdr = {"Authorization": "Bearer " + tok}
    r = request(server.port, "GET", "/api/v1/me", hdr)
    if r.status != 200:
        raise Failure("fresh token: " + r.brief())
    db.execute("UPDATE auth_token SET expires_at = 0 WHERE user_id ="
               " (SELECT id FROM app_user WHERE username = ?)",
               ("expiring",))
    r = request(server.port, "GET", "/api/v1/me", hdr)
    check_common(r)
    if r.status != 401:
        raise Failure("expired token answered " + r.brief())
    if not (r.header("WWW-Authenticate") or "").startswith("Bearer"):
        raise Failure("401 without WWW-Authenticate: Bearer")
    if r.json()["issue"][0]["code"] != "login":
        raise Failure("issue code is not login: " + r.brief())


def t_token_ttl(server):
    t0 = time.time()
    r = server.login("planner")
    if r.status != 200:
        raise Failure("login: " + r.brief())
    exp = r.json().get("expires", "")
    try:
        when = time.mktime(time.strptime(exp, "%Y-%m-%dT%H:%M:%SZ")) - \
            time.mktime(time.gmtime(0))
    except ValueError:
        raise Failure("expires %r is not YYYY-MM-DDTHH:MM:SSZ" % exp)
    ahead = when - t0
    if not 55 <= ahead <= 66:
        raise Failure("expires is %.0f s ahead with --token-ttl 60" % ahead)
    return "expires in %.0f s" % ahead


def t_login_rate(server):
    for i in range(3):
        r = server.login("ratelimited", "wrong-password-%d" % i)
        check_common(r)
        if r.status != 401:
            raise Failure("wrong password #%d answered %s" %
                          (i + 1, r.brief()))
    r = server.login("ratelimited")  # right password, still refused
    check_common(r)
    if r.status != 429:
        raise Failure("4th attempt after 3 failures answered " + r.brief())
    ra = r.header("Retry-After")
    if ra is None or not ra.isdigit() or int(ra) < 1:
        raise Failure("429 without a Retry-After in seconds (%r)" % ra)
    if r.json()["issue"][0]["code"] != "throttled":
        raise Failure("429 issue code is not throttled: " + r.brief())
    # other users are not affected
    r = server.login("planner")
    if r.status != 200:
        raise Failure("another user is refused too: " + r.brief())
    return "Retry-After: %s" % ra


def t_graceful_shutdown(server):
    body = json.dumps({"username": "shutdown",
                       "password": PASSWORDS["shutdown"]}).encode()
    s = socket.create_connection(("127.0.0.1", server.port), timeout=15)
    try:
        s.sendall(b"POST /api/v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Type: application/json\r\nConnection: close\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body) + body)
        # wait until the server has the login (it counts as in flight
        # next to the /metrics request itself); argon2id takes ~60-90 ms
        deadline = time.time() + 0.05
        while time.time() < deadline:
            m = re.search(r"(?m)^rhis_http_requests_in_flight (\d+)",
                          request(server.port, "GET", "/metrics")
                          .body.decode())
            if m and int(m.group(1)) >= 2:
                break
        t0 = time.time()
        server.proc.send_signal(signal.SIGTERM)
        reply = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                reply += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    finally:
        s.close()
    try:
        rc = server.proc.wait(12)
    except subprocess.TimeoutExpired:
        server.kill()
        raise Failure("no exit within 12 s of SIGTERM")
    took = time.time() - t0
    m = re.match(rb"HTTP/1\.[01] (\d{3})", reply)
    if m is None or m.group(1) != b"200":
        raise Failure("login in flight at SIGTERM got %r" % reply[:300])
    if b'"token"' not in reply:
        raise Failure("login reply without a token: %r" % reply[:300])
    if rc != 0:
        raise Failure("exit status %d after SIGTERM" % rc)
    if took > 5:
        raise Failure("took %.1f s to exit" % took)
    return "exit 0 after %.2f s" % took


def t_stop(server):
    rc, took = server.stop()
    if rc != 0:
        raise Failure("exit status %d after SIGTERM; log:\n%s" %
                      (rc, server.tail()))
    if took > 5:
        raise Failure("took %.1f s to exit after SIGTERM" % took)
    return "exit 0 after %.2f s" % took


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--rhis", required=True, help="the rhis binary")
    ap.add_argument("--engine", choices=("sqlite", "postgres"),
                    default="sqlite")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory (and PG database)")
    ap.add_argument("cases", nargs="*", help="only cases matching these")
    args = ap.parse_args()
    rhis = os.path.abspath(args.rhis)

    if args.engine == "postgres" and not os.environ.get("RHIS_TEST_PG_URL"):
        print("skip: RHIS_TEST_PG_URL is not set")
        print("0 passed, 0 failed")
        return 77
    res = Results()
    tmp = tempfile.mkdtemp(prefix="rhis-api-")
    db = Database(args.engine, tmp)
    servers = []
    try:
        setup(rhis, db, tmp)
        print("# engine %s, db %s, tmp %s" % (args.engine, db.url, tmp))

        main_srv = Server(rhis, db.url, tmp, "main", MAIN_SETTINGS)
        servers.append(main_srv)
        setup_linked(rhis, db, tmp, main_srv)
        run_cases(res, main_srv, args.cases)
        if not args.cases:
            res.run("prog-header-flood", t_header_flood, main_srv)
            res.run("prog-slow-client", t_slow_client, main_srv)
            res.run("prog-chunked-body-over-cap", t_chunked_too_big,
                    main_srv)
            res.run("prog-expired-token", t_expired_token, main_srv, db)
            res.run("prog-graceful-shutdown", t_graceful_shutdown, main_srv)

            rate_srv = Server(rhis, db.url, tmp, "rate", RATE_SETTINGS)
            servers.append(rate_srv)
            res.run("prog-token-ttl", t_token_ttl, rate_srv)
            res.run("prog-login-rate-limit", t_login_rate, rate_srv)
            res.run("prog-sigterm-exit", t_stop, rate_srv)
        else:
            res.run("prog-sigterm-exit", t_stop, main_srv)
    except Failure as e:
        res.fail("setup", str(e))
    finally:
        for s in servers:
            s.kill()
        if res.failed:
            for s in servers:
                print("# --- last lines of %s" % s.log_path)
                for line in s.tail(8).splitlines():
                    print("#   " + line)
        if not args.keep:
            db.drop()
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (res.passed, res.failed))
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())

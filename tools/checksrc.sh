#!/usr/bin/env bash
#
# checksrc.sh - project rules a compiler does not check (after curl's checksrc).
#
# Why: a few habits keep RHIS safe and its subsystems separate; they are cheap
# to check mechanically and easy to miss in review. Checked over the C files
# in src/ include/ tests/ (comments and string contents are ignored where
# that matters):
#
#   banned      sprintf vsprintf strcpy strcat strtok atoi atol gets: use
#               snprintf / rhis_buf, strtol / strtoul with end checks.
#   alloc       bare malloc calloc realloc free outside src/core/alloc.c: use
#               rhis_xmalloc / rhis_free / arenas (member calls like
#               job->free(...) are fine).
#   sql-printf  a printf-family call (snprintf, vsnprintf, printf, fprintf,
#               rhis_*printf ...) whose format string holds SQL: an upper-case
#               SELECT/INSERT/UPDATE/DELETE/CREATE/DROP word, or an SQL-shaped
#               phrase in any case ("insert into", "delete from", "select ...
#               from", "update x set", "create table" ...). Bind parameters.
#   include     a file in src/X/ (or include/rhis/) may include "rhis/..." and
#               headers that exist in its own directory tree only; never
#               another subsystem's private header. tests/ may include anything.
#               Headers generated at build time: name them *_gen.h or put them
#               under generated/.
#   phi-log     an rhis_log*( call whose text mentions name, id_number, idnum,
#               phone, birth*, diagnos* or address (word-wise, so username or
#               request_id are fine; "listen address", route->name, setting
#               name and the like are allowed by a short prefix list).
#
# Escape hatch: a line carrying the comment /* checksrc: ok */ is not reported
# (for a call spanning lines, any of its lines). Use it rarely, and say why.
#
# Prints file:line: [rule] message for each finding; exits 1 if there is any.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
py=$(command -v python3 || true)
[ -n "$py" ] || {
    echo "checksrc: python3 is required" >&2
    exit 2
}
exec "$py" - "$root" "$@" <<'PY'
import os
import re
import sys

root = sys.argv[1]
os.chdir(root)
DIRS = ("src", "include", "tests")
MARK = re.compile(r"/\*\s*checksrc:\s*ok\s*\*/")

BANNED = re.compile(
    r"(?<![A-Za-z0-9_])(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets)\s*\(")
ALLOC = re.compile(
    r"(?<![A-Za-z0-9_.>])(malloc|calloc|realloc|free)\s*\(")
PRINTF = re.compile(
    r"(?<![A-Za-z0-9_])(snprintf|vsnprintf|sprintf|vsprintf|printf|fprintf|"
    r"vprintf|vfprintf|dprintf|vdprintf|asprintf|vasprintf|rhis_\w*printf\w*)"
    r"\s*\(")
SQL_UPPER = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP)\b")
SQL_SHAPE = re.compile(
    r"\bselect\b.*\bfrom\b|\binsert\s+into\b|\bupdate\s+[\w%\"]+\s+set\b|"
    r"\bdelete\s+from\b|\b(create|drop)\s+(table|index|unique|view|schema|"
    r"database|trigger|sequence|type|function|extension|role|temp|"
    r"temporary|or\s+replace|if)\b", re.I | re.S)
LOGCALL = re.compile(r"(?<![A-Za-z0-9_])rhis_log\w*\s*\(")
PHI = re.compile(
    r"\b(name|id_number|idnum|phone|birth[a-z_]*|diagnos[a-z_]*|address)\b",
    re.I)
PHI_ALLOW_PREFIX = re.compile(
    r"\b(listen|listening|bind|server|peer|remote|client|ip|socket|sock|host|route|job|"
    r"setting|config|conf|cfg|table|column|col|file|module|driver|drv|role|"
    r"key|field|param|option|opt|command|cmd|detector|indicator|element|"
    r"program|programme|level|scheme|kind|method|header|hdr|dataset|"
    r"resource|subsystem|test)\s*(->|\.|_|-|\s)\s*$", re.I)
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def strip(text):
    """Returns (code, code_with_strings): comments blanked in both, string
    and char literal contents blanked in the first; newlines kept."""
    code, withs = [], []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            blank = re.sub(r"[^\n]", " ", text[i:j])
            code.append(blank)
            withs.append(blank)
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            code.append(" " * (j - i))
            withs.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            lit = text[i:j]
            code.append(c + re.sub(r"[^\n]", " ", lit[1:-1]) + lit[-1:])
            withs.append(lit)
            i = j
        else:
            code.append(c)
            withs.append(c)
            i += 1
    return "".join(code), "".join(withs)


def call_span(code, open_paren):
    """Index just past the parenthesis matching code[open_paren]."""
    depth = 0
    for j in range(open_paren, len(code)):
        if code[j] == "(":
            depth += 1
        elif code[j] == ")":
            depth -= 1
            if depth == 0:
                return j + 1
    return len(code)


def strings_of(s):
    """Concatenated contents of the string literals in s."""
    return " ".join(m.group(1) for m in
                    re.finditer(r'"((?:[^"\\\n]|\\.)*)"', s))


findings = []


def check_file(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    lines = text.split("\n")
    marked = {i + 1 for i, l in enumerate(lines) if MARK.search(l)}
    code, withs = strip(text)
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)

    def lineno(pos):
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if starts[mid] <= pos:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1

    def report(pos, rule, msg, end=None):
        first = lineno(pos)
        last = lineno(end) if end is not None else first
        if any(l in marked for l in range(first, last + 1)):
            return
        findings.append((path, first, rule, msg))

    for m in BANNED.finditer(code):
        name = m.group(1)
        hint = ("strtol/strtoll with an end and range check"
                if name.startswith("ato") else
                "strtok_r or a hand-written scanner" if name == "strtok" else
                "fgets" if name == "gets" else
                "snprintf or rhis_buf (capped)")
        report(m.start(1), "banned", "%s() is banned; use %s" % (name, hint))

    if path != "src/core/alloc.c":
        for m in ALLOC.finditer(code):
            name = m.group(1)
            hint = "rhis_free" if name == "free" else "rhis_x" + name
            report(m.start(1), "alloc",
                   "bare %s() outside src/core/alloc.c; use %s or an arena"
                   % (name, hint))

    for m in PRINTF.finditer(code):
        end = call_span(code, m.end() - 1)
        fmt = strings_of(withs[m.start():end])
        if SQL_UPPER.search(fmt) or SQL_SHAPE.search(fmt):
            report(m.start(1), "sql-printf",
                   "%s() builds SQL text; write the SQL once with ? "
                   "parameters and bind" % m.group(1), end)

    for m in LOGCALL.finditer(code):
        end = call_span(code, m.end() - 1)
        seg = withs[m.end():end]
        for p in PHI.finditer(seg):
            before = seg[max(0, p.start() - 32):p.start()]
            if PHI_ALLOW_PREFIX.search(before):
                continue
            report(m.start(), "phi-log",
                   "'%s' in a log call: log ids, never patient data"
                   % p.group(1), end)
            break

    parts = path.split("/")
    if parts[0] in ("src", "include"):
        own = os.path.dirname(path)
        # The subsystem's top directory: src/X or include/rhis.
        top = "/".join(parts[:2]) if len(parts) > 2 else parts[0]
        for i, l in enumerate(withs.split("\n")):
            m = INCLUDE.match(l)
            if m is None:
                continue
            inc = m.group(1)
            if inc.startswith("rhis/"):
                if not os.path.isfile(os.path.join("include", inc)):
                    report(starts[i], "include",
                           '"%s" is not in include/rhis/' % inc)
                continue
            base = os.path.basename(inc)
            if base.endswith("_gen.h") or inc.startswith("generated/"):
                continue
            target = os.path.normpath(os.path.join(own, inc))
            inside = target == top or target.startswith(top + "/")
            if not inside or not os.path.isfile(target):
                report(starts[i], "include",
                       '"%s": include "rhis/..." or a header of %s/ only'
                       % (inc, own))


paths = []
for d in DIRS:
    for dp, dns, fns in os.walk(d):
        dns[:] = sorted(x for x in dns if not x.startswith("."))
        for fn in sorted(fns):
            if fn.endswith((".c", ".h")):
                paths.append(os.path.join(dp, fn))

for p in paths:
    check_file(p)

for path, line, rule, msg in sorted(findings):
    print("%s:%d: [%s] %s" % (path, line, rule, msg))
if findings:
    print("checksrc: %d finding(s) in %d file(s)"
          % (len(findings), len({f[0] for f in findings})), file=sys.stderr)
    sys.exit(1)
PY

#!/usr/bin/env python3
"""accuracy.py - detection accuracy on the demo region against its truth file.

Why: issue 5 asks, for every detector and for the fused signal, how many
injected outbreaks are found, how fast, and how many signals point at
nothing.  The detectors never see the truth file; only this script reads it.

Two sources of signals are scored the same way:
  1. the signals the nightly run stored (`rhis warn --date F --to T`): the
     table `signal`, by method (mpm / ears-c3 fallback, stp-scan, the
     channels' ears-c2, fixed, fusion), all of them together, the "RHIS
     output" (fixed + scan + fused: what the duty desk acts on, the rest
     being the screen and the evidence) and a CIDARS-like set (fixed +
     temporal card signals);
  2. each temporal detector run offline by `rhis detect` over the same
     count series the nightly run builds (county x disease from the live
     report cards by diagnosis day; township x channel x category from
     channel_count), every day of the period, so they compare on equal
     data: MPM, EARS C1/C2/C3, CUSUM, Farrington and Noufaily (weekly).

Scoring (docs/surveillance.md, "Accuracy on the demo region"):
  - an outbreak is detected when a signal for its disease, or for a channel
    its cases show in, or a fused signal of its syndrome, lies in its
    township (9-digit prefix) or its county (6 digits), on a day in
    [start, end + 7];
  - delay = day of the first such signal - start (days);
  - a false signal is a signal in the period matching no outbreak of the
    truth file; rate = false signals / weeks of the period / counties.

usage: accuracy.py --db FILE --truth FILE[,FILE] --rhis BIN --from D --to D
                   [--false-from D] [--data DIR] [--json OUT] [--label TEXT]
       accuracy.py --pool OUT1.json OUT2.json ...   (one table over seeds)
"""
import argparse
import csv
import datetime as dt
import json
import os
import sqlite3
import statistics
import subprocess
import sys

LIVE = "status NOT IN ('deleted', 'merged')"

# Which channel series an outbreak kind's cases show in (what the demo
# injects: src/demo/surveil.c one_outbreak) - evaluation knowledge only.
KIND_CHANNELS = {
    "influenza-school": {
        "school_absence:fever", "school_absence:respiratory",
        "fever_clinic:fever", "fever_clinic:respiratory",
        "pharmacy:antipyretic", "public_report:cluster", "lab_positive:*flu"},
    "hfmd-kindergarten": {
        "school_absence:rash", "school_absence:fever", "fever_clinic:rash",
        "public_report:cluster", "lab_positive:*ev", "lab_positive:*entero"},
    "norovirus-school": {
        "school_absence:gi", "intestinal_clinic:diarrhea",
        "pharmacy:antidiarrheal", "public_report:cluster",
        "lab_positive:*noro"},
    "dysentery-village": {
        "intestinal_clinic:diarrhea", "pharmacy:antidiarrheal",
        "public_report:cluster", "lab_positive:*shig"},
    "mumps-school": {"school_absence:other", "public_report:cluster"},
    "cholera-case": set(),
}
# The syndrome of a fused signal that speaks for the outbreak kind (the
# rule file's groups; src/surveil/warn.c syndrome_of lists mumps as
# respiratory).
KIND_SYNDROME = {
    "influenza-school": "respiratory",
    "hfmd-kindergarten": "rash",
    "norovirus-school": "gastrointestinal",
    "dysentery-village": "gastrointestinal",
    "mumps-school": "respiratory",
    "cholera-case": None,
}


def day(s):
    return dt.date.fromisoformat(s)


def channel_matches(kind, subject):
    for pat in KIND_CHANNELS.get(kind, ()):
        ch, cat = pat.split(":", 1)
        sch, _, scat = subject.partition(":")
        if sch != ch:
            continue
        if cat.startswith("*"):
            if cat[1:] in scat.lower():
                return True
        elif scat == cat:
            return True
    return False


def matches(sig, ob):
    """sig: dict(subject_type, subject, area, day); ob: truth row."""
    d = sig["day"]
    if d < ob["start"] or d > ob["end"] + dt.timedelta(days=7):
        return False
    area = sig["area"]
    if not (area == ob["county"] or
            (len(area) >= 9 and area[:9] == ob["township"])):
        return False
    st, subj = sig["subject_type"], sig["subject"]
    if st == "disease":
        return subj == ob["disease"]
    if st == "channel":
        return channel_matches(ob["kind"], subj)
    if st == "syndrome":
        return KIND_SYNDROME.get(ob["kind"]) == subj
    return False


def load_truth(paths):
    obs = []
    for p in paths:
        with open(p, newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                obs.append({
                    "id": r["id"], "county": r["county"],
                    "township": r["township"], "kind": r["kind"],
                    "disease": r["disease"], "start": day(r["start"]),
                    "end": day(r["end"]), "cases": int(r["cases"]),
                    "cards": int(r["cards"])})
    return obs


def score(signals, obs, d_from, d_to, counties, f_from, ev_from=None):
    """Sensitivity and delays over the outbreaks starting in [ev_from, d_to]
    (ev_from: the first day the detector could evaluate, default d_from);
    false-signal rate over [f_from, d_to]."""
    ev_from = max(d_from, ev_from or d_from)
    inper = [s for s in signals if d_from <= s["day"] <= d_to]
    evals = [o for o in obs if ev_from <= o["start"] <= d_to]
    det, delays, per_ob = 0, [], {}
    for o in evals:
        first = None
        for s in inper:
            if matches(s, o) and (first is None or s["day"] < first):
                first = s["day"]
        per_ob[o["id"]] = None if first is None else (first - o["start"]).days
        if first is not None:
            det += 1
            delays.append((first - o["start"]).days)
    false = sum(1 for s in inper if not any(matches(s, o) for o in obs))
    weeks = ((d_to - d_from).days + 1) / 7.0
    fper = [s for s in inper if s["day"] >= f_from]
    ffalse = sum(1 for s in fper if not any(matches(s, o) for o in obs))
    fweeks = ((d_to - f_from).days + 1) / 7.0
    return {
        "evaluable_from": str(ev_from),
        "false_sub": ffalse,
        "false_sub_per_county_week": ffalse / fweeks / max(1, counties),
        "outbreaks": len(evals), "detected": det,
        "sensitivity": det / len(evals) if evals else None,
        "median_delay": statistics.median(delays) if delays else None,
        "signals": len(inper), "false": false,
        "false_per_county_week": false / weeks / max(1, counties),
        "per_outbreak": per_ob,
    }


# ---- series and offline detectors ----

def catalogue(data_dir):
    cat = {}
    with open(os.path.join(data_dir, "notifiable-diseases.csv"),
              newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            # the latest row of a code wins (dated versions)
            cat[r["code"]] = {
                "fixed": r["fixed_threshold"] == "1",
                "pct": int(r["mpm_percentile"] or 0),
                "min": int(r["min_cases"] or 1)}
    return cat


def dense(rows, d0, d1):
    n = (d1 - d0).days + 1
    y = [0] * n
    for d, c in rows:
        k = (day(d) - d0).days
        if 0 <= k < n:
            y[k] += c
    return y


def run_detect(rhis, method, y, d0, args, agg="day", from_=None, to=None):
    """Runs `rhis detect` over y (daily counts from d0); returns the list of
    (date, alarm, count) rows it evaluated."""
    lines = ["date,count"]
    for i, v in enumerate(y):
        lines.append("%s,%d" % (d0 + dt.timedelta(days=i), v))
    cmd = [rhis, "detect", "--method", method, "--agg", agg] + args
    if from_ is not None:
        cmd += ["--from", str(from_), "--to", str(to)]
    p = subprocess.run(cmd, input="\n".join(lines) + "\n", text=True,
                       capture_output=True, check=False)
    if p.returncode != 0:
        raise SystemExit("rhis detect %s failed: %s" % (method, p.stderr))
    out = []
    rd = csv.reader(p.stdout.splitlines())
    hdr = next(rd)
    ia, ic = hdr.index("alarm"), hdr.index("count")
    for r in rd:
        if r[ia] == "NA":
            continue
        out.append((day(r[0]), int(r[ia]), float(r[ic])))
    return out


# The temporal detectors compared on the county x disease report-card
# series: name -> (method, options, aggregation).
CARD_METHODS = [
    ("MPM (catalogue percentile)", "mpm", None, "day"),
    ("EARS C1", "ears-c1", [], "day"),
    ("EARS C2", "ears-c2", [], "day"),
    ("EARS C3", "ears-c3", [], "day"),
    ("CUSUM (m: 28-day window)", "cusum",
     ["--m", "window", "--window", "28", "--guard", "7"], "day"),
    ("Farrington flexible, weekly (b=3)", "farrington", ["--b", "3"], "week"),
    ("Noufaily, weekly (b=3)", "noufaily", ["--b", "3"], "week"),
]
CHANNEL_METHODS = [
    ("EARS C1", "ears-c1", []),
    ("EARS C2", "ears-c2", []),
    ("EARS C3", "ears-c3", []),
    ("CUSUM (m: 28-day window)", "cusum",
     ["--m", "window", "--window", "28", "--guard", "7"]),
]


def offline(db, rhis, cat, d_from, d_to, channel_min):
    """Signals of each detector over the nightly run's series."""
    con = sqlite3.connect(db)
    first = con.execute("SELECT MIN(diagnosis_day) FROM surveil_card").fetchone()[0]
    d0 = day(first)
    res = {}
    # county x disease, report cards by diagnosis day
    pairs = con.execute(
        "SELECT DISTINCT county_code, disease_code FROM surveil_card WHERE "
        + LIVE).fetchall()
    for label, method, opts, agg in CARD_METHODS:
        sigs = []
        first_eval = None
        for county, dis in pairs:
            c = cat.get(dis)
            if c is None or c["fixed"] or c["pct"] <= 0:
                continue
            rows = con.execute(
                "SELECT diagnosis_day, COUNT(*) FROM surveil_card WHERE "
                + LIVE + " AND county_code = ? AND disease_code = ?"
                " GROUP BY diagnosis_day", (county, dis)).fetchall()
            y = dense(rows, d0, d_to)
            o = opts if opts is not None else [
                "--pct", str(c["pct"]), "--min-count", str(c["min"])]
            for d, alarm, cnt in run_detect(rhis, method, y, d0, o, agg,
                                            d_from, d_to):
                if first_eval is None or d < first_eval:
                    first_eval = d
                if alarm != 1:
                    continue
                if agg == "week":
                    d = d + dt.timedelta(days=6)  # known on the Sunday
                    if d > d_to:
                        continue
                else:
                    k = (d - d0).days
                    week = sum(y[max(0, k - 6):k + 1])
                    # the nightly run's gates: the disease's minimum
                    # count over 7 days, and a case on the day
                    if week < c["min"] or (method != "mpm" and cnt < 1):
                        continue
                sigs.append({"subject_type": "disease", "subject": dis,
                             "area": county, "day": d})
        res[("cards", label)] = (sigs, first_eval)
    # township x channel x category
    keys = con.execute(
        "SELECT DISTINCT township_code, channel, category FROM channel_count"
    ).fetchall()
    chan = {}
    for tw, ch, category in keys:
        rows = con.execute(
            "SELECT day, SUM(count) FROM channel_count WHERE township_code = ?"
            " AND channel = ? AND category = ? GROUP BY day",
            (tw, ch, category)).fetchall()
        chan[(tw, ch, category)] = dense(rows, d0, d_to)
    for label, method, opts in CHANNEL_METHODS:
        sigs = []
        for (tw, ch, category), y in chan.items():
            for d, alarm, cnt in run_detect(rhis, method, y, d0, opts, "day",
                                            d_from, d_to):
                if alarm == 1 and cnt >= channel_min:
                    sigs.append({"subject_type": "channel",
                                 "subject": "%s:%s" % (ch, category),
                                 "area": tw, "day": d})
        res[("channels", label)] = (sigs, None)
    con.close()
    return res


def nightly(db):
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT kind, method, subject_type, subject, area_code, day, severity,"
        " pushed FROM signal").fetchall()
    con.close()
    groups = {}
    for kind, method, st, subj, area, d, sev, pushed in rows:
        s = {"subject_type": st, "subject": subj, "area": area, "day": day(d),
             "severity": sev, "kind": kind, "method": method}
        if kind == "temporal" and st == "disease":
            g = "temporal, cards (%s)" % method
        elif kind == "temporal":
            g = "temporal, channels (%s)" % method
        elif kind == "spatial":
            g = "space-time scan (after a temporal alarm)"
        elif kind == "fixed":
            g = "fixed threshold"
        else:
            g = "fused (multi-point)"
        groups.setdefault(g, []).append(s)
        groups.setdefault("all signals of the nightly run", []).append(s)
        if kind in ("fixed", "spatial", "fused"):
            # the signals for the duty desk: the temporal card and channel
            # signals are the screen and the evidence behind these
            groups.setdefault(
                "RHIS output: fixed + scan + fused", []).append(s)
        if pushed:
            # what the run actually pushed (setting warn_push, default
            # confirmed: the RHIS output plus severe or persisting
            # temporal disease signals; docs/internals/signals.md)
            groups.setdefault("pushed (warn_push)", []).append(s)
        if kind == "fixed" or (kind == "temporal" and st == "disease"):
            groups.setdefault(
                "CIDARS-like: fixed + temporal cards", []).append(s)
    return groups


def fmt(v, pat):
    return "-" if v is None else pat % v


def pool(files):
    """One table over the JSON outputs of several seeds: outbreaks and
    delays pooled, false-signal rates averaged over the seeds."""
    runs = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            runs.append(json.load(fh))
    print("# pooled over %s" % ", ".join(r["label"] for r in runs))
    print("| source | detector | detected | sensitivity | median delay (d) |"
          " false/county/week | false/county/week from %s |" %
          runs[0].get("false_from", ""))
    print("|---|---|---|---|---|---|---|")
    keys = []
    for r in runs:
        for row in r["rows"]:
            k = (row["source"], row["detector"])
            if k not in keys:
                keys.append(k)
    for k in keys:
        det = n = 0
        delays, fr, frs = [], [], []
        for r in runs:
            for row in r["rows"]:
                if (row["source"], row["detector"]) != k:
                    continue
                det += row["detected"]
                n += row["outbreaks"]
                delays += [d for d in row["per_outbreak"].values()
                           if d is not None]
                fr.append(row["false_per_county_week"])
                frs.append(row["false_sub_per_county_week"])
        print("| %s | %s | %d/%d | %s | %s | %.2f | %.2f |" % (
            k[0], k[1], det, n, fmt(100.0 * det / n if n else None, "%.0f %%"),
            fmt(statistics.median(delays) if delays else None, "%g"),
            statistics.mean(fr), statistics.mean(frs)))
    return 0


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--pool":
        return pool(sys.argv[2:])
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--rhis", required=True)
    ap.add_argument("--from", dest="d_from", required=True)
    ap.add_argument("--to", dest="d_to", required=True)
    ap.add_argument("--data", default="data")
    ap.add_argument("--false-from", help="first day of the false-signal "
                    "period (default --from); the goal compares rates where "
                    "MPM can evaluate")
    ap.add_argument("--channel-min", type=int, default=3)
    ap.add_argument("--json")
    ap.add_argument("--label", default="")
    ap.add_argument("--no-offline", action="store_true")
    a = ap.parse_args()
    d_from, d_to = day(a.d_from), day(a.d_to)
    f_from = day(a.false_from) if a.false_from else d_from
    obs = load_truth(a.truth.split(","))
    counties = len({o["county"] for o in obs}) or 1
    out = {"label": a.label, "from": a.d_from, "to": a.d_to,
           "false_from": str(f_from),
           "outbreaks": [dict(o, start=str(o["start"]), end=str(o["end"]))
                         for o in obs if d_from <= o["start"] <= d_to],
           "rows": []}
    rows = []
    for g, sigs in sorted(nightly(a.db).items()):
        rows.append(("nightly run", g, score(sigs, obs, d_from, d_to,
                                             counties, f_from)))
    if not a.no_offline:
        for (src, label), (sigs, ev) in offline(
                a.db, a.rhis, catalogue(a.data), d_from, d_to,
                a.channel_min).items():
            rows.append(("offline, " + src, label,
                         score(sigs, obs, d_from, d_to, counties, f_from,
                               ev)))
    print("# %s %s..%s, %d outbreaks in the period" %
          (a.label, a.d_from, a.d_to, len(out["outbreaks"])))
    print("| source | detector | outbreaks from | detected | sensitivity |"
          " median delay (d) | signals | false | false/county/week |"
          " false/county/week from %s |" % f_from)
    print("|---|---|---|---|---|---|---|---|---|---|")
    for src, g, s in rows:
        print("| %s | %s | %s | %d/%d | %s | %s | %d | %d | %.2f | %.2f |" % (
            src, g, s["evaluable_from"], s["detected"], s["outbreaks"],
            fmt(s["sensitivity"] and 100 * s["sensitivity"], "%.0f %%"),
            fmt(s["median_delay"], "%g"), s["signals"], s["false"],
            s["false_per_county_week"], s["false_sub_per_county_week"]))
        out["rows"].append(dict(source=src, detector=g, **s))
    print("\nper outbreak: id kind township start end cases cards | "
          "first-signal delay per row")
    for o in out["outbreaks"]:
        ds = [r["per_outbreak"].get(o["id"]) for r in out["rows"]]
        print("%s %s %s %s %s %d %d | %s" % (
            o["id"], o["kind"], o["township"], o["start"], o["end"],
            o["cases"], o["cards"],
            " ".join("-" if d is None else str(d) for d in ds)))
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""demo_check.py RHIS DB AREA YEARS - every computable indicator of the
engine, recounted from the raw records with SQL and Python written from the
definitions in data/README.md (independently of src/plan/), compared with
`rhis plan value` for the area and each year, and for its townships.

Why: the live aggregates are only useful if they say what the definitions
say; this is the independent count the issue asks for.  Uses only the
standard library (sqlite3).  Prints "N passed, N failed"; exit 1 on a
failure.
"""
import datetime
import math
import sqlite3
import subprocess
import sys

DAY_MS = 86400000
CST_MS = 8 * 3600 * 1000
EPOCH = datetime.date(1970, 1, 1)


def day_of_ms(ms):
    return (ms + CST_MS) // DAY_MS


def date_of(day):
    return EPOCH + datetime.timedelta(days=day)


def day_of(d):
    return (d - EPOCH).days


def age_years(b, d):
    bd, dd = date_of(b), date_of(d)
    a = dd.year - bd.year
    if (dd.month, dd.day) < (bd.month, bd.day):
        a -= 1
    return a


def birthday(b, n):
    bd = date_of(b)
    y = bd.year + n
    try:
        return day_of(datetime.date(y, bd.month, bd.day))
    except ValueError:  # 29 Feb
        return day_of(datetime.date(y, 3, 1))


def mid(y):
    return day_of(datetime.date(y, 7, 1))


def year_range(y):
    return day_of(datetime.date(y, 1, 1)), day_of(datetime.date(y, 12, 31))


def icd_in(code, ranges):
    if not code:
        return False
    c = code[:3].upper()
    for r in ranges:
        if "-" in r:
            lo, hi = r.split("-")
            if len(c) == 3 and lo <= c <= hi:
                return True
        elif code.startswith(r):
            return True
    return False


class Records:
    """The raw rows of the residents of one area prefix."""

    def __init__(self, db, area):
        self.db = db
        like = area + "%"
        self.pat = {}
        for pid, a, sex, bms, dms in db.execute(
                "SELECT id, area_code, sex, birth_ms, deceased_ms FROM patient"
                " WHERE deleted = 0 AND merged_into IS NULL"
                " AND area_code LIKE ?", (like,)):
            self.pat[pid] = dict(
                area=a, sex=sex,
                birth=None if bms is None else day_of_ms(bms),
                death=None if dms is None or dms == 0 else day_of_ms(dms),
                undated=dms == 0)
        self.enc = {}
        for pid, typ, s, e, ia in db.execute(
                "SELECT e.patient_id, e.type_code, e.start_ms, e.end_ms,"
                " i.area_code FROM encounter e"
                " LEFT JOIN institution i ON i.id = e.institution_id"
                " WHERE e.deleted = 0 AND e.type_code IS NOT NULL"
                " AND e.status NOT IN ('cancelled', 'entered-in-error')"):
            if s is None:
                continue
            self.enc.setdefault(pid, []).append((typ, s, e, ia))
        self.cause = {}
        for pid, v in db.execute(
                "SELECT patient_id, value_text FROM observation"
                " WHERE code = '69453-9' AND deleted = 0"
                " AND status IN ('final', 'amended', 'corrected')"
                " ORDER BY patient_id, effective_ms, id"):
            self.cause[pid] = v  # the latest wins
        self.imm = {}
        for pid, v, dose, occ in db.execute(
                "SELECT patient_id, vaccine_code, dose_number, occurrence_ms"
                " FROM immunization WHERE deleted = 0"
                " AND status = 'completed' AND occurrence_ms IS NOT NULL"):
            self.imm.setdefault(pid, []).append((v, dose, day_of_ms(occ)))
        self.reg = {}
        for pid, code, ms in db.execute(
                "SELECT patient_id, code, COALESCE(recorded_ms, onset_ms)"
                " FROM condition WHERE deleted = 0"
                " AND category = 'problem-list-item'"
                " AND COALESCE(verification_status, '') NOT IN"
                " ('refuted', 'entered-in-error')"
                " AND COALESCE(recorded_ms, onset_ms) IS NOT NULL"):
            self.reg.setdefault(pid, []).append((code, day_of_ms(ms)))
        self.contracts = {}
        try:
            for pid, s, e in db.execute(
                    "SELECT patient_id, start_ms, end_ms FROM fd_contract"):
                self.contracts.setdefault(pid, []).append(
                    (day_of_ms(s), day_of_ms(e)))
        except sqlite3.OperationalError:
            pass

    def patients(self, area):
        for pid, p in self.pat.items():
            if p["area"].startswith(area):
                yield pid, p

    def alive_on(self, p, d):
        if p["birth"] is None or p["birth"] > d or p["undated"]:
            return False
        return p["death"] is None or p["death"] > d

    def pop(self, area, lo, hi, y, sex=None):
        q = ("SELECT COALESCE(SUM(population), 0) FROM population"
             " WHERE area_code LIKE ? AND year = ? AND age_band >= ?"
             " AND age_band < ?")
        args = [area + "%", y, lo, hi]
        if sex:
            q += " AND sex = ?"
            args.append(sex)
        return self.db.execute(q, args).fetchone()[0]

    # ---- element counts for area and year ----

    def births(self, area, y, sex=None):
        a, b = year_range(y)
        return sum(1 for _, p in self.patients(area)
                   if p["birth"] is not None and a <= p["birth"] <= b
                   and (sex is None or p["sex"] == sex))

    def deaths(self, area, y, lo, hi, causes=None, sex=None):
        a, b = year_range(y)
        n = 0
        for pid, p in self.patients(area):
            if p["death"] is None or p["birth"] is None:
                continue
            if not a <= p["death"] <= b or p["death"] < p["birth"]:
                continue
            if sex and p["sex"] != sex:
                continue
            if causes and not icd_in(self.cause.get(pid), causes):
                continue
            if lo <= age_years(p["birth"], p["death"]) < hi:
                n += 1
        return n

    def enc_days(self, pid, typ):
        return sorted(day_of_ms(s) for t, s, e, ia in self.enc.get(pid, [])
                      if t == typ)

    def nth(self, area, y, typ, n, lo=0, hi=200):
        a, b = year_range(y)
        k = 0
        for pid, p in self.patients(area):
            days = [d for d in self.enc_days(pid, typ) if a <= d <= b]
            if lo > 0 or hi < 200:
                if p["birth"] is None:
                    continue
                days = [d for d in days
                        if lo <= age_years(p["birth"], d) < hi]
            if len(days) >= n:
                k += 1
        return k

    def enc_count(self, area, y, typ):
        a, b = year_range(y)
        return sum(1 for pid, _ in self.patients(area)
                   for d in self.enc_days(pid, typ) if a <= d <= b)

    def deliveries_anc(self, area, y, n, window):
        a, b = year_range(y)
        k = 0
        for pid, _ in self.patients(area):
            anc = self.enc_days(pid, "anc")
            for d in self.enc_days(pid, "delivery"):
                if a <= d <= b and sum(
                        1 for x in anc if d - window <= x < d) >= n:
                    k += 1
        return k

    def residents(self, area, y, lo, hi):
        m = mid(y)
        return sum(1 for _, p in self.patients(area)
                   if self.alive_on(p, m)
                   and lo <= age_years(p["birth"], m) < hi)

    def turned(self, area, y, n, vaccine=None, dose=None):
        a, b = year_range(y)
        k = 0
        for pid, p in self.patients(area):
            if p["birth"] is None:
                continue
            bd = birthday(p["birth"], n)
            if not a <= bd <= b or not self.alive_on(p, bd):
                continue
            if vaccine and not any(v == vaccine and ds == dose and d < bd
                                   for v, ds, d in self.imm.get(pid, [])):
                continue
            k += 1
        return k

    def registered(self, area, y, causes):
        m = mid(y)
        k = 0
        for pid, p in self.patients(area):
            days = [d for c, d in self.reg.get(pid, []) if icd_in(c, causes)]
            if not days or min(days) > m:
                continue
            if p["undated"] or (p["death"] is not None and p["death"] <= m):
                continue
            k += 1
        return k

    def contracted(self, area, y):
        m = mid(y)
        k = 0
        for pid, p in self.patients(area):
            if p["undated"] or (p["death"] is not None and p["death"] <= m):
                continue
            if any(s <= m <= e for s, e in self.contracts.get(pid, [])):
                k += 1
        return k

    def stays(self, area, y):
        a, b = year_range(y)
        n = days = 0
        for lst in self.enc.values():
            for t, s, e, ia in lst:
                if t != "ipd" or e is None or e < s or not (ia or "").startswith(
                        area):
                    continue
                de = day_of_ms(e)
                if a <= de <= b:
                    n += 1
                    days += max(1, de - day_of_ms(s))
        return days, n

    def stock(self, area, what):
        if what == "beds":
            q = ("SELECT COALESCE(SUM(beds_open), 0) FROM institution"
                 " WHERE active = 1 AND area_code LIKE ?")
            return self.db.execute(q, (area + "%",)).fetchone()[0]
        q = ("SELECT COUNT(*) FROM practitioner_role r JOIN institution i"
             " ON i.id = r.institution_id WHERE r.active = 1"
             " AND i.area_code LIKE ? AND r.role IN (%s)"
             % ",".join("?" * len(what)))
        return self.db.execute(q, [area + "%"] + list(what)).fetchone()[0]


NCD = ["I00-I99", "C00-C97", "E10-E14", "J30-J98"]


def bands():
    return [0, 1] + list(range(5, 90, 5))


def band_of(age):
    if age < 1:
        return 0
    if age < 5:
        return 1
    return min(age // 5 * 5, 85)


def band_data(r, area, y, causes=None):
    a, b = year_range(y)
    deaths = {k: 0 for k in bands()}
    for pid, p in r.patients(area):
        if p["death"] is None or p["birth"] is None or not a <= p["death"] <= b:
            continue
        if p["death"] < p["birth"]:
            continue
        if causes and not icd_in(r.cause.get(pid), causes):
            continue
        deaths[band_of(age_years(p["birth"], p["death"]))] += 1
    pop = {k: 0 for k in bands()}
    for k in bands()[1:]:
        lo = 0 if k == 1 else k
        hi = 200 if k == 85 else lo + 5
        pop[k] = r.pop(area, lo, hi, y)
    return deaths, pop


def life_e0(deaths, pop, births):
    if births <= 0:
        return None
    l, T = 1.0, 0.0
    bs = bands()
    for i, k in enumerate(bs):
        n = 1 if k == 0 else 4 if k == 1 else 5
        expo = births if k == 0 else pop[1] - births if k == 1 else pop[k]
        if k == 85:
            if expo <= 0 or deaths[k] <= 0:
                return None
            return T + l / (deaths[k] / expo)
        if k == 0:
            q = deaths[0] / births
        elif expo <= 0:
            if deaths[k] > 0:
                return None
            q = 0.0
        else:
            M = deaths[k] / expo
            q = n * M / (1 + (n - n / 2) * M)
        q = min(q, 1.0)
        a0 = 0.1 if k == 0 else n / 2
        nxt = l * (1 - q)
        T += n * nxt + a0 * (l - nxt)
        l = nxt
    return None


def ncd_premature(deaths, pop):
    s = 1.0
    for k in range(30, 70, 5):
        if pop[k] <= 0:
            if deaths[k] > 0:
                return None
            continue
        M = deaths[k] / pop[k]
        s *= 1 - min(5 * M / (1 + 2.5 * M), 1.0)
    return 1 - s


def expected(r, code, area, y):
    """(numerator, denominator, value or None) recounted."""
    pop_all = r.pop(area, 0, 200, y)
    ratio = {
        "mmr": (lambda: r.deaths(area, y, 10, 60, ["O00-O99"], "F"),
                lambda: r.births(area, y), 100000),
        "imr": (lambda: r.deaths(area, y, 0, 1), lambda: r.births(area, y),
                1000),
        "u5mr": (lambda: r.deaths(area, y, 0, 5), lambda: r.births(area, y),
                 1000),
        "srb": (lambda: r.births(area, y, "M"), lambda: r.births(area, y, "F"),
                100),
        "mat_sys": (lambda: r.deliveries_anc(area, y, 5, 300),
                    lambda: r.enc_count(area, y, "delivery"), 100),
        "child3_sys": (lambda: r.nth(area, y, "child-check", 2, 0, 3),
                       lambda: r.residents(area, y, 0, 3), 100),
        "child6_mgmt": (lambda: r.nth(area, y, "child-check", 1, 0, 7),
                        lambda: r.residents(area, y, 0, 7), 100),
        "smi_mgmt": (lambda: r.nth(area, y, "smi-fu", 1),
                     lambda: r.registered(area, y, ["F20", "F22", "F25",
                                                    "F31"]), 100),
        "htn_std": (lambda: r.nth(area, y, "htn-fu", 4),
                    lambda: r.nth(area, y, "htn-fu", 1), 100),
        "t2d_std": (lambda: r.nth(area, y, "t2d-fu", 4),
                    lambda: r.nth(area, y, "t2d-fu", 1), 100),
        "elder_mgmt": (lambda: r.nth(area, y, "elder-check", 1, 65, 200),
                       lambda: r.pop(area, 65, 200, y), 100),
        "fd_contract": (lambda: r.contracted(area, y), lambda: pop_all, 100),
        "beds_per_1000": (lambda: r.stock(area, "beds"), lambda: pop_all,
                          1000),
        "physicians_per_1000": (
            lambda: r.stock(area, ("physician", "assistant_physician")),
            lambda: pop_all, 1000),
        "nurses_per_1000": (lambda: r.stock(area, ("nurse",)),
                            lambda: pop_all, 1000),
        "gps_per_10000": (lambda: r.stock(area, ("gp",)), lambda: pop_all,
                          10000),
        "pharmacists_per_1000": (lambda: r.stock(area, ("pharmacist",)),
                                 lambda: pop_all, 1000),
        "nurse_physician_ratio": (
            lambda: r.stock(area, ("nurse",)),
            lambda: r.stock(area, ("physician", "assistant_physician")), 1),
        "alos": (lambda: r.stays(area, y)[0], lambda: r.stays(area, y)[1], 1),
    }
    if code in ratio:
        fn, fd, f = ratio[code]
        n, d = fn(), fd()
        return n, d, (n / d * f if d > 0 else None)
    if code == "nip_mmr1":
        vals = []
        for (tw,) in r.db.execute(
                "SELECT code FROM area WHERE level = 4 AND code LIKE ?"
                " ORDER BY code", (area + "%",)):
            n, d = r.turned(tw, y, 2, "MMR", 1), r.turned(tw, y, 2)
            if d > 0:
                vals.append((n / d * 100, n, d))
        if not vals:
            n, d = r.turned(area, y, 2, "MMR", 1), r.turned(area, y, 2)
            return n, d, (n / d * 100 if d > 0 else None)
        v, n, d = min(vals, key=lambda t: t[0])  # ties: first by code
        return n, d, v
    if code == "e0":
        deaths, pop = band_data(r, area, y)
        births = r.births(area, y)
        v = life_e0(deaths, pop, births)
        return sum(deaths.values()), sum(pop.values()), v
    if code == "ncd_premature":
        deaths, pop = band_data(r, area, y, NCD)
        v = ncd_premature(deaths, pop)
        ks = range(30, 70, 5)
        return (sum(deaths[k] for k in ks), sum(pop[k] for k in ks),
                None if v is None else v * 100)
    raise KeyError(code)


CODES = ["e0", "mmr", "imr", "u5mr", "ncd_premature", "srb", "mat_sys",
         "child3_sys", "child6_mgmt", "nip_mmr1", "smi_mgmt", "htn_std",
         "t2d_std", "elder_mgmt", "fd_contract", "beds_per_1000",
         "physicians_per_1000", "nurses_per_1000", "gps_per_10000",
         "pharmacists_per_1000", "nurse_physician_ratio", "alos"]


def close(a, b):
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def main():
    if len(sys.argv) != 5:
        print(__doc__)
        return 2
    rhis, path, area, years = sys.argv[1:]
    y1, y2 = (int(x) for x in years.split("-"))
    db = sqlite3.connect(path)
    r = Records(db, area)
    areas = [area] + [c for (c,) in db.execute(
        "SELECT code FROM area WHERE parent_code = ? ORDER BY code LIMIT 3",
        (area,))]
    passed = failed = 0
    for a in areas:
        for y in range(y1, y2 + 1):
            out = subprocess.run(
                [rhis, "plan", "value", "--db", "sqlite:" + path, "--ind",
                 "all", "--area", a, "--period", str(y)],
                capture_output=True, text=True)
            if out.returncode != 0:
                print("FAIL - %s %d: rhis plan value: %s" %
                      (a, y, out.stderr.strip()))
                failed += 1
                continue
            got = {}
            for line in out.stdout.splitlines():
                f = line.split(",")
                got[f[0]] = f
            for code in CODES:
                f = got.get(code)
                if f is None:
                    print("FAIL - %s %s %d: no value" % (code, a, y))
                    failed += 1
                    continue
                n, d, v = float(f[3]), float(f[4]), float(f[5])
                nodata = "nodata" in f[6]
                en, ed, ev = expected(r, code, a, y)
                ok = close(n, en) and close(d, ed) and (
                    (ev is None and nodata) or
                    (ev is not None and not nodata and close(v, ev)))
                line = "%s %s %d: engine %g/%g=%s, recount %g/%g=%s" % (
                    code, a, y, n, d, "-" if nodata else "%.6g" % v, en, ed,
                    "-" if ev is None else "%.6g" % ev)
                if ok:
                    passed += 1
                    if a == area:
                        print("ok - " + line)
                else:
                    failed += 1
                    print("FAIL - " + line)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

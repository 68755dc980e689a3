#!/usr/bin/env python3
"""surveil_check.py DB TRUTH_DIR - checks of the demo's surveillance data.

Why: the demo region is the ground truth the detectors are measured
against (issue 5), so its surveillance data must hold what the truth file
says and look like a real county's: every injected outbreak's cards are in
the database at its place and time, the diseases keep their seasons, a
few per cent of cards are late, duplicates exist (most merged, some under
review), the fixed-threshold case raised its alert, school absences never
exceed enrolment.  The checks read the database with SQL, never the
generator's state.  DB is a SQLite file.
"""
import csv
import glob
import sqlite3
import sys

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
    print(("ok   " if ok else "FAIL ") + what)


db = sqlite3.connect(sys.argv[1])
q = lambda sql, *a: db.execute(sql, a).fetchall()
truth = []
for path in sorted(glob.glob(sys.argv[2] + "/outbreaks-*.csv")):
    with open(path, newline="", encoding="utf-8") as f:
        truth += list(csv.DictReader(f))
check(len(truth) >= 3, f"truth file lists outbreaks ({len(truth)})")

# every outbreak's cards are there, at its township and onset days
for o in truth:
    n = q("SELECT count(*) FROM surveil_card WHERE disease_code = ? AND"
          " township_code = ? AND onset_day BETWEEN ? AND ?",
          o["disease"], o["township"], o["start"], o["end"])[0][0]
    check(n >= int(o["cards"]),
          f"outbreak {o['id']} {o['kind']} {o['township']} {o['start']}: "
          f"{n} cards >= {o['cards']} in the truth")
    if o["village"]:
        n = q("SELECT count(*) FROM surveil_card WHERE disease_code = ? AND"
              " area_code = ? AND onset_day BETWEEN ? AND ?",
              o["disease"], o["village"], o["start"], o["end"])[0][0]
        check(n >= int(o["cards"]) * 0.9,
              f"outbreak {o['id']}: its cards are in village {o['village']}")

# seasons: influenza in winter, HFMD in late spring and summer
def season(disease, months):
    marks = ",".join("'%02d'" % m for m in months)
    return q("SELECT count(*) FROM surveil_card WHERE disease_code = ? AND"
             f" substr(onset_day, 6, 2) IN ({marks})", disease)[0][0]

flu_w, flu_s = season("influenza", [12, 1, 2]), season("influenza", [6, 7, 8])
check(flu_w > 3 * max(flu_s, 1),
      f"influenza peaks in winter ({flu_w} Dec-Feb vs {flu_s} Jun-Aug)")
hf_s, hf_w = season("hfmd", [5, 6, 7]), season("hfmd", [12, 1, 2])
check(hf_s > 3 * max(hf_w, 1),
      f"HFMD peaks in May-July ({hf_s} vs {hf_w} Dec-Feb)")

# ages: HFMD cases are young children
old = q("SELECT count(*) FROM surveil_card c JOIN patient p"
        " ON p.id = c.patient_id WHERE c.disease_code = 'hfmd' AND"
        " c.onset_ms - p.birth_ms > 6 * 365.25 * 86400000")[0][0]
check(old == 0, f"no HFMD case older than 6 ({old})")

# reporting: a few per cent late, the rest within the deadline
total, late = q("SELECT count(*), sum(late) FROM surveil_card")[0]
check(total > 100, f"cards written ({total})")
share = (late or 0) / max(total, 1)
check(0.01 <= share <= 0.08, f"late cards {share:.1%} within 1-8 %")
bad = q("SELECT count(*) FROM surveil_card WHERE late = 1 AND"
        " report_ms <= deadline_ms")[0][0]
check(bad == 0, "late flag agrees with the deadline")

# duplicates: most merged, some still open for review
merged = q("SELECT count(*) FROM surveil_card WHERE status = 'merged'")[0][0]
opened = q("SELECT count(*) FROM surveil_card_dup WHERE status = 'open'")[0][0]
check(merged > 0, f"duplicate cards merged ({merged})")
check(opened > 0 or merged > 20, f"duplicates left for review ({opened})")

# audit: most cards audited, within the deadline mostly
aud, aud_late = q("SELECT count(*), sum(audit_late) FROM surveil_card"
                  " WHERE status IN ('audited')")[0]
check(aud > 0.8 * total, f"cards audited ({aud} of {total})")
check(0 < (aud_late or 0) < 0.1 * aud, f"late audits ({aud_late})")

# the imported cholera case raised a fixed-threshold alert
alerts = q("SELECT count(*) FROM surveil_alert WHERE disease_code ="
           " 'cholera'")[0][0]
check(alerts >= 1, f"cholera fixed-threshold alert ({alerts})")

# channels
for ch in ["fever_clinic", "intestinal_clinic", "school_absence",
           "pharmacy", "lab_positive"]:
    n = q("SELECT count(*) FROM channel_count WHERE channel = ?", ch)[0][0]
    check(n > 0, f"channel {ch} has counts ({n})")
over = q("SELECT count(*) FROM channel_count WHERE channel ="
         " 'school_absence' AND (denominator <= 0 OR count > denominator)")
check(over[0][0] == 0, "school absences within enrolment")
weekend = q("SELECT count(*) FROM channel_count WHERE channel ="
            " 'school_absence' AND strftime('%w', day) IN ('0', '6')")[0][0]
check(weekend == 0, f"no school absences on weekends ({weekend})")
# outbreak channels: school outbreaks show in absenteeism of their township
for o in truth:
    if "school" not in o["kind"] and "kindergarten" not in o["kind"]:
        continue
    n = q("SELECT coalesce(sum(count), 0) FROM channel_count WHERE channel ="
          " 'school_absence' AND area_code = ? AND day BETWEEN ? AND"
          " date(?, '+10 days')", o["township"], o["start"], o["end"])[0][0]
    check(n >= int(o["cases"]) // 2,
          f"outbreak {o['id']}: absences in {o['township']} ({n})")

print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)

#!/usr/bin/env python3
"""gen-reference-data.py - writes the Yongji (永吉县, 220221) starter data.

Why: `make run` and the browser tests need a county that looks like the
plan's: its real division tree (data/divisions.csv), its institutions by
tier and its population by township, sex and 5-year age band.  The
institution list follows the Yongji plan's 2020 baseline (county hospital,
TCM hospital, MCH, CDC, one health centre per township, one clinic per
village, private hospitals) and its bed ratio (6.19 per 1000); names are
the real county institutions where the plan names them and generated in
the real naming style otherwise.  Deterministic: the same script gives the
same files.  Sources and approximations: data/README.md.

usage: tools/gen-reference-data.py [DATA_DIR]
"""
import csv
import random
import sys
from pathlib import Path

COUNTY = "220221"
COUNTY_NAME = "永吉县"
TOTAL_POPULATION = 350_000  # issue 4 county scale; see data/README.md
YEAR = 2020

# Approximate seats of the township-level units (WGS84), see data/README.md.
SEATS = {
    "220221100": (43.673, 126.497),  # 口前镇 (county seat)
    "220221101": (43.498, 126.713),  # 双河镇
    "220221102": (43.416, 126.434),  # 西阳镇
    "220221103": (43.433, 126.605),  # 北大湖镇
    "220221104": (43.566, 126.276),  # 一拉溪镇
    "220221171": (43.842, 126.241),  # 万昌镇
    "220221172": (43.705, 126.468),  # 永吉经济开发区特殊乡镇
    "220221200": (43.542, 126.879),  # 金家乡
    "220221201": (43.312, 126.512),  # 黄榆乡
}

# Jilin province 2020 census age structure (share per 5-year band, 0..85+),
# smoothed; sums to 1.
AGE_SHARES = [0.036, 0.040, 0.041, 0.040, 0.046, 0.055, 0.068, 0.069,
              0.072, 0.084, 0.092, 0.089, 0.076, 0.068, 0.052, 0.032,
              0.021, 0.019]
MALE_SHARE = 0.501


def jitter(rng, lat, lon, r=0.04):
    return (round(lat + rng.uniform(-r, r), 5),
            round(lon + rng.uniform(-r, r), 5))


def main():
    data = Path(sys.argv[1] if len(sys.argv) > 1 else "data")
    rng = random.Random(20201101)
    areas = {}
    with open(data / "divisions.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["code"].startswith(COUNTY):
                areas[row["code"]] = row
    towns = sorted(c for c, r in areas.items() if r["level"] == "4")
    villages = sorted(c for c, r in areas.items() if r["level"] == "5")
    seat = "220221100"

    inst = []

    def add(code, name, tier, grade, own, area, beds, beds_open, lat, lon):
        inst.append([code, name, tier, grade, own, area, beds, beds_open,
                     lat, lon])

    lat, lon = SEATS[seat]
    add("H220221001", "永吉县人民医院", "county_hospital", "2A", "public",
        seat, 600, 640, *jitter(rng, lat, lon, 0.01))
    add("H220221002", "永吉县中医院", "tcm_hospital", "2A", "public", seat,
        300, 280, *jitter(rng, lat, lon, 0.01))
    add("H220221003", "永吉县妇幼保健计划生育服务中心", "mch", "2B", "public",
        seat, 60, 55, *jitter(rng, lat, lon, 0.01))
    add("P220221001", "永吉县疾病预防控制中心", "cdc", "", "public", seat, 0, 0,
        *jitter(rng, lat, lon, 0.01))
    add("E220221001", "永吉县急救站", "ems_station", "", "public", seat, 0, 0,
        *jitter(rng, lat, lon, 0.01))
    private = ["仁爱医院", "康宁医院", "博爱医院", "中西医结合医院", "骨科医院",
               "眼科医院", "康复医院", "口腔医院", "妇产医院", "精神康复医院"]
    for i, name in enumerate(private):
        town = towns[i % len(towns)] if i % 3 == 2 else seat
        lat, lon = SEATS[town]
        beds = rng.choice([40, 60, 80, 99, 120])
        add("H220221%03d" % (101 + i), "永吉" + name, "county_hospital",
            "1A" if beds < 100 else "2B", "private", town, beds,
            beds - rng.randint(0, 10), *jitter(rng, lat, lon, 0.02))
    for i, t in enumerate(towns):
        name = areas[t]["name"]
        lat, lon = SEATS[t]
        if t == seat:
            add("C%s" % t, "永吉县%s社区卫生服务中心" % name, "community_hc",
                "", "public", t, 30, 30, *jitter(rng, lat, lon, 0.01))
        elif name.endswith(("镇", "乡")) and "特殊" not in name:
            beds = rng.choice([30, 40, 50, 60])
            add("T%s" % t, "永吉县%s卫生院" % name, "township_hc", "1A",
                "public", t, beds, beds - rng.randint(0, 8),
                *jitter(rng, lat, lon, 0.005))
        else:
            add("C%s" % t, "%s社区卫生服务中心" % name.replace("特殊乡镇", ""),
                "community_hc", "", "public", t, 20, 20,
                *jitter(rng, lat, lon, 0.01))
    for v in villages:
        name = areas[v]["name"]
        lat, lon = SEATS[v[:9]]
        if "社区" in name:
            add("S%s" % v, "%s卫生服务站" % name.replace("居委会", "社区"),
                "community_station", "", "public", v, 0, 0,
                *jitter(rng, lat, lon, 0.03))
        else:
            add("V%s" % v, "%s卫生室" % name.replace("村委会", "村"),
                "village_clinic", "", "public", v, 0, 0,
                *jitter(rng, lat, lon, 0.06))
    with open(data / ("institutions-%s.csv" % COUNTY), "w", newline="",
              encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["code", "name", "tier", "grade", "ownership", "area_code",
                    "beds_approved", "beds_open", "lat", "lon"])
        w.writerows(inst)

    # Population by township, weighted by its number of villages (the
    # county seat and the development zone are denser).
    weight = {}
    for t in towns:
        n = sum(1 for v in villages if v.startswith(t))
        weight[t] = n * (2.5 if t == seat else 1.0) + 2
    wsum = sum(weight.values())
    rows = []
    for t in towns:
        town_pop = TOTAL_POPULATION * weight[t] / wsum
        for band, share in enumerate(AGE_SHARES):
            # women outlive men: the male share falls in the old bands
            male = MALE_SHARE - (0.025 * (band - 12) if band > 12 else 0.0)
            for sex, s in (("M", male), ("F", 1 - male)):
                n = round(town_pop * share * s)
                rows.append([t, YEAR, sex, band * 5, n, "derived: see README"])
    with open(data / ("population-%s.csv" % COUNTY), "w", newline="",
              encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["area_code", "year", "sex", "age_band", "population",
                    "source"])
        w.writerows(rows)
    beds = sum(r[6] for r in inst)
    pop = sum(r[4] for r in rows)
    print("institutions: %d (beds %d, %.2f per 1000); population %d"
          % (len(inst), beds, beds * 1000 / pop, pop))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""bench/gen_patients.py N [SEED] - N synthetic 永吉县 residents as FHIR
Patient NDJSON on stdout, for the Patient benchmarks (bench/patient.sh).

Deterministic for a seed.  Each resident has a valid resident ID number
(GB 11643: a Jilin county code, the birth date, a sequence whose parity
agrees with the sex, the MOD 11-2 check character), a name drawn from
common surnames weighted by frequency, a mobile phone, and a village or
community code of 永吉县 from data/divisions.csv.  The rhis demo generator
(issue 4) is the realistic population; this is load for benchmarks.
Writes the ID numbers to the file named by $IDS_OUT when set (one per
line), so the benchmark can search for residents that exist.
"""
import json
import os
import random
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Share of the population, per cent (2020 household-register statistics,
# Ministry of Public Security, rounded).
SURNAMES = [("王", 7.1), ("李", 7.0), ("张", 6.7), ("刘", 5.4), ("陈", 4.5),
            ("杨", 3.1), ("黄", 2.2), ("赵", 2.0), ("吴", 1.9), ("周", 1.8),
            ("徐", 1.6), ("孙", 1.5), ("马", 1.4), ("朱", 1.3), ("胡", 1.2),
            ("郭", 1.1), ("何", 1.1), ("林", 1.0), ("高", 1.0), ("罗", 0.9),
            ("郑", 0.8), ("梁", 0.8), ("谢", 0.7), ("宋", 0.7), ("唐", 0.7),
            ("于", 0.6), ("董", 0.6), ("冯", 0.6), ("曹", 0.5), ("韩", 0.5)]
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰建华"
         "文辉志强红梅海燕丹宇鑫浩然子涵欣怡梓轩雨桐")
COUNTIES = ["220221", "220202", "220281", "220881", "220102"]


def check_char(first17):
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    s = sum(int(c) * w[i] for i, c in enumerate(first17))
    return "10X98765432"[s % 11]


def villages():
    out = []
    with open(os.path.join(ROOT, "data", "divisions.csv"), encoding="utf-8") as f:
        for line in f:
            code = line.split(",", 1)[0]
            if code.startswith("220221") and len(code) == 12:
                out.append(code)
    return out


def main():
    n = int(sys.argv[1])
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    vil = villages()
    names = [s for s, _ in SURNAMES]
    shares = [w for _, w in SURNAMES]
    ids_out = open(os.environ["IDS_OUT"], "w") if os.environ.get("IDS_OUT") else None
    seen = set()
    out = sys.stdout
    i = 0
    while i < n:
        female = rng.random() < 0.5
        y = rng.randint(1930, 2023)
        m = rng.randint(1, 12)
        d = rng.randint(1, 28)
        seq = rng.randrange(0, 1000)
        if (seq % 2 == 1) == female:
            seq = (seq + 1) % 1000
        body = "%s%04d%02d%02d%03d" % (rng.choice(COUNTIES), y, m, d, seq)
        idn = body + check_char(body)
        if idn in seen:
            continue
        seen.add(idn)
        fam = rng.choices(names, shares)[0]
        given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        res = {
            "resourceType": "Patient",
            "identifier": [{"system": "urn:oid:2.16.156.10011.1.3", "value": idn}],
            "name": [{"text": fam + given, "family": fam, "given": [given]}],
            "gender": "female" if female else "male",
            "birthDate": "%04d-%02d-%02d" % (y, m, d),
            "telecom": [{"system": "phone", "value": "1%d%09d" % (
                rng.choice((3, 5, 8)), rng.randrange(10 ** 9))}],
            "address": [{"extension": [{
                "url": "https://rhis.cn/fhir/StructureDefinition/address-division",
                "valueCode": rng.choice(vil)}]}],
        }
        out.write(json.dumps(res, ensure_ascii=False, separators=(",", ":")))
        out.write("\n")
        if ids_out:
            ids_out.write(idn + "\n")
        i += 1
    if ids_out:
        ids_out.close()


if __name__ == "__main__":
    main()

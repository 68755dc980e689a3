#!/usr/bin/env python3
"""plan_targets.py - builds data/plan-targets.csv from the shared plan table.

Why: the five plans' targets (../shared/data/plan_indicators.csv, 282 rows,
verbatim from the seeds) are the input of plan monitoring, but the binary
needs them normalised: the plan id (jurisdiction code : horizon year), the
area code, numeric baseline and target, one operator vocabulary, how a
change target is meant (absolute, relative %, per year), the indicator code
of data/indicators.csv each row measures, and whether lower is better.  The
baselines the plans state only in running text (indicator-definitions.md
section 4) are added as rows of kind `baseline` with their verbatim quote,
so `rhis plan lint` can compare a table baseline with the text.

Run from the project root:  python3 tools/plan_targets.py [SHARED_DIR]
It checks that every text quote is a verbatim substring of its seed and
that every row maps to exactly one indicator code; it rewrites
data/plan-targets.csv and prints what it did.  The data is never "fixed":
contradictions stay as they are in the plans, for the lint to report.
"""
import csv
import os
import re
import sys

SHARED = sys.argv[1] if len(sys.argv) > 1 else "../shared"
OUT = "data/plan-targets.csv"

PLANS = {  # jurisdiction -> (area code, plan id)
    "长春市": ("2201", "2201:2025"),
    "永吉县": ("220221", "220221:2025"),
    "洮南市": ("220881", "220881:2025"),
    "蛟河市": ("220281", "220281:2030"),
    "振安区": ("210604", "210604:2025"),
}

# Names the plans use that data/indicators.csv does not list as name_zh or
# alias: substring rules, first match wins (checked in order).
RULES = [
    ("健康预期寿命", "a2"),
    ("预期寿命", "e0"),
    ("孕产妇死亡率", "mmr"),
    ("5岁以下儿童死亡率", "u5mr"),
    ("婴儿死亡率", "imr"),
    ("过早死亡率", "ncd_premature"),
    ("法定传染病发病率", "a7"),
    ("艾滋病", "a8"),
    ("癌症5年生存率", "a9"),
    ("出生人口性别比", "srb"),
    ("近视率", "b1"),
    ("龋", "b2"),
    ("健康素养", "c1"),
    ("吸烟率", "c2"),
    ("体育锻炼人数", "c3"),
    ("国民体质测定标准", "c4"),
    ("食盐", "c5"),
    ("体育", "c6"),  # student sport items; 体育场地 etc. caught in FIRST
    ("体质健康", "c6"),
    ("孕产妇系统管理率", "mat_sys"),
    ("3岁以下儿童", "child3_sys"),
    ("0-6岁儿童健康管理率", "child6_mgmt"),
    ("产前筛查", "d4"),
    ("新生儿遗传代谢", "d5"),
    ("孕前优生", "d6"),
    ("两癌", "d7"),
    ("科学育儿指导", "d8"),
    ("托位", "d9"),
    ("免疫规划疫苗接种率", "nip_mmr1"),
    ("服药率", "e3"),
    ("严重精神", "smi_mgmt"),
    ("高血压", "htn_std"),
    ("糖尿病", "t2d_std"),
    ("职业病危害因素监测", "e6"),
    ("65岁及以上老年人中医药", "f2"),
    ("65岁及以上", "elder_mgmt"),
    ("家庭医生签约", "fd_contract"),
    ("老年医学科", "f4"),
    ("老年友善", "f5"),
    ("医养结合", "f6"),
    ("安宁疗护", "f6"),
    ("医护型养老床位", "f6"),
    ("医护比", "nurse_physician_ratio"),
    ("床人", "g10"),
    ("精神科", "g11"),
    ("儿科", "g12"),
    ("每千名儿童", "g12"),
    ("乡村医生中执业", "g13"),
    ("中医类别执业（助理）医师数", "g7"),
    ("中医类别执业（助理）医师总数", "g7"),
    ("专业公共卫生机构人员", "g8"),
    ("全科医生数", "gps_per_10000"),
    ("全科医生总数", "gps_per_10000"),
    ("药师（士）数", "pharmacists_per_1000"),
    ("药师（士）总数", "pharmacists_per_1000"),
    ("注册护士数", "nurses_per_1000"),
    ("注册护士总数", "nurses_per_1000"),
    ("执业（助理）医师数", "physicians_per_1000"),
    ("执业（助理）医师总数", "physicians_per_1000"),
    ("中医临床科室", "h1"),
    ("中医馆", "h2"),
    ("中医药服务", "h2"),
    ("中医类别医师占", "h2"),
    ("感染性疾病科", "h3"),
    ("发热诊室", "h4"),
    ("标准化基础设施", "h5"),
    ("健康促进医院", "h6"),
    ("康复科", "h7"),
    ("乡镇卫生院达到服务能力", "h8"),
    ("优质服务基层行", "h8"),
    ("建强", "h8"),
    ("平均住院日", "alos"),
    ("院内感染", "h10"),
    ("抗菌药物", "h11"),
    ("床位使用率", "h12"),
    ("县域内就诊率", "h13"),
    ("急救", "h14"),
    ("救援到达时间", "h14"),
    ("服务圈", "h14"),
    ("中医重点专科", "h15"),
    ("个人卫生支出", "i1"),
    ("基金支付比例", "i2"),
    ("空气质量", "j1"),
    ("地表水", "j2"),
    ("重污染", "j3"),
    ("声环境", "j3"),
    ("耕地", "j3"),
    ("污染地块", "j3"),
    ("废水", "j3"),
    ("化肥", "j3"),
    ("机动车环检", "j3"),
    ("饮用水", "j3"),
    ("体育场地面积", "j4"),
    ("体育设施", "j4"),
    ("社会体育指导员", "j4"),
    ("医药", "j5"),
    ("中药材", "j5"),
    ("健康社区", "j6"),
    ("健康学校", "j6"),
    ("健康单位", "j6"),
    ("健康家庭", "j6"),
    ("卫生乡镇", "j6"),
    ("卫生城市", "j6"),
    ("道路交通", "j7"),
    ("残疾人康复", "j8"),
    ("床位", "g2"),
    ("病床", "g2"),
    ("公共卫生医师", "g14"),
    ("编制", "g14"),
    ("人员", "g14"),
    ("医师数", "g14"),
    ("医生数", "g14"),
    ("岗位", "g14"),
    ("骨干人才", "g14"),
    ("卫生监督员", "g14"),
    ("保健人员", "g14"),
]
# Rules tried before the name/alias match (the group rows whose names
# contain a computed indicator's name).
FIRST = [
    ("标准化基础设施", "h5"),
    ("残疾人康复", "j8"),
    ("社会体育指导员", "j4"),
    ("每千常住人口执业医师数", "physicians_per_1000"),
    ("体育场地", "j4"),
    ("体育设施", "j4"),
    ("体育运动建筑面积", "j4"),
    ("其中：市级公立医院", "g2"),
    ("市办公立医院及基层", "g2"),
    ("公立医院", "g2"),
    ("公立中医医院", "g2"),
    ("非公立医院", "g2"),
    ("二级以上公立医院及基层", "g2"),
    ("重症救治床位", "g2"),
    ("建档立卡贫困人口家庭医生", "fd_contract"),
    ("乡镇卫生院提供规范儿童基本医疗服务的全科医生数", "g14"),
    ("乡镇卫生院专业从事儿童保健的医生数", "g14"),
    ("乡镇卫生院公共卫生医师数", "g14"),
    ("二级以上医疗机构公共卫生医师数", "g14"),
    ("职业健康检查医疗机构", "g14"),
    ("职业病监测评估", "g14"),
    ("疾病预防控制机构", "g14"),
    ("基层医疗卫生机构公共卫生人员", "g14"),
    ("卫生院专兼职心理", "g14"),
    ("健康教育", "g14"),
    ("妇幼保健机构保健人员", "g14"),
]

# Lower is better for these codes; "up" otherwise; "" where neither
# (ratios whose target is a composition, e.g. the physician:nurse ratio).
DOWN = {"mmr", "imr", "u5mr", "ncd_premature", "a7", "a8", "b1", "b2", "c2",
        "c5", "alos", "h10", "h11", "i1", "j7"}
NEUTRAL = {"nurse_physician_ratio", "g10", "g2", "g14", "h12", "srb", "i2",
           "j3", "h14"}

# Indicators that are one measure each (a value entered for one applies
# to every plan row of that code).  Group codes get one measure per name.
GROUPS = {"g2", "g14", "h2", "h8", "h14", "c3", "c6", "f6", "g11", "g12",
          "j3", "j4", "j5", "j6", "i2"}

# A row counting people, beds or facilities is its own measure unless its
# indicator is a count (the rate rows of the same code are another).
COUNT_UNITS = {"人", "张", "所", "个", "名", "项", "万人"}
COUNT_CODES = set()

# Baselines stated only in running text (indicator-definitions.md sec. 4),
# as (jurisdiction, indicator_zh, unit, year, value, quote).  The quote is
# checked against the seed.
TEXT_BASELINES = [
    ("永吉县", "婴儿死亡率", "‰", 2020, "3.13",
     "孕产妇死亡率、婴儿死亡率、5岁以下儿童死亡率分别由12.48/10万、4.19‰、"
     "5.09‰下降到0/10万、3.13‰、3.91‰"),
    ("永吉县", "5岁以下儿童死亡率", "‰", 2020, "3.91",
     "孕产妇死亡率、婴儿死亡率、5岁以下儿童死亡率分别由12.48/10万、4.19‰、"
     "5.09‰下降到0/10万、3.13‰、3.91‰"),
    ("永吉县", "孕产妇死亡率", "1/10万", 2020, "0",
     "孕产妇死亡率、婴儿死亡率、5岁以下儿童死亡率分别由12.48/10万、4.19‰、"
     "5.09‰下降到0/10万、3.13‰、3.91‰"),
    ("永吉县", "人均预期寿命", "岁", 2020, "79岁以上",
     "2020年，永吉县居民人均预期寿命达到79岁以上"),
    ("永吉县", "每千常住人口医疗卫生机构床位数", "张/千人", 2020, "6.19",
     "每千常住人口医疗卫生机构床位数6.19张"),
    ("永吉县", "每千常住人口执业医师数", "人/千人", 2020, "2.86",
     "每千常住人口执业医师数2.86人"),
    ("永吉县", "每千常住人口注册护士数", "人/千人", 2020, "3.23",
     "每千常住人口注册护士数3.23人"),
    ("永吉县", "每万人口全科医生数", "人/万人", 2020, "4.67",
     "每万人口全科医生数4.67人"),
    ("永吉县", "家庭医生签约率", "%", 2020, "37",
     "常住人口签约率37%"),
    ("洮南市", "每千人口执业（助理）医师数", "人/千人", 2020, "2.57",
     "每千常住人口执业（助理）医师数从1.47人增长到2.57人"),
    ("洮南市", "每千人口注册护士数", "人/千人", 2020, "3.97",
     "每千常住人口注册护士数从2.69增长到3.97人"),
    ("洮南市", "每万人口全科医生数", "人/万人", 2020, "4.13",
     "每万人口全科医生数从2.65人增长到4.13人"),
    ("蛟河市", "人均预期寿命", "岁", 2016, "77.93",
     "2016年，全市人均预期寿命达到77.93岁"),
    ("蛟河市", "婴儿死亡率", "‰", 2016, "4.17", "婴儿死亡率下降到4.17‰"),
    ("蛟河市", "5岁以下儿童死亡率", "‰", 2016, "4.88",
     "5岁以下儿童死亡率下降到4.88‰"),
    ("振安区", "婴儿死亡率", "‰", 2020, "1.53", "婴儿死亡率1.53‰"),
    ("振安区", "5岁以下儿童死亡率", "‰", 2020, "4.60",
     "5岁以下儿童死亡率4.60‰"),
    ("振安区", "人均预期寿命", "岁", 2020, "80.19",
     "全市城乡居民人均期望寿命80.19岁"),
    ("振安区", "65岁及以上老年人城乡社区规范健康管理服务率", "%", 2020, "80",
     "65岁以上老年人的健康管理率80%"),
    ("振安区", "高血压患者基层规范管理服务率", "%", 2020, "75.7",
     "高血压患者规范管理率75.7%"),
    ("振安区", "2型糖尿病患者基层规范管理服务率", "%", 2020, "74.74",
     "2型糖尿病患者规范管理率74.74%"),
    ("振安区", "孕产妇系统管理率", "%", 2020, "90.03",
     "孕产妇系统管理率90.03%"),
    ("振安区", "3岁以下儿童健康管理率", "%", 2020, "91.89",
     "3岁以下儿童系统管理率91.89%"),
    ("振安区", "孕前优生健康检查目标人群覆盖率", "%", 2020, "85.44",
     "孕前优生健康检查目标人群覆盖率达85.44%"),
    ("长春市", "每千常住人口医疗卫生机构床位数", "张/千人", 2020, "7.16",
     "每千常住人口医疗卫生机构床位数和医院床位数分别达到7.16张、6.50张"),
    ("长春市", "每万人口全科医生数", "人/万人", 2020, "2.08",
     "每万常住人口全科医生数2.08人"),
    ("长春市", "65岁及以上老年人城乡社区规范健康管理服务率", "%", 2020,
     "62.8", "65岁以上老年人健康管理率达62.8%"),
]

NUM = re.compile(r"(\d+(?:\.\d+)?)")


def number(s):
    """The number a baseline cell states ('79岁以上' -> 79, '1:1.55' ->
    1.55, '——' -> ''), as text."""
    s = s.strip()
    if s in ("", "——", "—"):
        return ""
    if ":" in s or "：" in s:
        s = re.split("[:：]", s)[-1]
    m = NUM.search(s)
    return m.group(1) if m else ""


def change_kind(op, value, unit):
    if op not in ("increase_by", "decrease_by"):
        return ""
    if "每年" in value:
        return "per_year"
    if "相对" in unit or ("%" in value and "个百分点" not in value):
        return "relative"
    return "absolute"


def load_defs():
    names = {}
    with open("data/indicators.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            names[r["name_zh"]] = r["code"]
            for a in r["aliases"].split(";"):
                if a:
                    names[a] = r["code"]
    return names


def code_of(name, names):
    for key, code in FIRST:
        if key in name:
            return code
    if name in names:
        return names[name]
    for key, code in RULES:
        if key in name:
            return code
    return None


def main():
    names = load_defs()
    seeds = {}
    src = os.path.join(SHARED, "data", "plan_indicators.csv")
    with open(src, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        if r["seed_file"] not in seeds:
            with open(os.path.join(SHARED, "seeds", r["seed_file"]),
                      encoding="utf-8") as sf:
                seeds[r["seed_file"]] = sf.read().replace("\n", "")
    seed_of = {r["jurisdiction"]: r["seed_file"] for r in rows}
    out = []
    unmapped = set()
    for r in rows:
        out.append(dict(r, kind="target" if r["target_op"] else "baseline"))
    for (jur, name, unit, year, value, quote) in TEXT_BASELINES:
        seed = seed_of[jur]
        if quote not in seeds[seed]:
            sys.exit("quote not in %s: %s" % (seed, quote))
        out.append({"seed_file": seed, "jurisdiction": jur, "domain": "",
                    "indicator_zh": name, "indicator_en": "", "unit": unit,
                    "baseline_year": str(year), "baseline_value": value,
                    "target_year": "", "target_value": "", "target_op": "",
                    "target_number": "", "attribute": "", "source": "text",
                    "quote": quote, "kind": "baseline"})
    counters = {}
    fields = ["plan", "row", "area_code", "jurisdiction", "kind", "domain",
              "indicator_zh", "indicator_en", "indicator", "measure",
              "direction", "unit", "baseline_year", "baseline_value",
              "baseline_number", "target_year", "target_value", "op",
              "target_number", "change", "attribute", "source", "quote",
              "seed"]
    with open(OUT, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        for r in out:
            area, plan = PLANS[r["jurisdiction"]]
            code = code_of(r["indicator_zh"], names)
            if code is None:
                unmapped.add(r["indicator_zh"])
                continue
            counters[plan] = counters.get(plan, 0) + 1
            measure = code
            if code in GROUPS or (r["unit"] in COUNT_UNITS and
                                  code not in COUNT_CODES):
                measure = code + ":" + r["indicator_zh"]
            direction = ("down" if code in DOWN else
                         "" if code in NEUTRAL else "up")
            op = r["target_op"] or "none"
            w.writerow({
                "plan": plan, "row": counters[plan], "area_code": area,
                "jurisdiction": r["jurisdiction"], "kind": r["kind"],
                "domain": r["domain"], "indicator_zh": r["indicator_zh"],
                "indicator_en": r["indicator_en"], "indicator": code,
                "measure": measure, "direction": direction,
                "unit": r["unit"], "baseline_year": r["baseline_year"],
                "baseline_value": r["baseline_value"],
                "baseline_number": number(r["baseline_value"]),
                "target_year": r["target_year"],
                "target_value": r["target_value"], "op": op,
                "target_number": r["target_number"],
                "change": change_kind(op, r["target_value"], r["unit"]),
                "attribute": r["attribute"], "source": r["source"],
                "quote": r["quote"], "seed": r["seed_file"]})
    if unmapped:
        sys.exit("unmapped indicator names:\n  " + "\n  ".join(
            sorted(unmapped)))
    print("%s: %d rows (%s)" % (OUT, sum(counters.values()), ", ".join(
        "%s %d" % kv for kv in sorted(counters.items()))))


main()

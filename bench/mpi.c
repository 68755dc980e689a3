/*
 * mpi.c - benchmark of the master patient index (library level, no HTTP):
 * match throughput against N synthetic residents, and precision / recall
 * of probabilistic matching against deterministic ID-only matching on
 * queries carrying the errors registries make.
 *
 * Why: the issue asks for >= 50k $match per second against 1 M residents
 * (and the scaling to 10 M), precision >= 0.995 and recall >= 0.99.  Real
 * registries cannot be shipped, so residents are generated: deterministic
 * (seeded PRNG), households in real Jilin villages from data/divisions.csv,
 * surnames by their national frequency, common given-name characters,
 * valid ID numbers (county of the village or another Jilin county), shared
 * household phones and twins (the hard cases for precision).
 *
 * usage: bench_mpi [-n RESIDENTS] [-q QUERIES] [-t THREADS] [-s SEED]
 *                  [--divisions data/divisions.csv] [--sweep]
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rhis/alloc.h"
#include "rhis/idnum.h"
#include "rhis/mpi.h"
#include "rhis/pinyin.h"

/* ---- PRNG (splitmix64) ---- */

static uint64_t
next_u64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static double
unif(uint64_t *s)
{
    return (double)(next_u64(s) >> 11) * 0x1.0p-53;
}

static int
below(uint64_t *s, int n)
{
    return (int)(unif(s) * n);
}

/* ---- name material ---- */

/* Surnames with their share of the population (per mille, 2020 census
 * order of the most common hundred). */
static const struct {
    const char *s;
    double pm;
} surnames[] = {
    {"王", 71.2}, {"李", 70.0}, {"张", 67.4}, {"刘", 53.8}, {"陈", 45.3},
    {"杨", 30.8}, {"黄", 22.3}, {"赵", 21.5}, {"吴", 20.5}, {"周", 19.9},
    {"徐", 15.7}, {"孙", 15.2}, {"马", 14.2}, {"朱", 13.1}, {"胡", 13.1},
    {"郭", 11.4}, {"何", 11.1}, {"林", 10.5}, {"高", 10.3}, {"罗", 10.0},
    {"郑", 8.2},  {"梁", 8.0},  {"谢", 7.3},  {"宋", 6.3},  {"唐", 6.2},
    {"许", 5.9},  {"韩", 5.7},  {"冯", 5.6},  {"邓", 5.5},  {"曹", 5.2},
    {"彭", 5.1},  {"曾", 5.0},  {"肖", 4.9},  {"田", 4.7},  {"董", 4.4},
    {"袁", 4.1},  {"潘", 4.0},  {"于", 4.0},  {"蒋", 3.9},  {"蔡", 3.8},
    {"余", 3.7},  {"杜", 3.6},  {"叶", 3.5},  {"程", 3.4},  {"苏", 3.2},
    {"魏", 3.2},  {"吕", 3.1},  {"丁", 3.1},  {"任", 3.0},  {"沈", 2.8},
    {"姚", 2.8},  {"卢", 2.7},  {"姜", 2.7},  {"崔", 2.6},  {"钟", 2.6},
    {"谭", 2.5},  {"陆", 2.4},  {"汪", 2.4},  {"范", 2.4},  {"金", 2.4},
    {"石", 2.3},  {"廖", 2.3},  {"贾", 2.2},  {"夏", 2.2},  {"韦", 2.2},
    {"付", 2.1},  {"方", 2.1},  {"白", 2.0},  {"邹", 2.0},  {"孟", 1.9},
    {"熊", 1.9},  {"秦", 1.8},  {"邱", 1.8},  {"江", 1.8},  {"尹", 1.7},
    {"薛", 1.7},  {"闫", 1.6},  {"段", 1.6},  {"雷", 1.6},  {"侯", 1.5},
    {"龙", 1.5},  {"史", 1.5},  {"陶", 1.4},  {"黎", 1.4},  {"贺", 1.4},
    {"顾", 1.3},  {"毛", 1.3},  {"郝", 1.3},  {"龚", 1.3},  {"邵", 1.2},
    {"万", 1.2},  {"钱", 1.2},  {"严", 1.1},  {"覃", 1.1},  {"武", 1.1},
    {"戴", 1.1},  {"莫", 1.0},  {"孔", 1.0},  {"向", 1.0},  {"汤", 1.0},
};
#define NSURNAMES ((int)(sizeof(surnames) / sizeof(surnames[0])))

/* Given-name characters, most common first (drawn with weight
 * 1/(rank + 8)). */
static const char male_chars[] =
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林欢阳建亮成佳"
    "峰志东海国文博晨子轩浩然宏伟新春立永兵春雷德福贵生庆祥瑞鸿金万德学民"
    "振中天一嘉泽睿航锐晓光彬";
static const char female_chars[] =
    "丽敏静秀娟英华慧巧美娜燕玲桂芳霞红艳萍雪琳晶婷颖倩洁欣丹佳玉梅莉兰凤"
    "洋璐瑶琪梦涵婉怡悦晓月春雨思佩薇彤蕾萱丽娇琴云青秋菊荣爱淑珍妍宁";

/* Common characters: the candidates a pinyin input method offers first
 * (homophone errors are picked from these). */
static const char common_chars[] =
    "的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下"
    "得可你年生自会那后能对着事其里所去行过家十用发天如然作方成者多日都三小"
    "军二无同么经法当起与好看学进种将还分此心前面又定见只主没公从已向给老利"
    "明实问重路第头本品力手张李王刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑"
    "谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪"
    "田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹"
    "黎易常武乔贺赖龚文章彰樟璋漳立丽莉力利历理里礼李励例栗俐黎梨厉荔隶"
    "伟为维卫威微薇玮纬尉魏危巍唯惟韦违围位未味慰蔚渭畏胃谓喂"
    "静敬境镜竞劲径晶精京经惊景井警颈净靖菁睛鲸荆兢"
    "华花化画话滑划桦骅哗"
    "明鸣名铭茗冥命"
    "军均君俊骏峻钧菌竣郡"
    "杰洁结节捷姐界介借届戒接街阶揭皆"
    "涛滔桃陶逃淘套讨掏"
    "强墙枪抢蔷羌腔"
    "磊雷蕾擂泪累类垒"
    "燕艳研岩言颜严延盐演眼烟宴炎焰雁彦妍砚"
    "娟捐卷倦绢鹃"
    "芳方放房访防仿妨坊"
    "红洪宏鸿虹弘泓哄"
    "霞峡侠狭暇遐瑕虾下夏吓"
    "玲凌铃灵岭零令领龄菱伶翎"
    "婷亭庭停挺廷霆"
    "颖英影应营迎赢映盈莹萤鹰樱"
    "敏民闽悯皿"
    "秀修休袖绣锈羞"
    "梅美每妹枚眉媒煤霉玫"
    "兰蓝篮栏拦览懒澜岚"
    "平评瓶凭苹萍屏坪"
    "辉灰挥恢徽晖"
    "鹏朋蓬棚彭膨捧碰"
    "飞非菲啡妃肥匪费废"
    "鑫新心欣辛薪馨信芯昕"
    "波博伯泊勃柏搏"
    "宇雨语羽玉遇育狱域"
    "浩号好毫豪昊皓耗"
    "凯开楷慨恺铠"
    "健建见件剑键荐舰"
    "帆凡烦繁反范饭犯泛"
    "旭序叙续绪蓄须需虚许"
    "宁凝柠狞拧"
    "阳杨洋扬羊仰养样"
    "亮量两辆良梁凉粮谅"
    "成城程诚承乘呈惩橙"
    "佳家加嘉夹甲假价架驾"
    "峰锋风丰封疯枫蜂逢"
    "志智治制质致至置知直"
    "东冬董懂动洞栋"
    "海还孩害亥骇"
    "博波伯"
    "晨陈尘沉臣辰衬"
    "子字自紫姿资"
    "轩宣萱喧玄悬选"
    "然燃冉染"
    "春纯唇醇淳"
    "瑞锐睿蕊"
    "慧会汇惠绘辉回"
    "巧桥乔侨翘"
    "娜那纳拿哪钠"
    "桂贵归规鬼轨"
    "琳林淋临邻霖麟"
    "倩欠歉茜"
    "丹单担胆旦淡"
    "莉丽"
    "凤奉冯逢缝"
    "璐路露鹿录陆"
    "瑶遥摇谣姚尧"
    "琪其奇期齐旗骑棋淇"
    "梦孟"
    "涵含寒韩函"
    "悦月越岳阅跃"
    "思斯丝私司"
    "佩配培陪沛"
    "彤同童铜桐"
    "荣容融蓉溶"
    "爱艾碍"
    "淑书舒叔殊"
    "珍真贞针侦"
    "云运允韵匀"
    "青清情晴轻庆"
    "秋球求丘"
    "菊局居"
    "琴勤芹秦"
    "娇交骄焦胶"
    "萍苹";

/* UTF-8 characters of a string as code points / byte offsets. */
typedef struct charlist {
    const char *ch[600];
    uint32_t cp[600];
    int n;
} charlist;

static uint32_t
decode(const char *s, int *len)
{
    const unsigned char *u = (const unsigned char *)s;
    if (u[0] < 0x80) {
        *len = 1;
        return u[0];
    }
    if (u[0] < 0xE0) {
        *len = 2;
        return (uint32_t)(u[0] & 0x1F) << 6 | (u[1] & 0x3F);
    }
    *len = 3;
    return (uint32_t)(u[0] & 0x0F) << 12 | (uint32_t)(u[1] & 0x3F) << 6 |
           (u[2] & 0x3F);
}

static void
split_chars(const char *s, charlist *out)
{
    out->n = 0;
    for (int i = 0; s[i] != '\0' && out->n < 600;) {
        int k;
        uint32_t cp = decode(s + i, &k);
        if (cp >= 0x4E00) {
            out->ch[out->n] = s + i;
            out->cp[out->n++] = cp;
        }
        i += k;
    }
}

static charlist male, female, common;

/* Homophone groups over the common characters. */
typedef struct hgroup {
    const char *syl;
    int idx[32];
    int n;
} hgroup;
static hgroup groups[600];
static int ngroups;
static int group_of[600];

static void
build_homophones(void)
{
    for (int i = 0; i < common.n; i++) {
        const char *syl;
        group_of[i] = -1;
        if (rhis_pinyin_syllable(common.cp[i], &syl) == 0)
            continue;
        int g;
        for (g = 0; g < ngroups; g++)
            if (strcmp(groups[g].syl, syl) == 0)
                break;
        if (g == ngroups) {
            groups[ngroups].syl = syl;
            groups[ngroups++].n = 0;
        }
        int dup = 0;
        for (int j = 0; j < groups[g].n; j++)
            dup |= common.cp[groups[g].idx[j]] == common.cp[i];
        if (!dup && groups[g].n < 32)
            groups[g].idx[groups[g].n++] = i;
        group_of[i] = g;
    }
}

/* A different common character with the same reading as the character
 * at s (UTF-8); NULL if there is none. */
static const char *
homophone_of(const char *s, uint64_t *rng, int *clen)
{
    int k;
    uint32_t cp = decode(s, &k);
    const char *syl;
    if (rhis_pinyin_syllable(cp, &syl) == 0)
        return NULL;
    for (int g = 0; g < ngroups; g++) {
        if (strcmp(groups[g].syl, syl) != 0)
            continue;
        if (groups[g].n < 2)
            return NULL;
        for (int tries = 0; tries < 8; tries++) {
            int i = groups[g].idx[below(rng, groups[g].n)];
            if (common.cp[i] != cp) {
                decode(common.ch[i], clen);
                return common.ch[i];
            }
        }
        return NULL;
    }
    return NULL;
}

/* ---- places ---- */

typedef struct places {
    char (*village)[13];
    int nvillage;
    char (*county)[7];
    int ncounty;
} places;

static int
load_places(const char *path, places *p)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    char line[512];
    int cap = 16384, ccap = 256;
    p->village = rhis_xmalloc(sizeof(*p->village) * (size_t)cap);
    p->county = rhis_xmalloc(sizeof(*p->county) * (size_t)ccap);
    p->nvillage = p->ncounty = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "22", 2) != 0)
            continue;
        size_t n = strcspn(line, ",");
        if (n == 12 && p->nvillage < cap) {
            memcpy(p->village[p->nvillage], line, 12);
            p->village[p->nvillage++][12] = '\0';
        } else if (n == 6 && p->ncounty < ccap) {
            memcpy(p->county[p->ncounty], line, 6);
            p->county[p->ncounty++][6] = '\0';
        }
    }
    fclose(f);
    return p->nvillage > 0 && p->ncounty > 0 ? 0 : -1;
}

/* ---- persons ---- */

typedef struct person {
    char name[40];
    char idn[19];
    char sex;
    char birth[16];
    char phone[16];
    char area[13];
} person;

static double surname_cdf[NSURNAMES];

static const char *
pick_surname(uint64_t *rng)
{
    double x = unif(rng) * surname_cdf[NSURNAMES - 1];
    for (int i = 0; i < NSURNAMES; i++)
        if (x < surname_cdf[i])
            return surnames[i].s;
    return surnames[0].s;
}

static const char *
pick_char(const charlist *l, uint64_t *rng, int *len)
{
    /* weight 1/(rank + 8): harmonic-like skew towards common characters */
    double total = log((l->n + 8.0) / 8.0);
    double x = unif(rng) * total;
    int r = (int)(8.0 * exp(x) - 8.0);
    if (r >= l->n)
        r = l->n - 1;
    decode(l->ch[r], len);
    return l->ch[r];
}

static void
make_given(char *out, size_t cap, char sex, uint64_t *rng, const char *first)
{
    const charlist *l = sex == 'M' ? &male : &female;
    int k1, k2;
    const char *c1 = first != NULL ? first : pick_char(l, rng, &k1);
    if (first != NULL)
        decode(first, &k1);
    int two = first != NULL || unif(rng) < 0.65;
    size_t o = strlen(out);
    if (o + 7 >= cap)
        return;
    memcpy(out + o, c1, (size_t)k1);
    o += (size_t)k1;
    if (two) {
        const char *c2 = pick_char(l, rng, &k2);
        memcpy(out + o, c2, (size_t)k2);
        o += (size_t)k2;
    }
    out[o] = '\0';
}

/* "YYYY-MM-DD" (the modulus tells the compiler the widths). */
static void
put_date(char *out, size_t cap, int y, int m, int d)
{
    snprintf(out, cap, "%04u-%02u-%02u", (unsigned)y % 10000u,
             (unsigned)m % 100u, (unsigned)d % 100u);
}

static int
days_in(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

/* ID numbers issued so far (17-digit prefixes; 0 = empty): a number is
 * issued once, as in life. */
static uint64_t *issued;
static size_t issued_cap;

static int
issue(uint64_t v)
{
    size_t mask = issued_cap - 1;
    size_t i = (size_t)(v * UINT64_C(0x9e3779b97f4a7c15) >> 20) & mask;
    while (issued[i] != 0) {
        if (issued[i] == v)
            return 0;
        i = (i + 1) & mask;
    }
    issued[i] = v;
    return 1;
}

static void
make_id(person *p, const char *county, int y, int m, int d, uint64_t *rng)
{
    char first17[18];
    for (int tries = 0; tries < 64; tries++) {
        int seq = below(rng, 500) * 2 + (p->sex == 'M' ? 1 : 0);
        snprintf(first17, sizeof(first17), "%.6s%04u%02u%02u%03u", county,
                 (unsigned)y % 10000u, (unsigned)m % 100u, (unsigned)d % 100u,
                 (unsigned)seq % 1000u);
        if (issue(strtoull(first17, NULL, 10)))
            break;
    }
    snprintf(p->idn, sizeof(p->idn), "%s%c", first17,
             rhis_idnum_check_char(first17));
}

static void
make_phone(char *out, size_t cap, uint64_t *rng)
{
    static const char *const pre[] = {
        "130", "131", "132", "135", "136", "137", "138", "139", "150",
        "151", "152", "155", "156", "157", "158", "159", "176", "177",
        "180", "181", "182", "183", "186", "187", "188", "189", "199"};
    int k = below(rng, 27);
    snprintf(out, cap, "%s%08d", pre[k], below(rng, 100000000));
}

typedef struct gen {
    uint64_t rng;
    const places *pl;
    int64_t year_now;
} gen;

/* Fills person p born in year y (month/day random) in village v. */
static void
fill_person(gen *g,
            person *p,
            const char *surname,
            char sex,
            int y,
            const char *village,
            const char *given_first)
{
    memset(p, 0, sizeof(*p));
    p->sex = sex;
    snprintf(p->name, sizeof(p->name), "%s", surname);
    make_given(p->name, sizeof(p->name), sex, &g->rng, given_first);
    int m = 1 + below(&g->rng, 12), d = 1 + below(&g->rng, days_in(y, m));
    put_date(p->birth, sizeof(p->birth), y, m, d);
    snprintf(p->area, sizeof(p->area), "%s", village);
    /* ID numbers: most adults, fewer children */
    int age = (int)g->year_now - y;
    if (unif(&g->rng) < (age >= 16 ? 0.97 : 0.75)) {
        const char *county =
            unif(&g->rng) < 0.9 ? village
                                : g->pl->county[below(&g->rng, g->pl->ncounty)];
        make_id(p, county, y, m, d, &g->rng);
    }
}

/* Appends one household (1..5 people) to out; returns how many. */
static int
household(gen *g, person *out, int room)
{
    const places *pl = g->pl;
    const char *village = pl->village[below(&g->rng, pl->nvillage)];
    const char *surname = pick_surname(&g->rng);
    double x = unif(&g->rng);
    int size = x < 0.25 ? 1 : x < 0.55 ? 2 : x < 0.80 ? 3 : x < 0.95 ? 4 : 5;
    if (size > room)
        size = room;
    int head_age = 25 + below(&g->rng, 60);
    char head_sex = unif(&g->rng) < 0.5 ? 'M' : 'F';
    int yh = (int)g->year_now - head_age;
    fill_person(g, &out[0], surname, head_sex, yh, village, NULL);
    char phone[16] = "";
    if (unif(&g->rng) < 0.92)
        make_phone(phone, sizeof(phone), &g->rng);
    snprintf(out[0].phone, sizeof(out[0].phone), "%s", phone);
    int n = 1;
    if (size >= 2) {
        int ys = yh + below(&g->rng, 11) - 5;
        fill_person(g, &out[n], pick_surname(&g->rng),
                    head_sex == 'M' ? 'F' : 'M', ys, village, NULL);
        if (unif(&g->rng) < 0.4)
            snprintf(out[n].phone, sizeof(out[n].phone), "%s", phone);
        else if (unif(&g->rng) < 0.85)
            make_phone(out[n].phone, sizeof(out[n].phone), &g->rng);
        n++;
    }
    int ychild = yh + 22 + below(&g->rng, 14);
    while (n < size) {
        char sex = unif(&g->rng) < 0.51 ? 'M' : 'F';
        int yc = ychild + below(&g->rng, 8);
        if (yc > g->year_now)
            yc = (int)g->year_now;
        fill_person(g, &out[n], surname, sex, yc, village, NULL);
        /* elderly parents and children often give one family phone */
        if (unif(&g->rng) < 0.5)
            snprintf(out[n].phone, sizeof(out[n].phone), "%s", phone);
        else if (unif(&g->rng) < 0.8)
            make_phone(out[n].phone, sizeof(out[n].phone), &g->rng);
        n++;
        /* twins: same birth date, names sharing the first character */
        if (n < size && unif(&g->rng) < 0.03) {
            person *a = &out[n - 1], *b = &out[n];
            char tsex = unif(&g->rng) < 0.5 ? a->sex : 'M' + 'F' - a->sex;
            int sl = (int)strlen(surname), k;
            const char *first = a->name + sl;
            decode(first, &k);
            char firstc[8];
            memcpy(firstc, first, (size_t)k);
            firstc[k] = '\0';
            if ((int)strlen(a->name) == sl + k) /* one-character name */
                fill_person(g, b, surname, tsex, yc, village, NULL);
            else
                fill_person(g, b, surname, tsex, yc, village, firstc);
            memcpy(b->birth, a->birth, sizeof(b->birth));
            if (b->idn[0] != '\0' && a->idn[0] != '\0') {
                int y, m, d;
                char county[7];
                memcpy(county, a->idn, 6);
                county[6] = '\0';
                sscanf(a->birth, "%d-%d-%d", &y, &m, &d);
                make_id(b, county, y, m, d, &g->rng);
            }
            memcpy(b->phone, a->phone, sizeof(b->phone));
            n++;
        }
    }
    return n;
}

/* ---- typical registration errors ---- */

typedef struct errs {
    int homophone, swap, digit, noid, badid, phone, nophone, moved, nobirth;
} errs;

/* Replaces one character of the given name (rarely the surname) with a
 * homophone; 1 if done. */
static int
homophone_error(person *p, uint64_t *rng)
{
    int offs[12], n = 0;
    for (int i = 0; p->name[i] != '\0' && n < 12;) {
        int k;
        decode(p->name + i, &k);
        offs[n++] = i;
        i += k;
    }
    for (int tries = 0; tries < 6; tries++) {
        int pos = n > 1 && unif(rng) < 0.9 ? 1 + below(rng, n - 1) : 0;
        int clen;
        const char *h = homophone_of(p->name + offs[pos], rng, &clen);
        if (h == NULL)
            continue;
        int k;
        decode(p->name + offs[pos], &k);
        char out[40];
        int o = offs[pos];
        memcpy(out, p->name, (size_t)o);
        memcpy(out + o, h, (size_t)clen);
        snprintf(out + o + clen, sizeof(out) - (size_t)(o + clen), "%s",
                 p->name + offs[pos] + k);
        snprintf(p->name, sizeof(p->name), "%s", out);
        return 1;
    }
    return 0;
}

static void
apply_errors(person *q, const places *pl, uint64_t *rng, errs *e)
{
    if (unif(rng) < 0.20 && homophone_error(q, rng))
        e->homophone++;
    int y, m, d;
    sscanf(q->birth, "%d-%d-%d", &y, &m, &d);
    double x = unif(rng);
    if (x < 0.08 && d <= 12 && d != m) {
        put_date(q->birth, sizeof(q->birth), y, d, m);
        e->swap++;
    } else if (x < 0.11) {
        for (int tries = 0; tries < 20; tries++) {
            char b[9];
            snprintf(b, sizeof(b), "%04d%02d%02d", y, m, d);
            int pos = below(rng, 8);
            char c = (char)('0' + below(rng, 10));
            if (b[pos] == c)
                continue;
            b[pos] = c;
            int ny = (b[0] - '0') * 1000 + (b[1] - '0') * 100 +
                     (b[2] - '0') * 10 + (b[3] - '0');
            int nm = (b[4] - '0') * 10 + (b[5] - '0');
            int nd = (b[6] - '0') * 10 + (b[7] - '0');
            if (ny < 1900 || ny > 2025 || nm < 1 || nm > 12 || nd < 1 ||
                nd > days_in(ny, nm))
                continue;
            put_date(q->birth, sizeof(q->birth), ny, nm, nd);
            e->digit++;
            break;
        }
    } else if (x < 0.13) {
        q->birth[0] = '\0';
        e->nobirth++;
    }
    if (q->idn[0] != '\0') {
        x = unif(rng);
        if (x < 0.60) {
            q->idn[0] = '\0';
            e->noid++;
        } else if (x < 0.62) {
            int pos = below(rng, 17);
            q->idn[pos] = (char)('0' + (q->idn[pos] - '0' + 1) % 10);
            e->badid++;
        }
    }
    x = unif(rng);
    if (x < 0.15) {
        make_phone(q->phone, sizeof(q->phone), rng);
        e->phone++;
    } else if (x < 0.30 && q->phone[0] != '\0') {
        q->phone[0] = '\0';
        e->nophone++;
    }
    x = unif(rng);
    if (x < 0.07) {
        /* moved: mostly within the township */
        for (int tries = 0; tries < 50; tries++) {
            const char *v = pl->village[below(rng, pl->nvillage)];
            if (x < 0.05 && strncmp(v, q->area, 9) != 0)
                continue;
            if (strcmp(v, q->area) != 0) {
                snprintf(q->area, sizeof(q->area), "%s", v);
                e->moved++;
                break;
            }
        }
    }
}

static rhis_mpi_person
as_mpi(const person *p, int64_t id)
{
    rhis_mpi_person m = {
        .id = id,
        .name = p->name,
        .id_number = p->idn,
        .sex = p->sex,
        .birth_date = p->birth,
        .phone = p->phone,
        .area_code = p->area,
    };
    return m;
}

/* ---- measuring ---- */

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct query {
    person p;
    int64_t truth; /* resident id, 0 for a person not in the index */
} query;

/* The best candidate of each query, for evaluating any threshold. */
typedef struct outcome {
    int64_t top;     /* best non-certainly-not candidate, 0 if none */
    double total;    /* its total weight */
    int certain;     /* it is an ID match */
    int64_t id_only; /* the deterministic ID-only answer, 0 if none */
    int truth_seen;  /* the true resident was among the candidates */
} outcome;

typedef struct work {
    rhis_mpi_index *ix;
    const query *q;
    int from, to;
    double link, review;
    int64_t found;
    double cpu;   /* CPU seconds of the thread */
    char pad[64]; /* no false sharing between the threads' counters */
} work;

static double
cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *
run_matches(void *arg)
{
    work *w = arg;
    rhis_mpi_candidate c[10];
    double c0 = cpu_s();
    int64_t found = 0;
    for (int i = w->from; i < w->to; i++) {
        rhis_mpi_person p = as_mpi(&w->q[i].p, 0);
        found += rhis_mpi_index_match(w->ix, &p, w->link, w->review, c, 10);
    }
    w->found = found;
    w->cpu = cpu_s() - c0;
    return NULL;
}

/* Wall-clock matches per second with `threads` threads; *per_cpu gets
 * matches per CPU-second (what one core does, whatever else the machine
 * is running). */
static double
throughput(
    rhis_mpi_index *ix, const query *q, int nq, int threads, double *per_cpu)
{
    pthread_t th[16];
    work w[16];
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].ix = ix;
        w[i].q = q;
        w[i].from = nq * i / threads;
        w[i].to = nq * (i + 1) / threads;
        w[i].link = RHIS_MPI_LINK_THRESHOLD;
        w[i].review = RHIS_MPI_REVIEW_THRESHOLD;
        pthread_create(&th[i], NULL, run_matches, &w[i]);
    }
    double cpu = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        cpu += w[i].cpu;
    }
    double wall = now_s() - t0;
    *per_cpu = nq / cpu;
    return nq / wall;
}

static void
evaluate(rhis_mpi_index *ix, const query *q, int nq, outcome *out)
{
    rhis_mpi_candidate c[8];
    for (int i = 0; i < nq; i++) {
        rhis_mpi_person p = as_mpi(&q[i].p, 0);
        int n = rhis_mpi_index_match(ix, &p, 1e9, -1e9, c, 8);
        outcome *o = &out[i];
        memset(o, 0, sizeof(*o));
        for (int k = 0; k < n; k++) {
            if (c[k].id == q[i].truth)
                o->truth_seen = 1;
            if (c[k].grade == RHIS_MPI_CERTAIN && o->id_only == 0)
                o->id_only = c[k].id;
        }
        if (n > 0 && c[0].grade != RHIS_MPI_CERTAINLY_NOT) {
            o->top = c[0].id;
            o->total = c[0].cmp.total;
            o->certain = c[0].grade == RHIS_MPI_CERTAIN;
        }
    }
}

typedef struct metrics {
    double precision, recall, review_share, review_recall;
    int64_t tp, fp, fn, links, review;
} metrics;

static metrics
score(const query *q, const outcome *o, int nq, double link, double review)
{
    metrics m = {0};
    int64_t residents = 0, rev_true = 0;
    for (int i = 0; i < nq; i++) {
        if (q[i].truth != 0)
            residents++;
        int linked = o[i].top != 0 && (o[i].certain || o[i].total >= link);
        int rev = !linked && o[i].top != 0 && o[i].total >= review;
        if (linked) {
            m.links++;
            if (o[i].top == q[i].truth)
                m.tp++;
            else
                m.fp++;
        } else if (rev) {
            m.review++;
            if (o[i].top == q[i].truth)
                rev_true++;
        }
    }
    m.fn = residents - m.tp;
    m.precision = m.links > 0 ? (double)m.tp / (double)m.links : 1.0;
    m.recall = residents > 0 ? (double)m.tp / (double)residents : 0;
    m.review_share = (double)m.review / nq;
    m.review_recall =
        residents > 0 ? (double)(m.tp + rev_true) / (double)residents : 0;
    return m;
}

static metrics
score_id_only(const query *q, const outcome *o, int nq)
{
    metrics m = {0};
    int64_t residents = 0;
    for (int i = 0; i < nq; i++) {
        if (q[i].truth != 0)
            residents++;
        if (o[i].id_only != 0) {
            m.links++;
            if (o[i].id_only == q[i].truth)
                m.tp++;
            else
                m.fp++;
        }
    }
    m.fn = residents - m.tp;
    m.precision = m.links > 0 ? (double)m.tp / (double)m.links : 1.0;
    m.recall = residents > 0 ? (double)m.tp / (double)residents : 0;
    return m;
}

static void
print_metrics(const char *label, const metrics *m)
{
    printf("%-34s precision %.4f  recall %.4f  (links %lld, wrong %lld, "
           "missed %lld)  review %.2f%%  recall incl. review %.4f\n",
           label, m->precision, m->recall, (long long)m->links,
           (long long)m->fp, (long long)m->fn, m->review_share * 100,
           m->review_recall);
}

static void
print_weights(const rhis_mpi_weights *w)
{
    for (int f = 0; f < RHIS_MPI_NFIELDS; f++) {
        printf("  %-10s", rhis_mpi_field_name((rhis_mpi_field)f));
        for (int l = 0; l < rhis_mpi_nlevels((rhis_mpi_field)f); l++)
            printf(" %s m=%.4f u=%.5f w=%+.2f;",
                   rhis_mpi_level_name((rhis_mpi_field)f, l), w->m[f][l],
                   w->u[f][l], w->w[f][l]);
        printf("\n");
    }
}

int
main(int argc, char **argv)
{
    int64_t n = 1000000;
    int nq = 100000, threads = 2, sweep = 0;
    uint64_t seed = 20260301;
    const char *div = "data/divisions.csv";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
            n = strtoll(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "-q") == 0 && i + 1 < argc)
            nq = (int)strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
            threads = (int)strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--divisions") == 0 && i + 1 < argc)
            div = argv[++i];
        else if (strcmp(argv[i], "--sweep") == 0)
            sweep = 1;
        else {
            fprintf(stderr,
                    "usage: %s [-n RESIDENTS] [-q QUERIES] [-t THREADS] "
                    "[-s SEED] [--divisions FILE] [--sweep]\n",
                    argv[0]);
            return 2;
        }
    }
    if (n < 1000 || nq < 100 || threads < 1 || threads > 16) {
        fprintf(stderr, "bench_mpi: need -n >= 1000, -q >= 100, -t 1..16\n");
        return 2;
    }
    places pl;
    if (load_places(div, &pl) != 0) {
        fprintf(stderr, "bench_mpi: cannot read Jilin codes from %s\n", div);
        return 1;
    }
    split_chars(male_chars, &male);
    split_chars(female_chars, &female);
    split_chars(common_chars, &common);
    build_homophones();
    double acc = 0;
    for (int i = 0; i < NSURNAMES; i++)
        surname_cdf[i] = (acc += surnames[i].pm);

    /* residents, then people not in the index (the new arrivals) */
    int nnew = nq / 10;
    int64_t total = n + nnew;
    person *pp = rhis_xmalloc(sizeof(person) * (size_t)total);
    for (issued_cap = 1024; issued_cap < (size_t)total * 3; issued_cap *= 2)
        ;
    issued = rhis_xcalloc(issued_cap, sizeof(uint64_t));
    gen g = {.rng = seed, .pl = &pl, .year_now = 2025};
    double t0 = now_s();
    for (int64_t k = 0; k < total;)
        k += household(&g, pp + k, (int)(total - k < 5 ? total - k : 5));
    double tgen = now_s() - t0;

    rhis_mpi_index *ix = rhis_mpi_index_new();
    t0 = now_s();
    for (int64_t k = 0; k < n; k++) {
        rhis_mpi_person p = as_mpi(&pp[k], k + 1);
        rhis_mpi_index_put(ix, &p);
    }
    double tload = now_s() - t0;
    size_t bytes = rhis_mpi_index_memory(ix);
    printf("residents %lld (generated in %.1f s), index built in %.1f s "
           "(%.0f residents/s), %.1f MiB = %.0f bytes per resident\n",
           (long long)n, tgen, tload, n / tload, bytes / 1048576.0,
           (double)bytes / (double)n);

    /* queries: residents with errors, and new people */
    query *q = rhis_xmalloc(sizeof(query) * (size_t)nq);
    errs e = {0};
    uint64_t qrng = seed ^ UINT64_C(0x5151);
    int nres = nq - nnew;
    for (int i = 0; i < nres; i++) {
        int64_t k = (int64_t)(unif(&qrng) * (double)n);
        q[i].p = pp[k];
        q[i].truth = k + 1;
        apply_errors(&q[i].p, &pl, &qrng, &e);
    }
    /* half of the newcomers are strangers, half join a household of the
     * index (a newborn or a daughter-in-law registered with the family
     * phone in the family village): the hard case for precision */
    int nkin = 0;
    for (int i = 0; i < nnew; i++) {
        person *np = &q[nres + i].p;
        *np = pp[n + i];
        q[nres + i].truth = 0;
        if (i % 2 == 1) {
            const person *r = &pp[(int64_t)(unif(&qrng) * (double)n)];
            int yr = (int)strtol(r->birth, NULL, 10) + 20 + below(&qrng, 16);
            if (yr > 2025)
                yr = 2025;
            char sur[8];
            int k;
            decode(r->name, &k);
            memcpy(sur, r->name, (size_t)k);
            sur[k] = '\0';
            fill_person(&g, np, sur, unif(&qrng) < 0.5 ? 'M' : 'F', yr, r->area,
                        NULL);
            memcpy(np->phone, r->phone, sizeof(np->phone));
            nkin++;
        }
        apply_errors(np, &pl, &qrng, &e);
    }
    printf("queries %d: %d residents with errors, %d not in the index (%d "
           "of them joining a household of the index); "
           "errors: homophone %d, day/month swapped %d, date digit %d, "
           "no birth date %d, ID missing %d, ID mistyped %d, phone changed "
           "%d, phone missing %d, moved %d\n",
           nq, nres, nnew, nkin, e.homophone, e.swap, e.digit, e.nobirth,
           e.noid, e.badid, e.phone, e.nophone, e.moved);

    /* throughput */
    double pc;
    throughput(ix, q, nq / 10, 1, &pc); /* warm the caches */
    double t1 = throughput(ix, q, nq, 1, &pc);
    printf("throughput 1 thread: %.0f matches/s (%.0f per CPU-second)\n", t1,
           pc);
    if (threads > 1) {
        double tn = throughput(ix, q, nq, threads, &pc);
        printf("throughput %d threads: %.0f matches/s (%.0f per "
               "CPU-second)\n",
               threads, tn, pc);
    }

    /* quality with the default weights */
    outcome *o = rhis_xmalloc(sizeof(outcome) * (size_t)nq);
    evaluate(ix, q, nq, o);
    int64_t seen = 0;
    for (int i = 0; i < nres; i++)
        seen += o[i].truth_seen;
    printf("blocking: the true resident was a candidate for %.4f of "
           "resident queries\n",
           (double)seen / nres);
    rhis_mpi_weights w;
    rhis_mpi_index_weights(ix, &w);
    printf("default weights:\n");
    print_weights(&w);
    char label[96];
    metrics m = score_id_only(q, o, nq);
    print_metrics("deterministic ID only", &m);
    snprintf(label, sizeof(label), "default weights, link %.1f review %.1f",
             RHIS_MPI_LINK_THRESHOLD, RHIS_MPI_REVIEW_THRESHOLD);
    m = score(q, o, nq, RHIS_MPI_LINK_THRESHOLD, RHIS_MPI_REVIEW_THRESHOLD);
    print_metrics(label, &m);
    if (sweep)
        for (double t = 10; t <= 40; t += 1) {
            snprintf(label, sizeof(label), "  default, link %.1f", t);
            m = score(q, o, nq, t, t - 8);
            print_metrics(label, &m);
        }

    /* EM over a registry holding duplicates: (at most 1 M of) the
     * residents plus one error-laden copy of every tenth */
    int64_t nd = n > 1000000 ? 1000000 : n;
    rhis_mpi_index *dirty = rhis_mpi_index_new();
    uint64_t drng = seed ^ UINT64_C(0xd1d1);
    errs de = {0};
    for (int64_t k = 0; k < nd; k++) {
        rhis_mpi_person p = as_mpi(&pp[k], k + 1);
        rhis_mpi_index_put(dirty, &p);
        if (k % 10 == 0) {
            person copy = pp[k];
            apply_errors(&copy, &pl, &drng, &de);
            /* a live duplicate never shares its ID number: the registry
             * refuses that (unique index), so duplicates lack it */
            copy.idn[0] = '\0';
            rhis_mpi_person d = as_mpi(&copy, n + k + 1);
            rhis_mpi_index_put(dirty, &d);
        }
    }
    t0 = now_s();
    rhis_mpi_weights we;
    rhis_mpi_weights_default(&we);
    rhis_mpi_estimate rep;
    rhis_status rc = rhis_mpi_index_estimate(dirty, &we, 200000, &rep);
    printf("estimate on %lld residents + %lld duplicates (%.1f s): u from "
           "%lld random pairs\n",
           (long long)nd, (long long)((nd + 9) / 10), now_s() - t0,
           (long long)rep.u_pairs);
    for (int i = 0; i < RHIS_MPI_EM_PASSES; i++)
        printf("  m pass %d: %lld candidate pairs, %d iterations%s, %.0f "
               "expected matches, %s\n",
               i + 1, (long long)rep.pairs[i], rep.pass[i].iterations,
               rep.pass[i].converged ? " (converged)" : "", rep.pass[i].matches,
               rep.rc[i] == RHIS_OK ? "estimated" : "kept the defaults");
    if (rc == RHIS_OK) {
        printf("estimated weights:\n");
        print_weights(&we);
        rhis_mpi_index_set_weights(ix, &we);
        evaluate(ix, q, nq, o);
        snprintf(label, sizeof(label), "EM weights, link %.1f review %.1f",
                 RHIS_MPI_LINK_THRESHOLD, RHIS_MPI_REVIEW_THRESHOLD);
        m = score(q, o, nq, RHIS_MPI_LINK_THRESHOLD, RHIS_MPI_REVIEW_THRESHOLD);
        print_metrics(label, &m);
        if (sweep)
            for (double t = 10; t <= 40; t += 1) {
                snprintf(label, sizeof(label), "  EM, link %.1f", t);
                m = score(q, o, nq, t, t - 8);
                print_metrics(label, &m);
            }
    }
    rhis_mpi_index_free(dirty);
    rhis_mpi_index_free(ix);
    rhis_free(o);
    rhis_free(q);
    rhis_free(pp);
    rhis_free(issued);
    rhis_free(pl.village);
    rhis_free(pl.county);
    return 0;
}

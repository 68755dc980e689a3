/*
 * i18n.js - every user-visible string of the web UI, in Chinese first and English.
 *
 * Why: the platform is used by Chinese health administrations (zh-CN is the default);
 * the English switch serves integrators and reviewers. The chosen language is kept in
 * localStorage and mirrored on <html lang>. Server messages (OperationOutcome
 * diagnostics) are shown as the server wrote them.
 */

const STORE_KEY = 'rhis.lang';

const dict = {
  zh: {
    'app.name': '区域全民健康信息平台',
    'app.short': 'RHIS',
    'app.tagline': '全民健康信息平台 · 县 / 市 / 省三级互通',
    'app.footer': '区域全民健康信息平台 RHIS',
    'lang.switch': 'English',
    'lang.switch.title': 'Switch to English',

    'login.title': '用户登录',
    'login.username': '用户名',
    'login.password': '密码',
    'login.submit': '登录',
    'login.submitting': '正在登录…',
    'login.required': '请输入用户名和密码',
    'login.hint': '请使用本机构分配的账号登录。',
    'err.429': '尝试次数过多，请稍后再试',
    'err.network': '无法连接服务器，请检查网络后重试',
    'err.generic': '请求失败（HTTP {status}）',
    'login.bad': '用户名或密码错误',
    'err.code.invalid_argument': '请求参数有误',
    'err.code.not_found': '未找到请求的内容',
    'err.code.conflict': '数据已被修改，请刷新后重试',
    'err.code.unavailable': '服务暂不可用，请稍后再试',
    'err.code.unauthenticated': '未登录或登录已过期',
    'err.code.forbidden': '无权访问（超出权限或管辖范围）',
    'err.code.too_large': '请求内容过大',
    'err.code.rate_limited': '请求过于频繁，请稍后再试',
    'err.code.unsupported': '不支持的请求',
    'err.code.internal': '服务器内部错误',
    'err.code.busy': '服务器繁忙，请稍后再试',
    'err.session': '登录已过期，请重新登录',

    'top.user': '当前用户',
    'top.area': '当前区域',
    'top.scope': '管辖范围',
    'top.scope.all': '全部区域',
    'top.scopeLine': '管辖范围：{scope}',
    'top.logout': '退出登录',

    'nav.overview': '首页概览',
    'nav.institutions': '医疗卫生机构',
    'nav.residents': '居民与健康档案',
    'nav.referral': '分级诊疗',
    'nav.chronic': '慢病随访',
    'nav.surveillance': '传染病监测预警',
    'nav.plan': '规划指标',
    'nav.ems': '120急救',
    'nav.audit': '审计日志',
    'nav.users': '用户管理',
    'nav.soon': '即将上线',
    'nav.adminOnly': '仅管理员',
    'nav.group.main': '业务',
    'nav.group.admin': '系统管理',

    'area.pick': '选择区域',
    'area.children': '下级区域（{n}）',
    'area.noChildren': '无下级区域',
    'area.search': '搜索区域名称或代码',
    'area.searchEmpty': '未找到匹配的区域',
    'area.backToScope': '返回默认区域',
    'area.level.1': '省',
    'area.level.2': '市',
    'area.level.3': '县（区）',
    'area.level.4': '乡镇（街道）',
    'area.level.5': '村（社区）',

    'common.loading': '加载中…',
    'common.empty': '暂无数据',
    'common.none': '—',
    'common.close': '关闭',
    'common.retry': '重试',
    'common.prev': '上一页',
    'common.next': '下一页',
    'common.all': '全部',
    'common.search': '查询',
    'common.reset': '重置',
    'common.range': '第 {from}–{to} 条，共 {total} 条',
    'common.unit.inst': '家',
    'common.unit.bed': '张',
    'common.unit.person': '人',

    'overview.title': '区域概览',
    'overview.institutions': '医疗卫生机构',
    'overview.beds': '床位',
    'overview.bedsOpen': '开放 {n} 张',
    'overview.practitioners': '卫生人员',
    'overview.population': '常住人口',
    'overview.populationYear': '{year} 年',
    'overview.populationNone': '暂无人口数据',
    'overview.perK': '每千人口床位 {beds} · 每千人口卫生人员 {staff}',
    'overview.chart': '各类机构数量',
    'overview.byRole': '卫生人员构成',
    'overview.goInst': '查看机构列表',

    'inst.title': '医疗卫生机构',
    'inst.tier': '机构类别',
    'inst.q': '机构名称',
    'inst.qPlaceholder': '输入名称关键字',
    'inst.col.name': '机构名称',
    'inst.col.code': '机构代码',
    'inst.col.tier': '类别',
    'inst.col.grade': '等级',
    'inst.col.area': '所在区域',
    'inst.col.bedsApproved': '核定床位',
    'inst.col.bedsOpen': '开放床位',
    'inst.detail': '机构详情',
    'inst.f.code': '机构代码',
    'inst.f.tier': '机构类别',
    'inst.f.grade': '医院等级',
    'inst.f.ownership': '经济类型',
    'inst.f.area': '所在区域',
    'inst.f.beds': '床位（核定 / 开放）',
    'inst.f.coords': '坐标（纬度, 经度）',
    'inst.f.staff': '卫生人员',
    'inst.staffByRole': '人员构成',
    'inst.role': '类别',
    'inst.count': '人数',
    'inst.clickHint': '点击一行查看机构详情',

    'audit.title': '审计日志',
    'audit.subtitle': '最近 50 条操作记录',
    'audit.col.time': '时间',
    'audit.col.user': '用户',
    'audit.col.action': '操作',
    'audit.col.outcome': '结果',
    'audit.col.entity': '对象',
    'audit.col.source': '来源',
    'audit.forbidden': '仅系统管理员可查看审计日志。',

    'soon.title': '该模块即将上线',
    'soon.body': '“{name}”正在建设中，敬请期待。',

    'ownership.public': '公立',
    'ownership.private': '民营',
    'ownership.collective': '集体',
    'ownership.other': '其他',

    'action.C': '新建',
    'action.R': '查看',
    'action.U': '修改',
    'action.D': '删除',
    'action.E': '执行',
    'outcome.0': '成功',
    'outcome.4': '失败',
    'outcome.8': '严重失败',
    'outcome.12': '重大失败',

    'role.admin': '系统管理员',
    'role.planner': '规划管理',
    'role.cdc': '疾控人员',
    'role.clinician': '临床医生',
    'role.family_doctor': '家庭医生',
    'role.resident': '居民',
    'role.dispatcher': '120调度员',
    'role.integrator': '系统对接',

    'tier.village_clinic': '村卫生室',
    'tier.township_hc': '乡镇卫生院',
    'tier.community_hc': '社区卫生服务中心',
    'tier.community_station': '社区卫生服务站',
    'tier.county_hospital': '县级医院',
    'tier.city_hospital': '市级医院',
    'tier.province_hospital': '省级医院',
    'tier.tcm_hospital': '中医院',
    'tier.mch': '妇幼保健院',
    'tier.cdc': '疾病预防控制中心',
    'tier.ems_station': '急救站',
    'tier.other': '其他',

    'staff.physician': '执业医师',
    'staff.assistant_physician': '执业助理医师',
    'staff.nurse': '注册护士',
    'staff.pharmacist': '药师',
    'staff.technician': '技师',
    'staff.village_doctor': '乡村医生',
    'staff.gp': '全科医生',
    'staff.public_health': '公共卫生人员',
    'staff.manager': '管理人员',
    'staff.other': '其他',

    'grade.3A': '三级甲等',
    'grade.3B': '三级乙等',
    'grade.2A': '二级甲等',
    'grade.2B': '二级乙等',
    'grade.1A': '一级甲等',
    'grade.1B': '一级乙等',
    'grade.3C': '三级丙等',
    'grade.2C': '二级丙等',
    'grade.1C': '一级丙等',
    'grade.3': '三级',
    'grade.2': '二级',
    'grade.1': '一级',
  },

  en: {
    'app.name': 'Regional Population Health Information Platform',
    'app.short': 'RHIS',
    'app.tagline': 'Population health information · county / city / province',
    'app.footer': 'Regional Population Health Information Platform RHIS',
    'lang.switch': '中文',
    'lang.switch.title': '切换到中文',

    'login.title': 'Sign in',
    'login.username': 'Username',
    'login.password': 'Password',
    'login.submit': 'Sign in',
    'login.submitting': 'Signing in…',
    'login.required': 'Enter your username and password',
    'login.hint': 'Use the account issued by your institution.',
    'err.429': 'Too many attempts, please try again later',
    'err.network': 'Cannot reach the server, check the network and retry',
    'err.generic': 'Request failed (HTTP {status})',
    'login.bad': 'Wrong username or password',
    'err.session': 'Your session has expired, please sign in again',

    'top.user': 'User',
    'top.area': 'Area',
    'top.scope': 'Scope',
    'top.scope.all': 'All areas',
    'top.scopeLine': 'Scope: {scope}',
    'top.logout': 'Sign out',

    'nav.overview': 'Overview',
    'nav.institutions': 'Institutions',
    'nav.residents': 'Residents & records',
    'nav.referral': 'Tiered care',
    'nav.chronic': 'Chronic care',
    'nav.surveillance': 'Surveillance',
    'nav.plan': 'Plan monitoring',
    'nav.ems': '120 EMS',
    'nav.audit': 'Audit',
    'nav.users': 'Users',
    'nav.soon': 'Soon',
    'nav.adminOnly': 'Admin',
    'nav.group.main': 'Services',
    'nav.group.admin': 'Administration',

    'area.pick': 'Choose area',
    'area.children': 'Sub-areas ({n})',
    'area.noChildren': 'No sub-areas',
    'area.search': 'Search area by name or code',
    'area.searchEmpty': 'No matching area',
    'area.backToScope': 'Back to my area',
    'area.level.1': 'Province',
    'area.level.2': 'City',
    'area.level.3': 'County',
    'area.level.4': 'Township',
    'area.level.5': 'Village',

    'common.loading': 'Loading…',
    'common.empty': 'No data',
    'common.none': '—',
    'common.close': 'Close',
    'common.retry': 'Retry',
    'common.prev': 'Previous',
    'common.next': 'Next',
    'common.all': 'All',
    'common.search': 'Search',
    'common.reset': 'Reset',
    'common.range': '{from}–{to} of {total}',
    'common.unit.inst': '',
    'common.unit.bed': '',
    'common.unit.person': '',

    'overview.title': 'Area overview',
    'overview.institutions': 'Institutions',
    'overview.beds': 'Beds',
    'overview.bedsOpen': '{n} open',
    'overview.practitioners': 'Health workers',
    'overview.population': 'Resident population',
    'overview.populationYear': 'year {year}',
    'overview.populationNone': 'No population data',
    'overview.perK': 'Beds per 1000: {beds} · Health workers per 1000: {staff}',
    'overview.chart': 'Institutions by tier',
    'overview.byRole': 'Health workers by role',
    'overview.goInst': 'List institutions',

    'inst.title': 'Health institutions',
    'inst.tier': 'Tier',
    'inst.q': 'Name',
    'inst.qPlaceholder': 'Part of the name',
    'inst.col.name': 'Name',
    'inst.col.code': 'Code',
    'inst.col.tier': 'Tier',
    'inst.col.grade': 'Grade',
    'inst.col.area': 'Area',
    'inst.col.bedsApproved': 'Beds (approved)',
    'inst.col.bedsOpen': 'Beds (open)',
    'inst.detail': 'Institution',
    'inst.f.code': 'Code',
    'inst.f.tier': 'Tier',
    'inst.f.grade': 'Hospital grade',
    'inst.f.ownership': 'Ownership',
    'inst.f.area': 'Area',
    'inst.f.beds': 'Beds (approved / open)',
    'inst.f.coords': 'Coordinates (lat, lon)',
    'inst.f.staff': 'Health workers',
    'inst.staffByRole': 'Staff by role',
    'inst.role': 'Role',
    'inst.count': 'Count',
    'inst.clickHint': 'Click a row for details',

    'audit.title': 'Audit trail',
    'audit.subtitle': 'Latest 50 events',
    'audit.col.time': 'Time',
    'audit.col.user': 'User',
    'audit.col.action': 'Action',
    'audit.col.outcome': 'Outcome',
    'audit.col.entity': 'Entity',
    'audit.col.source': 'Source',
    'audit.forbidden': 'Only administrators can read the audit trail.',

    'soon.title': 'Coming soon',
    'soon.body': '“{name}” is being built.',

    'ownership.public': 'Public',
    'ownership.private': 'Private',
    'ownership.collective': 'Collective',
    'ownership.other': 'Other',

    'action.C': 'Create',
    'action.R': 'Read',
    'action.U': 'Update',
    'action.D': 'Delete',
    'action.E': 'Execute',
    'outcome.0': 'Success',
    'outcome.4': 'Failed',
    'outcome.8': 'Serious failure',
    'outcome.12': 'Major failure',

    'role.admin': 'Administrator',
    'role.planner': 'Planner',
    'role.cdc': 'CDC',
    'role.clinician': 'Clinician',
    'role.family_doctor': 'Family doctor',
    'role.resident': 'Resident',
    'role.dispatcher': '120 dispatcher',
    'role.integrator': 'Integrator',

    'tier.village_clinic': 'Village clinic',
    'tier.township_hc': 'Township health centre',
    'tier.community_hc': 'Community health centre',
    'tier.community_station': 'Community health station',
    'tier.county_hospital': 'County hospital',
    'tier.city_hospital': 'City hospital',
    'tier.province_hospital': 'Provincial hospital',
    'tier.tcm_hospital': 'TCM hospital',
    'tier.mch': 'Maternal & child health',
    'tier.cdc': 'CDC',
    'tier.ems_station': 'EMS station',
    'tier.other': 'Other',

    'staff.physician': 'Physician',
    'staff.assistant_physician': 'Assistant physician',
    'staff.nurse': 'Registered nurse',
    'staff.pharmacist': 'Pharmacist',
    'staff.technician': 'Technician',
    'staff.village_doctor': 'Village doctor',
    'staff.gp': 'General practitioner',
    'staff.public_health': 'Public health staff',
    'staff.manager': 'Manager',
    'staff.other': 'Other',

    'grade.3A': 'Grade III-A',
    'grade.3B': 'Grade III-B',
    'grade.2A': 'Grade II-A',
    'grade.2B': 'Grade II-B',
    'grade.1A': 'Grade I-A',
    'grade.1B': 'Grade I-B',
    'grade.3C': 'Grade III-C',
    'grade.2C': 'Grade II-C',
    'grade.1C': 'Grade I-C',
    'grade.3': 'Grade III',
    'grade.2': 'Grade II',
    'grade.1': 'Grade I',
  },
};

/* The tier codes of the API contract, in display order. */
export const TIERS = [
  'township_hc', 'village_clinic', 'community_hc', 'community_station',
  'county_hospital', 'city_hospital', 'province_hospital', 'tcm_hospital',
  'mch', 'cdc', 'ems_station', 'other',
];

let lang = (() => {
  try {
    const saved = localStorage.getItem(STORE_KEY);
    if (saved === 'zh' || saved === 'en') return saved;
  } catch { /* storage disabled: fall back to Chinese */ }
  return 'zh';
})();

export function getLang() { return lang; }

/* Sets the language, remembers it and updates <html lang>; callers re-render. */
export function setLang(l) {
  lang = l === 'en' ? 'en' : 'zh';
  try { localStorage.setItem(STORE_KEY, lang); } catch { /* ignore */ }
  applyHtmlLang();
}

export function applyHtmlLang() {
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
  document.title = `${t('app.name')} ${t('app.short')}`;
}

/* Looks a key up in the current language ({name} placeholders from params). */
export function t(key, params) {
  let s = dict[lang][key] ?? dict.zh[key] ?? key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
  return s;
}

export function hasKey(key) { return dict[lang][key] !== undefined; }

/* A label for an enumerated code: the dictionary's, else the server's, else the code. */
export function label(prefix, code, serverLabel) {
  if (code == null || code === '') return t('common.none');
  const key = `${prefix}.${code}`;
  if (dict[lang][key] !== undefined) return dict[lang][key];
  return serverLabel || String(code);
}

export function fmtNumber(n) {
  if (n == null || Number.isNaN(Number(n))) return t('common.none');
  return Number(n).toLocaleString(lang === 'en' ? 'en-US' : 'zh-CN');
}

/*
 * overview.js - the area overview: counts of institutions, beds, health workers and
 * population, and institutions by tier as an ECharts bar chart.
 */
import { api } from '../api.js';
import { h, mount } from '../dom.js';
import { ICONS } from '../icons.js';
import { t, label, fmtNumber, TIERS } from '../i18n.js';
import { statCard, panel, dataTable, loading } from '../ui.js';

function perThousand(n, pop) {
  if (!pop || n == null) return t('common.none');
  return (n * 1000 / pop).toFixed(2);
}

/* Institutions by tier: ECharts when loaded, else plain CSS bars. */
function tierChart(el, byTier, ctx) {
  const order = (r) => { const i = TIERS.indexOf(r.tier); return i < 0 ? TIERS.length : i; };
  const rows = byTier.filter((r) => r.count > 0).sort((a, b) => order(a) - order(b));
  const names = rows.map((r) => label('tier', r.tier, r.label));
  const counts = rows.map((r) => r.count);
  if (!rows.length) { mount(el, h('div', { class: 'empty' }, t('common.empty'))); return; }

  if (!window.echarts) {
    const max = Math.max(...counts);
    mount(el, h('div', { class: 'css-bars' }, rows.map((r, i) => h('div', { class: 'css-bar' },
      h('span', { class: 'css-bar-label' }, names[i]),
      h('span', { class: 'css-bar-track' }, h('span', { class: 'css-bar-fill', style: `width:${(r.count / max) * 100}%` })),
      h('span', { class: 'css-bar-value' }, fmtNumber(r.count))))));
    return;
  }
  el.classList.add('chart');
  const chart = window.echarts.init(el, null, { renderer: 'canvas' });
  const font = getComputedStyle(document.body).fontFamily;
  /* Horizontal bars: tier names stay readable in both languages. */
  chart.setOption({
    textStyle: { fontFamily: font },
    grid: { left: 8, right: 48, top: 8, bottom: 8, containLabel: true },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    yAxis: {
      type: 'category', data: names, inverse: true,
      axisLabel: { color: '#475467', fontSize: 12 },
      axisLine: { lineStyle: { color: '#cbd5e1' } }, axisTick: { show: false },
    },
    xAxis: { type: 'value', minInterval: 1, axisLabel: { color: '#667085' }, splitLine: { lineStyle: { color: '#eef2f6' } } },
    series: [{
      type: 'bar', data: counts, barMaxWidth: 22, name: t('overview.institutions'),
      itemStyle: {
        borderRadius: [0, 4, 4, 0],
        color: new window.echarts.graphic.LinearGradient(0, 0, 1, 0, [
          { offset: 0, color: '#2f7fd1' }, { offset: 1, color: '#5fb3a8' }]),
      },
      label: { show: true, position: 'right', color: '#1f3a5f', fontWeight: 600 },
    }],
  });
  const onResize = () => chart.resize();
  window.addEventListener('resize', onResize);
  ctx.onCleanup(() => { window.removeEventListener('resize', onResize); chart.dispose(); });
}

export async function renderOverview(root, ctx) {
  const { area } = ctx;
  mount(root, loading());
  const s = await api(`/api/v1/areas/${encodeURIComponent(area.code)}/summary`);
  const inst = s.institutions || { total: 0, by_tier: [] };
  const beds = s.beds || {};
  const prac = s.practitioners || { total: 0, by_role: [] };
  const pop = s.population;

  const cards = h('div', { class: 'cards', id: 'overview-cards' },
    statCard({ id: 'card-institutions', iconPaths: ICONS.institutions, title: t('overview.institutions'), value: fmtNumber(inst.total), unit: t('common.unit.inst'), tone: 'blue',
      sub: (inst.by_tier || []).filter((r) => r.count).sort((a, b) => b.count - a.count).slice(0, 3).map((r) => `${label('tier', r.tier, r.label)} ${fmtNumber(r.count)}`).join(' · ') || null }),
    statCard({ id: 'card-beds', iconPaths: ICONS.bed, title: t('overview.beds'), value: fmtNumber(beds.approved), unit: t('common.unit.bed'), tone: 'teal',
      sub: beds.open != null ? t('overview.bedsOpen', { n: fmtNumber(beds.open) }) : null }),
    statCard({ id: 'card-practitioners', iconPaths: ICONS.staff, title: t('overview.practitioners'), value: fmtNumber(prac.total), unit: t('common.unit.person'), tone: 'indigo',
      sub: (prac.by_role || []).slice(0, 2).map((r) => `${label('staff', r.role, r.label)} ${fmtNumber(r.count)}`).join(' · ') || null }),
    statCard({ id: 'card-population', iconPaths: ICONS.population, title: t('overview.population'), tone: 'green',
      value: pop ? fmtNumber(pop.total) : t('common.none'), unit: pop ? t('common.unit.person') : null,
      sub: pop ? t('overview.populationYear', { year: pop.year }) : t('overview.populationNone') }));

  const chartBox = h('div', { class: 'chart-box', id: 'tier-chart' });
  const roleTable = dataTable([
    { title: t('inst.role'), cell: (r) => label('staff', r.role, r.label) },
    { title: t('inst.count'), num: true, cell: (r) => fmtNumber(r.count) },
  ], prac.by_role || []);

  const heading = h('div', { class: 'page-head' },
    h('div', null,
      h('h1', null, `${s.name || area.name} · ${t('overview.title')}`),
      pop ? h('p', { class: 'muted' }, t('overview.perK', { beds: perThousand(beds.approved, pop.total), staff: perThousand(prac.total, pop.total) })) : null),
    h('a', { class: 'btn btn-primary', href: `#/institutions?area=${encodeURIComponent(area.code)}` }, t('overview.goInst')));

  mount(root, heading, cards,
    h('div', { class: 'grid-2' },
      panel(t('overview.chart'), chartBox),
      panel(t('overview.byRole'), roleTable)));
  tierChart(chartBox, inst.by_tier || [], ctx);
}

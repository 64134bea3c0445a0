// A stacked bar chart drawn as inline SVG from /admin/api/stats buckets. Each bar segment
// carries its count (data-count) and a tooltip; the legend carries each series' total.

import { h, s } from './dom.js';
import { formatNumber, formatTime, label, t } from './i18n.js';

const WIDTH = 960;
const HEIGHT = 220;
const PAD = { left: 48, right: 8, top: 10, bottom: 26 };

/** The largest stack, rounded up to a readable axis maximum. */
export function axisMax(buckets, series, group) {
  const top = Math.max(0, ...buckets.map((b) => series.reduce((n, k) => n + (b[group][k] || 0), 0)));
  if (top <= 4) return top <= 2 ? 2 : 4; // even, so the middle line is a whole number
  const magnitude = 10 ** Math.floor(Math.log10(top));
  const steps = [1, 2, 4, 5, 10].map((m) => m * magnitude);
  return steps.find((v) => v >= top);
}

function bars(buckets, series, group, max) {
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, buckets.length);
  const width = Math.max(1, slot * 0.8);
  const out = [];
  buckets.forEach((bucket, i) => {
    let y = PAD.top + plotH;
    for (const key of series) {
      const count = bucket[group][key] || 0;
      if (!count) continue;
      const height = (count / max) * plotH;
      y -= height;
      out.push(s('rect', {
        class: `bar ${group}-${key}`, x: (PAD.left + i * slot + (slot - width) / 2).toFixed(1),
        y: y.toFixed(1), width: width.toFixed(1), height: Math.max(height, 0.5).toFixed(1),
        dataset: { series: key, count: String(count), ts: String(bucket.ts) },
      }, s('title', {}, `${formatTime(bucket.ts)} · ${label(group, key)}: ${formatNumber(count)}`)));
    }
  });
  return out;
}

function axes(buckets, max) {
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const out = [];
  for (const fraction of [0, 0.5, 1]) {
    const y = PAD.top + plotH * (1 - fraction);
    out.push(s('line', { class: 'grid', x1: PAD.left, x2: WIDTH - PAD.right, y1: y, y2: y }));
    out.push(s('text', { class: 'axis', x: PAD.left - 6, y: y + 4, 'text-anchor': 'end' },
      formatNumber(Math.round(max * fraction))));
  }
  if (buckets.length) {
    const plotW = WIDTH - PAD.left - PAD.right;
    const slot = plotW / buckets.length;
    const picks = [...new Set([0, Math.floor(buckets.length / 2), buckets.length - 1])];
    for (const i of picks) {
      out.push(s('text', {
        class: 'axis', x: PAD.left + i * slot + slot / 2, y: HEIGHT - 8,
        'text-anchor': i === 0 ? 'start' : i === buckets.length - 1 ? 'end' : 'middle',
      }, formatTime(buckets[i].ts)));
    }
  }
  return out;
}

/** Draw the chart of `group` ('class' or 'action') into `figure`; returns the grand total. */
export function drawChart(figure, stats, group, title) {
  const series = Object.keys(stats.totals[group]);
  const buckets = stats.buckets;
  const max = axisMax(buckets, series, group);
  const total = series.reduce((n, k) => n + (stats.totals[group][k] || 0), 0);
  const from = buckets.length ? formatTime(buckets[0].ts) : '';
  const to = formatTime(stats.until);
  const svg = s('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', class: 'chart-svg',
    'aria-label': t('dash.chart_label', { title, total: formatNumber(total), from, to }),
    dataset: { group, total: String(total) },
  }, axes(buckets, max), bars(buckets, series, group, max));
  const legend = h('ul', { class: 'legend' },
    series.map((key) => h('li', { dataset: { series: key, total: String(stats.totals[group][key] || 0) } },
      h('span', { class: `swatch ${group}-${key}` }), label(group, key), ': ',
      h('strong', {}, formatNumber(stats.totals[group][key] || 0)))),
    h('li', { class: 'total', dataset: { series: 'total', total: String(total) } },
      t('dash.total_label'), ': ', h('strong', {}, formatNumber(total))));
  figure.replaceChildren(svg, legend);
  return total;
}

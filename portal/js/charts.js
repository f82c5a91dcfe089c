// Hand-drawn SVG charts: a line chart over days and a horizontal bar chart, each drawn beside
// the table of its numbers (what a screen reader reads, and what staff copy).
//
// Colours: red means failure and nothing else; each series also differs in its line (solid,
// dashed, dotted) and marker, so equal series stay visible on top of each other and readable
// without colour. Axis ticks are whole "nice" numbers (0, 5, 10 ...), never 0/1/1.

import { h } from "./ui.js";

const NS = "http://www.w3.org/2000/svg";
export const FAILURE = "#c0392b";
// Colours for things that are not failures (kinds, offices, measures): no red among them.
export const PALETTE = ["#1f6fb2", "#2e7d32", "#6b46c1", "#a05a00", "#138a8a", "#4a5568"];
const DASHES = ["", "8 4", "2 3", "12 3 3 3"];
const MARKERS = ["circle", "square", "diamond", "triangle"];

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

// Whole ticks from 0 up to at least ``top``, steps of 1, 2 or 5 times a power of ten; an empty
// axis (``top`` 0) has the single tick 0.
export function niceTicks(top, most = 5) {
  if (!(top > 0)) return [0];
  const rough = top / (most - 1);
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough));
  const ticks = [];
  for (let tick = 0; tick < top + step; tick += step) ticks.push(tick);
  return ticks;
}

function marker(kind, x, y, colour, label) {
  const title = svg("title", {}, label);
  if (kind === "square") return svg("rect", { x: x - 3.5, y: y - 3.5, width: 7, height: 7, fill: colour }, title);
  if (kind === "diamond") return svg("polygon", { points: `${x},${y - 5} ${x + 5},${y} ${x},${y + 5} ${x - 5},${y}`, fill: colour }, title);
  if (kind === "triangle") return svg("polygon", { points: `${x},${y - 5} ${x + 5},${y + 4} ${x - 5},${y + 4}`, fill: colour }, title);
  return svg("circle", { cx: x, cy: y, r: 4, fill: colour }, title);
}

// labels: ["11-22", ...]; series: [{name, values: [n, ...], colour?}]
export function lineChart(title, labels, series, { width = 560, height = 220 } = {}) {
  const pad = { left: 48, right: 28, top: 12, bottom: 28 };
  const ticks = niceTicks(Math.max(0, ...series.flatMap((s) => s.values)));
  const top = Math.max(1, ticks[ticks.length - 1]);
  const x = (i) => pad.left + (labels.length <= 1 ? (width - pad.left - pad.right) / 2 : (i * (width - pad.left - pad.right)) / (labels.length - 1));
  const y = (v) => height - pad.bottom - (v / top) * (height - pad.top - pad.bottom);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title, class: "chart" });
  chart.append(svg("title", {}, title));
  for (const tick of ticks) {
    chart.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: y(tick), y2: y(tick), class: "grid" }));
    chart.append(svg("text", { x: pad.left - 6, y: y(tick) + 4, "text-anchor": "end", class: "axis" }, tick.toLocaleString("zh-CN")));
  }
  // Crowded day labels: every n-th one, so that they never overlap.
  const every = Math.ceil(labels.length / Math.max(1, Math.floor((width - pad.left - pad.right) / 44)));
  labels.forEach((label, i) => {
    if (i % every === 0 || i === labels.length - 1) chart.append(svg("text", { x: x(i), y: height - 8, "text-anchor": "middle", class: "axis" }, label));
  });
  if (ticks.length === 1) {
    // Nothing to draw: lines along zero would only hide the message.
    chart.append(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "axis" }, "这段时间没有数据"));
    return figure(title, chart, []);
  }
  const styles = series.map((s, n) => ({ colour: s.colour || PALETTE[n % PALETTE.length], dash: DASHES[n % DASHES.length], marker: MARKERS[n % MARKERS.length] }));
  series.forEach((s, n) => {
    const { colour, dash } = styles[n];
    // The first series is the widest, each later one narrower: where they are equal, each still shows.
    const points = s.values.map((v, i) => `${x(i)},${y(v)}`).join(" ");
    chart.append(svg("polyline", { points, fill: "none", stroke: colour, "stroke-width": Math.max(1.5, 5 - n * 1.5), "stroke-dasharray": dash || null, "data-series": s.name }));
  });
  series.forEach((s, n) => s.values.forEach((v, i) => chart.append(marker(styles[n].marker, x(i), y(v), styles[n].colour, `${s.name} ${labels[i]}：${v}`))));
  return figure(title, chart, series.map((s, n) => [s.name, styles[n]]));
}

// rows: [[label, value], ...]; ``colours``: one colour for every bar, or a function of the label.
export function barChart(title, rows, { width = 560, unit = "", colour = PALETTE[0] } = {}) {
  const bar = 22;
  const labelWidth = 130;
  const height = Math.max(1, rows.length) * (bar + 8) + 8;
  const top = Math.max(1, ...rows.map(([, v]) => v));
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title, class: "chart" });
  chart.append(svg("title", {}, title));
  if (!rows.length) chart.append(svg("text", { x: 8, y: 20, class: "axis" }, "暂无数据"));
  rows.forEach(([label, value], i) => {
    const yPos = 8 + i * (bar + 8);
    const length = ((width - labelWidth - 70) * value) / top;
    const fill = typeof colour === "function" ? colour(label, i) : colour;
    chart.append(svg("text", { x: labelWidth - 8, y: yPos + 15, "text-anchor": "end", class: "axis" }, label));
    chart.append(svg("rect", { x: labelWidth, y: yPos, width: Math.max(1, length), height: bar, fill, "data-label": label }));
    chart.append(svg("text", { x: labelWidth + length + 6, y: yPos + 15, class: "value" }, `${value.toLocaleString("zh-CN")}${unit}`));
  });
  return figure(title, chart, []);
}

function swatch({ colour, dash }) {
  return svg("svg", { width: 28, height: 10, "aria-hidden": "true", class: "swatch" },
    svg("line", { x1: 1, x2: 27, y1: 5, y2: 5, stroke: colour, "stroke-width": 3, "stroke-dasharray": dash || null }));
}

function figure(title, chart, legend) {
  return h("figure", { class: "chart-figure" },
    h("figcaption", {}, title),
    chart,
    legend.length ? h("ul", { class: "legend" }, legend.map(([name, style]) => h("li", {}, swatch(style), name))) : null);
}

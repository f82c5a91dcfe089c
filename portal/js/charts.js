// Hand-drawn SVG charts: a line chart over days and a horizontal bar chart.

const NS = "http://www.w3.org/2000/svg";
const COLOURS = ["#1f6fb2", "#2e8b57", "#c0392b", "#b7791f", "#6b46c1", "#4a5568"];

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

// labels: ["11-22", ...]; series: [{name, values: [n, ...]}]
export function lineChart(title, labels, series, { width = 560, height = 220 } = {}) {
  const pad = { left: 44, right: 28, top: 12, bottom: 28 };
  const top = Math.max(1, ...series.flatMap((s) => s.values));
  const x = (i) => pad.left + (labels.length <= 1 ? 0 : (i * (width - pad.left - pad.right)) / (labels.length - 1));
  const y = (v) => height - pad.bottom - (v / top) * (height - pad.top - pad.bottom);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title, class: "chart" });
  chart.append(svg("title", {}, title));
  for (const tick of [0, top / 2, top]) {
    chart.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: y(tick), y2: y(tick), class: "grid" }));
    chart.append(svg("text", { x: pad.left - 6, y: y(tick) + 4, "text-anchor": "end", class: "axis" }, Math.round(tick)));
  }
  labels.forEach((label, i) =>
    chart.append(svg("text", { x: x(i), y: height - 8, "text-anchor": "middle", class: "axis" }, label)),
  );
  series.forEach((s, n) => {
    const colour = COLOURS[n % COLOURS.length];
    const points = s.values.map((v, i) => `${x(i)},${y(v)}`).join(" ");
    chart.append(svg("polyline", { points, fill: "none", stroke: colour, "stroke-width": 2 }));
    s.values.forEach((v, i) =>
      chart.append(svg("circle", { cx: x(i), cy: y(v), r: 3, fill: colour }, svg("title", {}, `${s.name} ${labels[i]}：${v}`))),
    );
  });
  return figure(title, chart, series.map((s, n) => [s.name, COLOURS[n % COLOURS.length]]));
}

// rows: [[label, value], ...]
export function barChart(title, rows, { width = 560, unit = "" } = {}) {
  const bar = 22;
  const labelWidth = 130;
  const height = Math.max(1, rows.length) * (bar + 8) + 8;
  const top = Math.max(1, ...rows.map(([, v]) => v));
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title, class: "chart" });
  chart.append(svg("title", {}, title));
  if (!rows.length) chart.append(svg("text", { x: 8, y: 20, class: "axis" }, "暂无数据"));
  rows.forEach(([label, value], i) => {
    const yPos = 8 + i * (bar + 8);
    const length = ((width - labelWidth - 60) * value) / top;
    chart.append(svg("text", { x: labelWidth - 8, y: yPos + 15, "text-anchor": "end", class: "axis" }, label));
    chart.append(svg("rect", { x: labelWidth, y: yPos, width: Math.max(1, length), height: bar, fill: COLOURS[i % COLOURS.length] }));
    chart.append(svg("text", { x: labelWidth + length + 6, y: yPos + 15, class: "value" }, `${value}${unit}`));
  });
  return figure(title, chart, []);
}

function figure(title, chart, legend) {
  const node = document.createElement("figure");
  node.className = "chart-figure";
  const caption = document.createElement("figcaption");
  caption.textContent = title;
  node.append(caption, chart);
  if (legend.length) {
    const list = document.createElement("ul");
    list.className = "legend";
    for (const [name, colour] of legend) {
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = colour;
      item.append(swatch, name);
      list.append(item);
    }
    node.append(list);
  }
  return node;
}

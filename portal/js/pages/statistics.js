// The dashboard's statistics: sent, delivered and failed per day, by kind and by office,
// delivery rate, parts billed and the main failure reasons, from the daily statistics
// (GET /reports/daily; a district sees its own district only), for the days and the office
// chosen. Each chart stands beside the table of its numbers, which downloads as CSV or XLSX.

import { FAILURE, PALETTE, barChart, lineChart } from "../charts.js";
import { CATEGORY_NAMES, OFFICE_NAMES } from "../common.js";
import { downloadCsv, downloadXlsx } from "../exports.js";
import { beijingDay, clear, field, formError, h, input, pagedTable, select, submitting } from "../ui.js";

const DAYS = 7;
const MAX_DAYS = 31; // sending.daily_stats.MAX_DAYS: the longest range the API answers
const DELIVERED = "#2e7d32";
// One colour per kind, the same on every chart; none of them the red of failure.
const KIND_COLOURS = {
  triggered: PALETTE[0], targeted: PALETTE[4], publicity: PALETTE[2], hangup: PALETTE[3], subscription: PALETTE[5], system: "#7b5e3b",
};
const KIND_BY_NAME = Object.fromEntries(Object.entries(CATEGORY_NAMES).map(([code, name]) => [name, code]));

export const rate = (delivered, failed) => (delivered + failed ? `${((delivered / (delivered + failed)) * 100).toFixed(1)}%` : "—");

const EMPTY = () => ({ sent: 0, delivered: 0, failed: 0, suppressed: 0, parts: 0, reasons: {} });

// Adds up report rows by a key: {key: {sent, delivered, failed, suppressed, parts, reasons}}.
function totalsBy(rows, key) {
  const totals = {};
  for (const row of rows) {
    const t = (totals[key(row)] ||= EMPTY());
    for (const name of ["sent", "delivered", "failed", "suppressed", "parts"]) t[name] += row[name];
    for (const [reason, n] of Object.entries(row.failure_categories)) t.reasons[reason] = (t.reasons[reason] || 0) + n;
  }
  return totals;
}

function daysFrom(start, end) {
  const days = [];
  for (let at = new Date(`${start}T00:00:00Z`); at <= new Date(`${end}T00:00:00Z`); at = new Date(at.getTime() + 86400000)) {
    days.push(at.toISOString().slice(0, 10));
  }
  return days;
}

// The table behind a chart: its numbers beside it, and its downloads.
function panel(name, chart, header, rows) {
  const numbers = h("table", { class: "chart-numbers" },
    h("caption", {}, `${name}（数据）`),
    h("thead", {}, h("tr", {}, header.map((text) => h("th", { scope: "col" }, text)))),
    h("tbody", {}, rows.length ? rows.map((row) => h("tr", {}, row.map((cell) => h("td", {}, typeof cell === "number" ? cell.toLocaleString("zh-CN") : cell))))
      : h("tr", {}, h("td", { colspan: String(header.length), class: "empty" }, "暂无数据"))));
  return h("div", { class: "chart-panel", "data-chart": name }, chart, h("div", { class: "chart-side" }, numbers, exportButtons(name, [header, ...rows])));
}

export function exportButtons(name, table) {
  const file = `${name}_${beijingDay()}`;
  const none = table.length <= 1; // the header alone: nothing to download
  return h("div", { class: "actions export" },
    h("button", { type: "button", disabled: none, "aria-label": `${name}：导出 CSV`, onclick: () => downloadCsv(file, table) }, "导出 CSV"),
    h("button", { type: "button", disabled: none, "aria-label": `${name}：导出 XLSX`, onclick: () => downloadXlsx(file, table, name) }, "导出 XLSX"));
}

function filters(offices, chosen, onQuery) {
  const from = input({ type: "date", value: chosen.from, name: "from" });
  const to = input({ type: "date", value: chosen.to, name: "to" });
  const office = select([...(offices.length > 1 ? [["", "全部单位"]] : []), ...offices.map((o) => [o, OFFICE_NAMES[o] || o])], { name: "office" });
  office.value = chosen.office || "";
  const form = h("form", { class: "filters", "aria-label": "统计范围" },
    h("div", { class: "row" }, field("开始日期", from, { name: "from" }), field("结束日期", to, { name: "to", hint: `一次最多 ${MAX_DAYS} 天` }),
      field("单位", office, { name: "office" }), h("button", { type: "submit", class: "primary" }, "查询")),
    formError());
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(form, () => onQuery({ from: from.value, to: to.value, office: office.value }));
  });
  return form;
}

function totalsLine(all) {
  return h("div", { id: "delivery-totals" },
    h("span", { class: "stat", "data-stat": "sent" }, "已发送", h("b", {}, String(all.sent))),
    h("span", { class: "stat", "data-stat": "delivered" }, "已送达", h("b", {}, String(all.delivered))),
    h("span", { class: "stat", "data-stat": "failed" }, "失败", h("b", {}, String(all.failed))),
    h("span", { class: "stat", "data-stat": "suppressed" }, "未发送（拦截）", h("b", {}, String(all.suppressed))),
    h("span", { class: "stat", "data-stat": "rate" }, "送达率", h("b", {}, rate(all.delivered, all.failed))),
    h("span", { class: "stat", "data-stat": "parts" }, "计费条数", h("b", {}, String(all.parts))));
}

function bars(name, entries, options) {
  return panel(name, barChart(name, entries, options), [options.label, options.column], entries);
}

function charts(report) {
  const rows = report.rows;
  const days = daysFrom(report.start, report.end);
  const all = totalsBy(rows, () => "all").all || EMPTY();
  const perDay = totalsBy(rows, (r) => r.day);
  const perKind = Object.entries(totalsBy(rows, (r) => r.kind));
  const perOffice = Object.entries(totalsBy(rows, (r) => r.office));
  const day = (d, name) => (perDay[d] ? perDay[d][name] : 0);
  const kindName = ([k]) => CATEGORY_NAMES[k] || k;
  const officeName = ([o]) => OFFICE_NAMES[o] || o;
  const kindColour = (label) => KIND_COLOURS[KIND_BY_NAME[label]] || PALETTE[5];
  const daily = "每日发送、送达与失败";
  return [
    totalsLine(all),
    panel(daily, lineChart(daily, days.map((d) => d.slice(5)), [
      { name: "已发送", values: days.map((d) => day(d, "sent")), colour: PALETTE[0] },
      { name: "已送达", values: days.map((d) => day(d, "delivered")), colour: DELIVERED },
      { name: "失败", values: days.map((d) => day(d, "failed")), colour: FAILURE },
    ]), ["日期", "已发送", "已送达", "失败"], days.map((d) => [d, day(d, "sent"), day(d, "delivered"), day(d, "failed")])),
    bars("按类别：发送条数", perKind.map((e) => [kindName(e), e[1].sent]), { colour: kindColour, label: "类别", column: "发送条数" }),
    bars("按类别：计费条数", perKind.map((e) => [kindName(e), e[1].parts]), { colour: kindColour, label: "类别", column: "计费条数" }),
    bars("各单位送达条数", perOffice.map((e) => [officeName(e), e[1].delivered]), { colour: DELIVERED, label: "单位", column: "送达条数" }),
    bars("各单位送达率", perOffice.filter(([, v]) => v.delivered + v.failed)
      .map((e) => [officeName(e), Number(((e[1].delivered / (e[1].delivered + e[1].failed)) * 100).toFixed(1))]), { unit: "%", colour: DELIVERED, label: "单位", column: "送达率（%）" }),
    bars("失败原因", Object.entries(all.reasons).sort((a, b) => b[1] - a[1]).slice(0, 8), { colour: FAILURE, label: "失败原因", column: "失败条数" }),
    bars("各单位计费条数", perOffice.map((e) => [officeName(e), e[1].parts]), { colour: PALETTE[3], label: "单位", column: "计费条数" }),
    details(rows),
  ];
}

const DETAIL_COLUMNS = [
  ["日期", (r) => r.day], ["类别", (r) => CATEGORY_NAMES[r.kind] || r.kind], ["单位", (r) => OFFICE_NAMES[r.office] || r.office],
  ["已发送", (r) => r.sent], ["已送达", (r) => r.delivered], ["失败", (r) => r.failed],
  ["未发送", (r) => r.suppressed], ["送达率", (r) => rate(r.delivered, r.failed)], ["计费条数", (r) => r.parts],
  ["失败原因", (r) => Object.entries(r.failure_categories).map(([label, n]) => `${label} ${n}`).join("、")],
];

function details(rows) {
  const name = "每日明细";
  const table = [DETAIL_COLUMNS.map(([heading]) => heading), ...rows.map((r) => DETAIL_COLUMNS.map(([, cell]) => cell(r)))];
  return h("div", { class: "chart-panel wide", "data-chart": name },
    pagedTable(DETAIL_COLUMNS.map(([heading, cell]) => [heading, (r) => String(cell(r))]), rows,
      { caption: name, empty: "这段时间没有短信", sort: { column: "日期", descending: true } }),
    exportButtons(name, table));
}

// ``load(query)``: the page's call of GET /reports/daily; ``extra(report)``: what the page adds
// under the charts for the same days and office.
export async function statistics(main, load, { extra } = {}) {
  const body = h("div", { id: "statistics" });
  const title = h("h2", {});
  const card = h("section", { class: "card" }, title);
  let chosen = { from: beijingDay(1 - DAYS), to: beijingDay(), office: "" };
  const show = async (wanted) => {
    const report = await load({ from: wanted.from, to: wanted.to, office: wanted.office });
    chosen = wanted;
    const scope = wanted.office ? `（${OFFICE_NAMES[wanted.office] || wanted.office}）`
      : report.offices.length === 1 ? `（${OFFICE_NAMES[report.offices[0]] || report.offices[0]}）` : "（全部单位）";
    title.textContent = `${report.start} 至 ${report.end} 各类短信的发送与送达${scope}`;
    clear(body, charts(report), extra ? extra(report) : null);
    return report;
  };
  const first = await show(chosen);
  card.append(filters(first.offices, chosen, show), body);
  main.append(card);
}

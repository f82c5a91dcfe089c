// Dashboard: sent, delivered and failed over the last days, by kind and by office, delivery
// rate, parts used and the main failure reasons, all five kinds of SMS, from the daily
// statistics (GET /reports/daily; a district sees its own district only); for IT operations
// the lanes' depths and their dead-letter queues with redrive.

import { get, post } from "../api.js";
import { barChart, lineChart } from "../charts.js";
import { CATEGORY_NAMES, OFFICE_NAMES } from "../common.js";
import { beijingDay, clear, h, input, pagedTable, section, toast } from "../ui.js";

const DAYS = 7;
const LANES = { high: "高优先级（挂机、触发、订阅、验证码）", normal: "普通（定向通知）", bulk: "批量（宣传公告）", fanout: "展开", work: "后台任务（通讯录导入）", pushes: "运营商回执与回复", callbacks: "状态回调（业务系统）" };

export async function render(main, ctx) {
  main.append(h("h1", {}, "统计与运维"));
  if (ctx.may("GET /reports/daily")) await statistics(main);
  if (ctx.may("GET /number-checks/counts")) await numberChecks(main);
  if (ctx.may("GET /operations/lanes")) await lanes(main);
}

const rate = (delivered, failed) => (delivered + failed ? `${((delivered / (delivered + failed)) * 100).toFixed(1)}%` : "—");

// Adds up report rows by a key: {key: {sent, delivered, failed, suppressed, parts, reasons}}.
function totalsBy(rows, key) {
  const totals = {};
  for (const row of rows) {
    const t = (totals[key(row)] ||= { sent: 0, delivered: 0, failed: 0, suppressed: 0, parts: 0, reasons: {} });
    for (const name of ["sent", "delivered", "failed", "suppressed", "parts"]) t[name] += row[name];
    for (const [reason, n] of Object.entries(row.failure_categories)) t.reasons[reason] = (t.reasons[reason] || 0) + n;
  }
  return totals;
}

async function statistics(main) {
  const days = Array.from({ length: DAYS }, (_, i) => beijingDay(i - DAYS + 1));
  const report = await get("/reports/daily", { from: days[0], to: days[DAYS - 1] });
  const rows = report.rows;
  const all = totalsBy(rows, () => "all").all || { sent: 0, delivered: 0, failed: 0, suppressed: 0, parts: 0, reasons: {} };
  const perDay = totalsBy(rows, (r) => r.day);
  const perKind = totalsBy(rows, (r) => r.kind);
  const perOffice = totalsBy(rows, (r) => r.office);
  const series = (name) => days.map((d) => (perDay[d] ? perDay[d][name] : 0));
  const scope = report.offices.length === 1 ? `（${OFFICE_NAMES[report.offices[0]] || report.offices[0]}）` : "";
  main.append(section(`近 ${DAYS} 天（${days[0]} 至 ${days[DAYS - 1]}）各类短信的发送与送达${scope}`,
    h("div", { id: "delivery-totals" },
      h("span", { class: "stat", "data-stat": "sent" }, "已发送", h("b", {}, String(all.sent))),
      h("span", { class: "stat", "data-stat": "delivered" }, "已送达", h("b", {}, String(all.delivered))),
      h("span", { class: "stat", "data-stat": "failed" }, "失败", h("b", {}, String(all.failed))),
      h("span", { class: "stat", "data-stat": "suppressed" }, "未发送（拦截）", h("b", {}, String(all.suppressed))),
      h("span", { class: "stat", "data-stat": "rate" }, "送达率", h("b", {}, rate(all.delivered, all.failed))),
      h("span", { class: "stat", "data-stat": "parts" }, "计费条数", h("b", {}, String(all.parts)))),
    lineChart("每日发送、送达与失败", days.map((d) => d.slice(5)), [
      { name: "已发送", values: series("sent") },
      { name: "已送达", values: series("delivered") },
      { name: "失败", values: series("failed") },
    ]),
    h("div", { class: "grid2" },
      barChart("按类别：发送条数", Object.entries(perKind).map(([k, v]) => [CATEGORY_NAMES[k] || k, v.sent])),
      barChart("按类别：计费条数", Object.entries(perKind).map(([k, v]) => [CATEGORY_NAMES[k] || k, v.parts]))),
    h("div", { class: "grid2" },
      barChart("各单位送达条数", Object.entries(perOffice).map(([o, v]) => [OFFICE_NAMES[o] || o, v.delivered])),
      barChart("各单位送达率", Object.entries(perOffice).filter(([, v]) => v.delivered + v.failed)
        .map(([o, v]) => [OFFICE_NAMES[o] || o, Number(((v.delivered / (v.delivered + v.failed)) * 100).toFixed(1))]), { unit: "%" })),
    h("div", { class: "grid2" },
      barChart("失败原因（按类别）", Object.entries(all.reasons).sort((a, b) => b[1] - a[1]).slice(0, 8)),
      barChart("各单位计费条数", Object.entries(perOffice).map(([o, v]) => [OFFICE_NAMES[o] || o, v.parts]))),
    pagedTable([
      ["日期", (r) => r.day], ["类别", (r) => CATEGORY_NAMES[r.kind] || r.kind], ["单位", (r) => OFFICE_NAMES[r.office] || r.office],
      ["已发送", (r) => String(r.sent)], ["已送达", (r) => String(r.delivered)], ["失败", (r) => String(r.failed)],
      ["未发送", (r) => String(r.suppressed)], ["送达率", (r) => rate(r.delivered, r.failed)], ["计费条数", (r) => String(r.parts)],
      ["失败原因", (r) => Object.entries(r.failure_categories).map(([label, n]) => `${label} ${n}`).join("、")],
    ], [...rows].reverse(), { caption: "每日明细", empty: "这段时间没有短信" }),
  ));
}

// Records whose number failed permanently too often, per district: the worklists on the
// "号码核实" page.
async function numberChecks(main) {
  const counts = await get("/number-checks/counts");
  main.append(section("待核实号码（空号、停机多次发送失败）",
    h("div", { id: "number-check-totals" },
      h("span", { class: "stat", "data-stat": "number-checks" }, "合计", h("b", {}, String(counts.total))),
      counts.districts.map((d) => h("span", { class: "stat", "data-district": d.district }, d.district_name, h("b", {}, String(d.count))))),
    h("p", {}, h("a", { href: "#/numbers" }, "查看待核实名单并处理"))));
}

async function lanes(main) {
  const box = h("div", { id: "lane-depths" });
  const detail = h("div");
  const load = async () => {
    const answer = await get("/operations/lanes");
    clear(box, pagedTable([
      ["队列", (l) => LANES[l.lane] || l.lane],
      ["等待处理", (l) => String(l.visible)],
      ["处理中", (l) => String(l.in_flight)],
      ["延迟中", (l) => String(l.delayed)],
      ["死信数量", (l) => h("span", { "data-dead-letters": l.lane }, String(l.dead_letters))],
      ["死信操作", (l) => {
        const most = input({ type: "number", min: "1", max: "10000", value: "100", "aria-label": `${LANES[l.lane] || l.lane} 重新投递的最多条数` });
        return h("div", { class: "actions" },
          h("button", { type: "button", "aria-label": `查看 ${l.lane} 死信`, onclick: () => peek(l.lane) }, "查看"),
          most,
          h("button", { type: "button", disabled: l.dead_letters === 0, "aria-label": `重新投递 ${l.lane} 死信`, onclick: async () => {
            try {
              const done = await post(`/dead-letters/${l.lane}/redrive`, { max_messages: Number(most.value) || 100 });
              toast(`已重新投递 ${done.redriven} 条`);
              await load();
            } catch (error) {
              toast(error.message, "bad");
            }
          } }, "重新投递"));
      }],
    ], answer.lanes, { caption: "各队列的消息数量（约数）" }));
  };
  const peek = async (lane) => {
    const answer = await get(`/dead-letters/${lane}`, { limit: 10 });
    clear(detail, h("h3", {}, `${LANES[lane] || lane}：共 ${answer.depth} 条`),
      h("pre", { class: "preview" }, JSON.stringify(answer.messages, null, 2)));
  };
  main.append(section("队列与死信",
    h("p", { class: "hint" }, "等待处理、处理中与延迟中的消息数量反映各队列的积压；处理失败的消息在死信队列中等待排查，确认原因已消除后重新投递回原队列。"),
    h("div", { class: "actions" }, h("button", { type: "button", onclick: () => load() }, "刷新")),
    box, detail));
  await load();
}

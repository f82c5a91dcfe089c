// Dashboard: sent, delivered and failed over the last days, by office and by kind, delivery
// rate, parts used and the main failure reasons; for IT operations the dead-letter queues.

import { get, post } from "../api.js";
import { barChart, lineChart } from "../charts.js";
import { OFFICE_NAMES } from "../common.js";
import { beijingDay, clear, h, input, pagedTable, section, toast } from "../ui.js";

const DAYS = 7;
const LANES = { high: "高优先级（挂机、触发、订阅、验证码）", normal: "普通（定向通知）", bulk: "批量（宣传公告）", fanout: "展开" };

export async function render(main, ctx) {
  main.append(h("h1", {}, "统计与运维"));
  if (ctx.has("city_reviewer", "auditor", "it_ops")) await delivery(main, ctx);
  if (ctx.has("it_ops")) await deadLetters(main);
}

function taken(states) {
  return (states.sent || 0) + (states.delivered || 0) + (states.failed || 0);
}

async function delivery(main, ctx) {
  const days = Array.from({ length: DAYS }, (_, i) => beijingDay(i - DAYS + 1));
  const reports = await Promise.all(days.map((day) => get("/delivery-reports/daily", { day })));
  const perDay = reports.map((r) => r.offices.reduce((sum, o) => {
    sum.sent += taken(o.states);
    sum.delivered += o.states.delivered || 0;
    sum.failed += o.states.failed || 0;
    return sum;
  }, { sent: 0, delivered: 0, failed: 0 }));
  const offices = {};
  const reasons = {};
  let parts = 0;
  for (const report of reports) {
    for (const o of report.offices) {
      const row = (offices[o.office] ||= { sent: 0, delivered: 0, failed: 0 });
      row.sent += taken(o.states);
      row.delivered += o.states.delivered || 0;
      row.failed += o.states.failed || 0;
      parts += o.parts_used || 0;
      for (const [reason, n] of Object.entries(o.failure_reasons || {})) reasons[reason] = (reasons[reason] || 0) + n;
    }
  }
  const delivered = perDay.reduce((s, d) => s + d.delivered, 0);
  const failed = perDay.reduce((s, d) => s + d.failed, 0);
  const sent = perDay.reduce((s, d) => s + d.sent, 0);
  const rate = delivered + failed ? `${((delivered / (delivered + failed)) * 100).toFixed(1)}%` : "—";
  main.append(section(`近 ${DAYS} 天（${days[0]} 至 ${days[DAYS - 1]}）发送申请的送达情况`,
    h("div", { id: "delivery-totals" },
      h("span", { class: "stat", "data-stat": "sent" }, "已发送", h("b", {}, String(sent))),
      h("span", { class: "stat", "data-stat": "delivered" }, "已送达", h("b", {}, String(delivered))),
      h("span", { class: "stat", "data-stat": "failed" }, "失败", h("b", {}, String(failed))),
      h("span", { class: "stat", "data-stat": "rate" }, "送达率", h("b", {}, rate)),
      h("span", { class: "stat", "data-stat": "parts" }, "计费条数", h("b", {}, String(parts)))),
    lineChart("每日发送、送达与失败", days.map((d) => d.slice(5)), [
      { name: "已发送", values: perDay.map((d) => d.sent) },
      { name: "已送达", values: perDay.map((d) => d.delivered) },
      { name: "失败", values: perDay.map((d) => d.failed) },
    ]),
    h("div", { class: "grid2" },
      barChart("各单位送达条数", Object.entries(offices).map(([o, v]) => [OFFICE_NAMES[o] || o, v.delivered])),
      barChart("主要失败原因", Object.entries(reasons).sort((a, b) => b[1] - a[1]).slice(0, 8))),
    await byKind(ctx, days[0]),
  ));
}

// By kind: the released send requests of the period, each with its report.
async function byKind(ctx, since) {
  if (!ctx.has("city_reviewer", "auditor")) return null;
  const names = { targeted: "定向通知", publicity: "宣传公告" };
  const totals = {};
  const lists = await Promise.all(["sending", "fanned_out", "stopped"].map((status) => get("/send-requests", { status })));
  const released = lists.flatMap((l) => l.requests).filter((r) => (r.released_at || "").slice(0, 10) >= since).slice(0, 50);
  const reports = await Promise.all(released.map((r) => get(`/send-requests/${r.request_id}/report`)));
  for (const report of reports) {
    const row = (totals[report.kind] ||= { delivered: 0, parts: 0 });
    row.delivered += report.states.delivered || 0;
    row.parts += report.parts_used || 0;
  }
  return h("div", { class: "grid2" },
    barChart("按类别：送达条数", Object.entries(totals).map(([k, v]) => [names[k] || k, v.delivered])),
    barChart("按类别：计费条数", Object.entries(totals).map(([k, v]) => [names[k] || k, v.parts])));
}

async function deadLetters(main) {
  const box = h("div", { id: "dead-letters" });
  const detail = h("div");
  const load = async () => {
    const { depths } = await get("/dead-letters");
    clear(box, pagedTable([
      ["队列", ([lane]) => LANES[lane] || lane],
      ["死信数量", ([, depth]) => String(depth)],
      ["操作", ([lane, depth]) => {
        const most = input({ type: "number", min: "1", max: "10000", value: "100", "aria-label": `${LANES[lane] || lane} 重新投递的最多条数` });
        return h("div", { class: "actions" },
          h("button", { type: "button", "aria-label": `查看 ${lane} 死信`, onclick: () => peek(lane) }, "查看"),
          most,
          h("button", { type: "button", disabled: depth === 0, "aria-label": `重新投递 ${lane} 死信`, onclick: async () => {
            try {
              const answer = await post(`/dead-letters/${lane}/redrive`, { max_messages: Number(most.value) || 100 });
              toast(`已重新投递 ${answer.redriven} 条`);
              await load();
            } catch (error) {
              toast(error.message, "bad");
            }
          } }, "重新投递"));
      }],
    ], Object.entries(depths)));
  };
  const peek = async (lane) => {
    const answer = await get(`/dead-letters/${lane}`, { limit: 10 });
    clear(detail, h("h3", {}, `${LANES[lane] || lane}：共 ${answer.depth} 条`),
      h("pre", { class: "preview" }, JSON.stringify(answer.messages, null, 2)));
  };
  main.append(section("死信队列", h("p", { class: "hint" }, "处理失败的消息在此等待排查；确认原因已消除后重新投递回原队列。"), box, detail));
  await load();
}

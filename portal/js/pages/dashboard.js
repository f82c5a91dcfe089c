// Dashboard: sent, delivered and failed over the last days, by kind and by office, delivery
// rate, parts used and the main failure reasons, all five kinds of SMS, from the daily
// statistics (GET /reports/daily; a district sees its own district only), with each carrier's
// totals and cost; for IT operations
// the lanes' depths and their dead-letter queues with redrive.

import { get, post } from "../api.js";
import { clear, h, input, pagedTable, section, toast } from "../ui.js";
import { rate, statistics } from "./statistics.js";

const LANES = { high: "高优先级（挂机、触发、订阅、验证码）", normal: "普通（定向通知）", bulk: "批量（宣传公告）", fanout: "生成发送批次（大批量发送的准备）", work: "后台任务（通讯录导入）", pushes: "运营商回执与回复", callbacks: "状态回调（业务系统）" };

export async function render(main, ctx) {
  main.append(h("h1", {}, "统计与运维"));
  if (ctx.may("GET /reports/daily")) {
    await statistics(main, (query) => get("/reports/daily", query), { extra: (report) => carrierTotals(report.carriers || []) });
  }
  if (ctx.may("GET /number-checks/counts")) await numberChecks(main);
  if (ctx.may("GET /operations/lanes")) await lanes(main);
}

// Per carrier over the same days: messages, parts, delivery, failure categories and what the
// parts cost at the configured prices (fen per part).
function carrierTotals(carriers) {
  return h("div", { id: "carrier-totals" }, pagedTable([
    ["运营商", (c) => c.name], ["已发送", (c) => String(c.sent)], ["计费条数", (c) => String(c.parts)],
    ["已送达", (c) => String(c.delivered)], ["失败", (c) => String(c.failed)], ["送达率", (c) => rate(c.delivered, c.failed)],
    ["失败原因", (c) => Object.entries(c.failure_categories).map(([label, n]) => `${label} ${n}`).join("、")],
    ["单价（分/条）", (c) => String(c.price_fen)], ["费用（元）", (c) => c.cost_yuan.toFixed(2)],
  ], carriers, { caption: "各运营商合计与费用", empty: "没有运营商" }));
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

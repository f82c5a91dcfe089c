// Carriers (运营商通道) for IT operations: each carrier's state in the rotation and its health over
// the last minutes (error and throttle rate, latency, receipts still missing), with why a carrier
// was taken out and until when; each lane's weights between the carriers; draining a carrier by
// hand and returning it. Auditors read the same page without the controls.

import { get, post, put } from "../api.js";
import { clear, field, formError, h, input, pagedTable, section, submitting, toast, when } from "../ui.js";

const LANES = { high: "高优先级（挂机、触发、订阅、验证码）", normal: "普通（定向通知）", bulk: "批量（宣传公告）" };
const STATE_KINDS = { active: "ok", drained: "warn", out: "bad" };

const percent = (rate) => (rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`);

export async function render(main, ctx) {
  main.append(h("h1", {}, "运营商通道"));
  const box = h("div");
  main.append(box);
  const load = async () => {
    const overview = await get("/carriers");
    clear(box, carriersSection(overview, ctx, load), lanesSection(overview, ctx, load));
  };
  await load();
}

function stateBadge(carrier) {
  return h("span", { class: `badge ${STATE_KINDS[carrier.state.state] || ""}`, "data-state": carrier.carrier }, carrier.state_name);
}

function why(carrier) {
  const s = carrier.state;
  if (s.state === "active") return carrier.health.healthy ? "" : `指标异常：${carrier.health.problems.join("；")}`;
  const by = s.by === "platform" ? "健康检查" : s.by;
  const until = s.until ? `，观察期至 ${when(s.until)}` : "";
  return `${s.reason}（${by}，${when(s.since)}起${until}）`;
}

function carriersSection(overview, ctx, reload) {
  const t = overview.thresholds;
  const detail = h("div", { id: "carrier-action", "aria-live": "polite" });
  const table = pagedTable([
    ["运营商", (c) => c.name],
    ["状态", (c) => stateBadge(c)],
    ["近期结果数", (c) => String(c.health.outcomes)],
    ["错误率", (c) => percent(c.health.error_rate)],
    ["限流率", (c) => percent(c.health.throttle_rate)],
    ["平均耗时", (c) => (c.health.latency_ms === null ? "—" : `${c.health.latency_ms} 毫秒`)],
    [`${t.receipt_wait_minutes} 分钟后仍无回执`, (c) => percent(c.health.receipts_missing)],
    ["说明", (c) => h("span", { "data-why": c.carrier }, why(c))],
    ...(ctx.may("POST /carriers/{carrier}/drain") ? [["操作", (c) => actions(c, detail, reload)]] : []),
  ], overview.carriers, { caption: `各运营商近 ${t.window_minutes} 分钟的健康状况（${when(overview.at)}）` });
  return section("运营商状态与健康",
    h("p", { class: "hint" },
      `健康检查每分钟运行：近 ${t.window_minutes} 分钟内结果不少于 ${t.min_outcomes} 条时，错误率超过 ${percent(t.max_error_rate)}、` +
      `限流率超过 ${percent(t.max_throttle_rate)}、平均耗时超过 ${t.max_latency_ms} 毫秒，或发送 ${t.receipt_wait_minutes} 分钟后仍无回执超过 ` +
      `${percent(t.max_receipts_missing)}，该运营商即暂停轮换 ${t.probation_minutes} 分钟（观察期），并发出告警；观察期结束且指标正常后自动恢复。` +
      "人工停用的运营商须由运维人员恢复。"),
    h("div", { id: "carrier-health" }, table), detail);
}

function actions(carrier, detail, reload) {
  const restore = async () => {
    try {
      await post(`/carriers/${carrier.carrier}/restore`);
      toast(`${carrier.name}已恢复轮换`);
      await reload();
    } catch (error) {
      toast(error.message, "bad");
    }
  };
  if (carrier.state.state !== "active") {
    return h("button", { type: "button", "aria-label": `恢复 ${carrier.name}`, onclick: restore }, "恢复轮换");
  }
  return h("button", { type: "button", "aria-label": `停用 ${carrier.name}`, onclick: () => drainForm(carrier, detail, reload) }, "人工停用");
}

function drainForm(carrier, detail, reload) {
  const reason = input({ maxlength: "200", placeholder: "如：运营商通知维护" });
  const form = h("form", { id: "drain-form" },
    h("h3", {}, `人工停用 ${carrier.name}`),
    h("p", { class: "hint" }, "停用后不再向该运营商分配新批次；已交给它、结果未知的短信仍向它查询，不会改由其他运营商重发。"),
    field("停用原因", reason, { name: "reason" }),
    formError(),
    h("div", { class: "actions" },
      h("button", { type: "submit" }, "确认停用"),
      h("button", { type: "button", onclick: () => clear(detail) }, "取消")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = await submitting(form, () => post(`/carriers/${carrier.carrier}/drain`, { reason: reason.value }));
    if (done) {
      toast(`${carrier.name}已停用`);
      await reload();
    }
  });
  clear(detail, form);
  reason.focus();
}

function lanesSection(overview, ctx, reload) {
  const names = Object.fromEntries(overview.carriers.map((c) => [c.carrier, c.name]));
  const editable = ctx.may("PUT /carriers/weights/{lane}");
  const rows = overview.lanes.map((lane) => laneRow(lane, overview.carriers, names, editable, reload));
  return section("各队列的运营商权重",
    h("p", { class: "hint" }, "每个队列的批次按权重比例分配给轮换中的运营商（0 到 100 的整数）；权重为 0 的运营商作为备用，仅在其他运营商不能接收时使用。" +
      "每个队列至少须有一个轮换中的运营商权重大于 0。"),
    h("div", { id: "lane-weights" }, rows));
}

function laneRow(lane, carriers, names, editable, reload) {
  const controls = carriers.map((c) => {
    const box = input({ type: "number", min: "0", max: "100", step: "1", value: String(lane.weights[c.carrier] ?? 0),
      disabled: !editable, "data-weight": `${lane.lane}:${c.carrier}` });
    return [c.carrier, box];
  });
  const changed = lane.updated_at ? `最近修改：${when(lane.updated_at)}（${lane.updated_by}）` : "默认权重";
  // The API's message beside the field, not the browser's own check of min and max.
  const form = h("form", { class: "lane-weights", "data-lane": lane.lane, novalidate: true },
    h("h3", {}, LANES[lane.lane] || lane.lane),
    h("div", { class: "actions" }, controls.map(([carrier, box]) => field(names[carrier] || carrier, box, { name: `weights.${carrier}` }))),
    h("p", { class: "hint" }, changed),
    formError(),
    editable ? h("div", { class: "actions" }, h("button", { type: "submit" }, "保存权重")) : null);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const weights = Object.fromEntries(controls.map(([carrier, box]) => [carrier, box.value === "" ? null : Number(box.value)]));
    const done = await submitting(form, () => put(`/carriers/weights/${lane.lane}`, { weights }));
    if (done) {
      toast(`${LANES[lane.lane] || lane.lane}的权重已保存`);
      await reload();
    }
  });
  return form;
}

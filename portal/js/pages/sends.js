// Send requests: the audience builder with a live count, sample, parts and totals and the send
// time; the review queue; and a released send's progress, updated while it runs.

import { get, post } from "../api.js";
import { DISTRICTS, INSURANCE, audienceText, beijingIso, inPublicityWindow, sendStatus, signatureOf } from "../common.js";
import { TERMS } from "../glossary.js";
import { measure, render as fill } from "../sms.js";
import { clear, debounce, field, formError, h, input, pagedTable, section, select, submitting, toast, when } from "../ui.js";
import { variableField, variableValues } from "../variables.js";
import { followUpFacts, followUpSection } from "./follow_ups.js";
import { reminderFacts, reminderFields, wavesSection } from "./reminders.js";
import { reviewSends } from "./review.js";
import { sheetResult, sheetUploader } from "./sheets.js";

// The filter offers the states the list shows: 发送中 is a send being queued (sending) or one
// whose messages are still on their way (fanned_out, not finished); 已发送完毕 the finished ones.
const STATUS = [["", "全部"], ["submitted", "待审核"], ["approved", "已批准，待发送"], ["running", "发送中"],
  ["finished", "已发送完毕"], ["stopped", "已停止"], ["rejected", TERMS.refusedState], ["cancelled", "已取消"]];
const SHOWN = { running: [["sending", "fanned_out"], (r) => !r.finished], finished: [["fanned_out"], (r) => r.finished] };
const RUNNING = new Set(["sending", "fanned_out"]);

export async function render(main, ctx, args) {
  const [first] = args;
  const tabs = [["", "申请列表"]];
  if (ctx.may("POST /send-requests")) tabs.push(["new", "新建发送申请"]);
  if (ctx.may("POST /send-requests/{request_id}/approval")) tabs.push(["review", "待审核"]);
  main.append(h("h1", {}, "发送申请"), h("nav", { class: "tabs", "aria-label": "发送申请" },
    tabs.map(([path, title]) => h("a", { href: `#/sends${path ? "/" + path : ""}`, "aria-current": (first || "") === path ? "page" : false }, title))));
  const area = h("div");
  main.append(area);
  if (!first) return list(area, ctx, "");
  if (first === "new") return builder(area, ctx);
  if (first === "review") return reviewSends(area, ctx, args[1]);
  return detail(area, ctx, first);
}

async function list(area, ctx, fixed) {
  const status = select(STATUS, { "aria-label": "状态" });
  status.value = fixed;
  const box = h("div");
  const load = async () => {
    const requests = await requestsOf(status.value);
    clear(box, pagedTable([
      ["申请", (r) => h("a", { href: `#/sends/${r.request_id}` }, `${r.kind_name}：${r.template_name}`
        + (r.wave ? `（第 ${r.wave.number}/${r.wave.of} 轮提醒）` : r.reminder ? `（第 1/${r.reminder.waves.length} 轮提醒）` : ""))],
      ["单位", (r) => r.office_name],
      ["申请人", (r) => r.author.real_name],
      ["对象", (r) => `${r.audience_size} 人${r.sheet ? "（个性化名单）" : ""}`],
      ["条数", (r) => `${r.total_parts} 条`],
      ["发送时间", (r) => (r.send_at ? when(r.send_at) : "审核通过后立即")],
      ["状态", (r) => sendStatus(r.status, r.status_name, r.finished)],
    ], requests, { empty: fixed ? "没有待审核的申请" : "没有发送申请" }));
  };
  status.addEventListener("change", load);
  area.append(...(fixed ? [] : [section("筛选", field("状态", status))]), box);
  await load();
}

// The requests of one state of the filter, newest first.
async function requestsOf(status) {
  const [statuses, keep] = SHOWN[status] || [[status], () => true];
  const answers = await Promise.all(statuses.map((s) => get("/send-requests", { status: s })));
  return answers.flatMap((a) => a.requests).filter(keep).sort((a, b) => b.created_at.localeCompare(a.created_at));
}


async function builder(area, ctx) {
  const me = ctx.me;
  const district = me.roles.includes("district_operator");
  const all = (await get("/templates", { status: "active" })).templates.filter(
    (t) => ["targeted", "publicity"].includes(t.category) && t.office === me.office && t.active_version,
  );
  if (!all.length) {
    area.append(section("新建发送申请", h("p", {}, "本单位还没有已启用的定向通知或宣传公告模板，请先编写模板并通过审核。")));
    return;
  }
  const template = select([["", "请选择模板"], ...all.map((t) => [t.template_id, `${t.name}（${t.category === "publicity" ? "宣传公告" : "定向通知"}）`])]);
  const valuesBox = h("div", { class: "row" });
  const kind = select([["person", "参保人员"], ["unit", "参保单位"]]);
  const districtBox = h("div", { class: "checks", role: "group", "aria-label": "区县" },
    DISTRICTS.filter(([code]) => !district || code === me.office).map(([code, name]) => {
      const box = h("input", { type: "checkbox", value: code, id: `district-${code}`, checked: district, disabled: district });
      return h("label", { for: `district-${code}` }, box, name);
    }));
  const insurance = select([["", "不限险种"], ...INSURANCE]);
  const tag = input({ maxlength: "20" });
  const sendAt = input({ type: "datetime-local" });
  const note = input({ maxlength: "300" });
  const count = h("b", { id: "audience-count" }, "—");
  const sample = h("div", { class: "preview", id: "send-sample" });
  const totals = h("div", { id: "send-totals", class: "counter" });
  const timing = h("div", { id: "send-timing", class: "hint" });
  let chosen = null;
  let version = null;
  let recipients = 0;
  // Values the same for everyone, or a personalised list (targeted notices with variables).
  const mode = h("div", { class: "checks", role: "radiogroup", "aria-label": "变量取值方式", id: "values-mode", hidden: true },
    [["same", "所有对象相同"], ["sheet", "按名单逐人填写（上传 Excel 或 CSV）"]].map(([value, text]) => h("label", { for: `mode-${value}` },
      h("input", { type: "radio", name: "values-mode", value, id: `mode-${value}`, checked: value === "same" }), text)));
  const personalised = () => !mode.hidden && mode.querySelector("input:checked").value === "sheet";
  const uploader = sheetUploader(() => ({ templateId: template.value, version }), () => redraw());
  uploader.node.hidden = true;
  // Reminder waves: targeted notices to an address-book segment; their dates replace the send time.
  const reminder = reminderFields(() => redraw());
  reminder.node.hidden = true;

  const values = () => variableValues(valuesBox);
  const segment = () => ({
    kind: kind.value,
    districts: [...districtBox.querySelectorAll("input:checked")].map((c) => c.value),
    insurance_type: insurance.value || null,
    tag: tag.value.trim() || null,
  });
  const redraw = async () => {
    if (!version) return;
    const listed = personalised();
    uploader.node.hidden = !listed;
    reminder.node.hidden = listed || chosen.category !== "targeted";
    sendAtField.style.display = reminder.active() ? "none" : ""; // .field's display outranks [hidden]
    for (const box of [valuesSet, audienceSet]) box.hidden = listed;
    if (listed) {
      const sheet = uploader.sheet();
      count.textContent = sheet ? `${sheet.accepted} 人` : "—";
      sample.textContent = sheet && sheet.preview.length ? sheet.preview[0].text : "上传名单后显示第一个人收到的内容";
      totals.textContent = sheet ? `每人 ${sheet.parts.map((p) => p.parts).join("或")} 条，共 ${sheet.accepted} 人，合计 ${sheet.total_parts} 条` : "";
      timing.textContent = "定向通知不受时段限制。";
      return;
    }
    const signature = await signatureOf(chosen.office);
    const text = fill(version.text, values());
    const length = measure(text, signature);
    sample.textContent = `【${signature}】${text}`;
    totals.textContent = `每人 ${length.parts} 条，共 ${recipients} 人，合计 ${recipients * length.parts} 条`;
    if (chosen.category === "publicity") {
      timing.textContent = inPublicityWindow(sendAt.value)
        ? "宣传类短信仅在每天 08:00-21:00（北京时间）发送，21:00 未发完的部分次日 08:00 继续。"
        : "所选时间不在 08:00-21:00（北京时间）之内，宣传类短信不能在此时发送。";
      timing.className = inPublicityWindow(sendAt.value) ? "hint" : "field-error";
    } else timing.textContent = "定向通知不受时段限制。";
  };
  const recount = debounce(async () => {
    try {
      recipients = (await post("/audiences/count", segment())).count;
      count.textContent = `${recipients} 人`;
    } catch (error) {
      count.textContent = error.message;
    }
    redraw();
  });
  template.addEventListener("change", async () => {
    chosen = all.find((t) => t.template_id === template.value) || null;
    version = chosen ? (await get(`/templates/${chosen.template_id}`)).versions.find((v) => v.version === chosen.active_version) : null;
    clear(valuesBox, (version ? version.variables : []).map((spec) => variableField(spec, { oninput: redraw })));
    mode.hidden = !(chosen && chosen.category === "targeted" && version && version.variables.length);
    uploader.refresh();
    redraw();
  });
  mode.addEventListener("change", () => (personalised() ? redraw() : recount()));
  for (const control of [kind, insurance, districtBox]) control.addEventListener("change", recount);
  tag.addEventListener("input", recount);
  sendAt.addEventListener("input", redraw);

  const sendAtField = field("发送时间（北京时间，不填为审核通过后立即发送）", sendAt, { name: "send_at" });
  const valuesSet = h("fieldset", {}, h("legend", {}, "变量取值（所有对象相同）"), valuesBox,
    h("div", { class: "field-error", "data-error-for": "values", role: "alert" }));
  const audienceSet = h("fieldset", {}, h("legend", {}, "发送对象"),
    field("对象类型", kind, { name: "audience.kind" }),
    h("div", {}, h("span", {}, district ? "区县（本区县）" : "区县（不选为全市）"), districtBox,
      h("div", { class: "field-error", "data-error-for": "audience.districts", role: "alert" })),
    h("div", { class: "row" }, field("险种", insurance, { name: "audience.insurance_type" }), field("标签", tag, { name: "audience.tag" })),
    h("div", { class: "field-error", "data-error-for": "audience", role: "alert" }));
  const form = h("form", { class: "card", "aria-label": "发送申请" },
    h("h2", {}, "新建发送申请"),
    h("div", { class: "grid2" },
      h("div", {},
        field("模板", template, { name: "template_id" }),
        mode,
        valuesSet,
        uploader.node,
        audienceSet,
        reminder.node,
        sendAtField,
        field("申请说明", note, { name: "note" }),
      ),
      h("div", {},
        h("p", { class: "stat" }, "发送对象人数", count),
        h("h3", {}, "样例（手机上显示为）"), sample, totals, timing),
    ),
    formError(),
    h("button", { type: "submit", class: "primary" }, "提交审核"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(form, async () => {
      if (chosen && chosen.category === "publicity" && !inPublicityWindow(sendAt.value)) {
        throw { message: "宣传类短信只能在每天 08:00 至 21:00（北京时间）之间发送", field: "send_at", details: [] };
      }
      const common = { template_id: template.value, send_at: beijingIso(sendAt.value), note: note.value.trim() || null };
      let body = { ...common, values: values(), audience: segment() };
      if (reminder.active()) body = { ...body, send_at: null, reminder: reminder.value() };
      if (personalised()) {
        const sheet = uploader.sheet();
        if (!sheet) throw { message: "请先上传名单并等待检查通过", field: "sheet_id", details: [] };
        body = { ...common, values: {}, audience: { kind: sheet.kind }, sheet_id: sheet.sheet_id };
      }
      const created = await post("/send-requests", body);
      toast("发送申请已提交，等待市社保中心审核");
      ctx.navigate(`#/sends/${created.request_id}`);
    });
  });
  area.append(form);
  recount();
}

// A send is finished once every recipient is queued (fanned_out) and no message is still on
// its way: none waiting to go out, none sent and still within the time its receipt may take
// (the API decides: ``finished``).
function finished(view) {
  return Boolean(view.finished);
}

// What staff read of a send's state: the API's name, except the last step of a finished send.
function statusOf(view) {
  return sendStatus(view.request.status, view.request.status_name, finished(view));
}

const STATS = [
  ["expanded", "已处理对象"], ["waiting", "等待发出"], ["sent", "已发出"], ["delivered", "已送达"],
  ["failed", "失败"], ["suppressed", "未发送（拦截）"],
];

function progressView(view) {
  const p = view.progress;
  const done = p.delivered + p.failed + p.suppressed;
  const rate = p.delivery_rate === null || p.delivery_rate === undefined ? "—" : (p.delivery_rate * 100).toFixed(1) + "%";
  const ended = finished(view) || view.request.status === "stopped";
  return h("div", { id: "send-progress" },
    ended
      ? h("p", { id: "send-outcome", class: "notice", role: "status" },
        `${finished(view) ? "发送已完成" : "发送已停止"}：共 ${view.audience_size} 人，已送达 ${p.delivered} 人，失败 ${p.failed} 人，未发送 ${p.suppressed} 人，计费 ${p.parts_used} 条。`)
      : h("progress", { class: "progress", max: String(Math.max(view.audience_size, 1)), value: String(done), "aria-label": "发送进度" }),
    h("p", {}, STATS.map(([key, name]) => h("span", { class: "stat", "data-stat": key }, name, h("b", {}, String(p[key] ?? 0))))),
    h("p", {}, `送达率：${rate}，计费条数：${p.parts_used}`),
    Object.keys(p.failure_categories || {}).length
      ? h("p", { id: "send-failure-categories" }, `失败原因：${Object.entries(p.failure_categories).map(([label, n]) => `${label} ${n} 条`).join("、")}`)
      : null,
    p.paused_until && !ended ? h("p", { class: "notice" }, `已到 21:00，暂停至 ${when(p.paused_until)} 继续发送`) : null);
}

function facts(view) {
  const r = view.request;
  return h("dl", { class: "facts" },
    h("dt", {}, "状态"), h("dd", { id: "request-status" }, statusOf(view)),
    h("dt", {}, "单位"), h("dd", {}, `${r.office_name}（签名【${r.sign_name}】）`),
    h("dt", {}, "申请人"), h("dd", {}, `${r.author.real_name}，${when(r.created_at)}`),
    h("dt", {}, "样例"), h("dd", { class: "preview" }, view.sample),
    h("dt", {}, "字数与条数"), h("dd", {}, r.sheet ? `最长 ${view.characters} 字，每人最多 ${view.parts} 条` : `${view.characters} 字，每人 ${view.parts} 条`),
    h("dt", {}, "对象人数"), h("dd", { id: "request-audience" }, audienceText(view)),
    r.sheet ? [h("dt", {}, "名单文件摘要"), h("dd", { class: "hint" }, `SHA-256 ${r.sheet.sha256}`)] : null,
    followUpFacts(r),
    reminderFacts(r),
    h("dt", {}, "合计条数"), h("dd", {}, `${view.total_parts} 条`),
    h("dt", {}, "发送时间"), h("dd", {}, `${when(view.timing.starts_at)}；${view.timing.note}`),
    r.reviewer ? [h("dt", {}, "审核人"), h("dd", {}, `${r.reviewer.real_name}，${when(r.reviewed_at)}`)] : null,
    r.reject_reason ? [h("dt", {}, TERMS.refuseReason), h("dd", {}, r.reject_reason)] : null,
    r.stop_reason ? [h("dt", {}, "停止原因"), h("dd", {}, r.stop_reason)] : null,
    r.cancel_reason ? [h("dt", {}, "取消原因"), h("dd", {}, r.cancel_reason)] : null,
  );
}

// Which actions the current state offers this account: "review", "cancel", "stop" or "".
function actionsFor(ctx, view) {
  const r = view.request;
  const mine = r.author.account_id === ctx.me.account_id;
  if (r.status === "submitted" && !mine && ctx.may("POST /send-requests/{request_id}/approval")) return "review";
  if (["submitted", "approved"].includes(r.status) && (mine || ctx.has("city_reviewer"))) return "cancel";
  if (RUNNING.has(r.status) && !finished(view) && ctx.may("POST /send-requests/{request_id}/stop")) return "stop";
  return "";
}

// A state the send may still leave: the page keeps asking for the latest one.
const MOVING = new Set(["submitted", "approved", "sending", "fanned_out"]);

async function detail(area, ctx, requestId) {
  let view = await get(`/send-requests/${requestId}`);
  const reason = h("textarea", { rows: "2", maxlength: "300" });
  const actions = h("form", { "aria-label": "审核发送申请" });
  const act = (call, message) => submitting(actions, async () => {
    await call();
    toast(message);
    ctx.navigate(`#/sends/${requestId}`);
  });
  const ACTIONS = {
    review: () => [field("不通过的原因", reason, { name: "reason" }), formError(), h("div", { class: "actions" },
      h("button", { type: "button", class: "primary", onclick: () => act(() => post(`/send-requests/${requestId}/approval`), "已批准") }, "审核通过"),
      h("button", { type: "button", class: "danger", onclick: () => act(() => post(`/send-requests/${requestId}/rejection`, { reason: reason.value }), TERMS.refused) }, TERMS.refuse))],
    cancel: () => [formError(), h("button", { type: "button", class: "danger", onclick: () => act(() => post(`/send-requests/${requestId}/cancellation`), "已取消") }, "取消申请")],
    stop: () => [field("停止原因", reason, { name: "reason" }), formError(),
      h("button", { type: "button", class: "danger", onclick: () => act(() => post(`/send-requests/${requestId}/stop`, { reason: reason.value }), "已停止发送") }, "停止发送")],
  };
  const factsBox = h("div");
  const progress = h("div");
  const recipientsLink = h("div");
  const waves = h("div");
  const later = h("div");
  const r = view.request;
  area.append(
    section(`${r.kind_name}：${r.template_name}`, factsBox, actions),
    view.sheet ? section("个性化名单（审核前请核对）", sheetResult(view.sheet)) : "",
    section("发送进度", progress, recipientsLink),
    waves,
    later,
  );
  // Everything is drawn from the latest view (each wave's counts too); the actions and the
  // follow-up section, which hold what staff type, only when what they depend on changed, so
  // nothing typed into them is lost between polls.
  let shownActions = null;
  let shownStatus = null;
  const draw = () => {
    const current = view.request;
    clear(factsBox, facts(view));
    if (view.progress) clear(progress, progressView(view));
    else clear(progress, h("p", {}, current.status === "approved" ? `已批准，将于 ${when(view.timing.starts_at)} 开始发送。` : "尚未开始发送。"));
    clear(waves, wavesSection(ctx, view, () => ctx.navigate(`#/sends/${requestId}`)));
    const offered = actionsFor(ctx, view);
    if (offered !== shownActions) {
      shownActions = offered;
      clear(actions, offered ? ACTIONS[offered]() : []);
    }
    if (current.status !== shownStatus) {
      shownStatus = current.status;
      clear(recipientsLink, ctx.may("GET /recipients/send/{request_id}") && ["sending", "fanned_out", "stopped"].includes(current.status)
        ? h("p", {}, h("a", { href: `#/recipients/send/${requestId}`, id: "recipients-link" }, "收件人明细：谁收到了、谁没收到及原因（可导出）"))
        : null);
      clear(later, followUpSection(ctx, current));
    }
  };
  draw();
  const poll = async () => {
    if (!area.isConnected) return;
    try {
      const latest = await get(`/send-requests/${requestId}`);
      if (!area.isConnected) return;
      view = latest;
      draw();
    } catch {
      // A failed poll is retried at the next one; the page keeps the last state it read.
    }
    if (MOVING.has(view.request.status) && !finished(view)) setTimeout(poll, 2000);
  };
  if (MOVING.has(r.status) && !finished(view)) setTimeout(poll, 2000);
}

// Reminder waves (分轮提醒) of a targeted notice tied to a deadline: on the send form, the
// deadline, the business event that means "done" and the days before the deadline each wave goes
// out, with the waves' dates shown as they are typed; on a send's page, the waves, their dates,
// statuses and counts, and the cancellation of the waves still to come.

import { post } from "../api.js";
import { sendStatus } from "../common.js";
import { field, formError, h, input, pagedTable, section, submitting, toast, when } from "../ui.js";

const MAX_WAVES = 5;
const RELEASED = new Set(["sending", "fanned_out", "stopped"]);

// A wave's count once it is released; a dash before (nothing has been counted yet).
const count = (wave, key) => (RELEASED.has(wave.status) ? String(wave[key]) : "—");

// Beijing wall-clock date and time of ``days`` days before ``deadline`` at ``at`` ("HH:MM").
function waveDate(deadline, days, at) {
  const [y, m, d] = deadline.split("-").map(Number);
  const day = new Date(Date.UTC(y, m - 1, d - days));
  return `${day.toISOString().slice(0, 10)} ${at}`;
}

function parseDays(text) {
  return text.split(/[,，、\s]+/).filter(Boolean).map(Number);
}

// The form's part: a switch, then deadline, done-event, days and time of day. ``value()`` is the
// body's ``reminder`` (null when switched off).
export function reminderFields(onChange) {
  const on = h("input", { type: "checkbox", id: "reminder-on" });
  const deadline = input({ type: "date", id: "reminder-deadline" });
  const doneEvent = input({ id: "reminder-done-event", maxlength: "64", placeholder: "例如 medical.paid" });
  const days = input({ id: "reminder-days", value: "7, 2", placeholder: "例如 7, 2" });
  const at = input({ type: "time", id: "reminder-at", value: "09:00" });
  const planned = h("ul", { id: "reminder-plan", class: "hint" });
  const details = h("div", { hidden: true },
    h("div", { class: "row" },
      field("截止日期（北京时间）", deadline, { name: "reminder.deadline" }),
      field("发送时刻", at, { name: "reminder.at" })),
    field("表示“已办理”的业务事件类型", doneEvent, { name: "reminder.done_event",
      hint: "业务系统推送该类事件后，该人员（单位）不再收到后续各轮提醒" }),
    field(`截止日期前几天发送（2 至 ${MAX_WAVES} 轮，逗号分隔）`, days, { name: "reminder.days_before" }),
    planned);
  const redraw = () => {
    details.hidden = !on.checked;
    const list = parseDays(days.value).filter((n) => Number.isInteger(n)).sort((a, b) => b - a);
    planned.replaceChildren(...(deadline.value && list.length
      ? list.map((n, i) => h("li", {}, `第 ${i + 1} 轮：${waveDate(deadline.value, n, at.value || "09:00")}（截止日期前 ${n} 天）`))
      : []));
    onChange();
  };
  for (const control of [on, deadline, days, at]) control.addEventListener("input", redraw);
  on.addEventListener("change", redraw);
  const node = h("fieldset", { id: "reminder" }, h("legend", {}, "分轮提醒"),
    h("label", { for: "reminder-on" }, on, "截止日期前分几轮提醒，已办理的不再提醒（发送时间按截止日期计算）"),
    details);
  return {
    node,
    active: () => on.checked && !node.hidden,
    value: () => ({ deadline: deadline.value || null, done_event: doneEvent.value.trim(),
      days_before: parseDays(days.value), at: at.value || "09:00" }),
  };
}

// The facts lines of a request in reminder waves: the deadline, the done-event, which wave.
export function reminderFacts(r) {
  const plan = r.reminder;
  const wave = r.wave;
  if (!plan && !wave) return null;
  const deadline = plan ? plan.deadline : wave.deadline;
  const done = plan ? plan.done_event : wave.done_event;
  return [
    h("dt", {}, "分轮提醒"),
    h("dd", { id: "request-reminder" }, `截止日期 ${deadline}，共 ${plan ? plan.waves.length : wave.of} 轮；收到 ${done} 事件的对象不再提醒`,
      wave ? [`（本申请为第 ${wave.number} 轮，`, h("a", { href: `#/sends/${wave.first_request_id}` }, "查看第 1 轮"), "）"] : ""),
  ];
}

// Each wave with its time, status and counts; for the author or a city reviewer of a first wave
// whose later waves are still to come, the button that cancels them.
export function wavesSection(ctx, view, reload) {
  if (!view.waves) return "";
  const r = view.request;
  const table = pagedTable([
    ["轮次", (w) => (w.request_id === r.request_id ? `第 ${w.number} 轮（本申请）` : h("a", { href: `#/sends/${w.request_id}` }, `第 ${w.number} 轮`))],
    ["发送时间", (w) => `${when(w.send_at)}（截止前 ${w.days_before} 天）`],
    ["状态", (w) => sendStatus(w.status, w.status_name, w.status_name === "已发送完毕")],
    ["对象", (w) => count(w, "targeted")],
    ["已办理跳过", (w) => count(w, "skipped_done")],
    ["已发送", (w) => count(w, "sent")],
    ["已送达", (w) => count(w, "delivered")],
    ["失败", (w) => count(w, "failed")],
  ], view.waves, { caption: "各轮提醒" });
  table.id = "reminder-waves";
  const pending = view.waves.filter((w) => w.number > 1 && w.status === "approved");
  const mayCancel = r.reminder && !["submitted", "approved"].includes(r.status) && pending.length
    && (r.author.account_id === ctx.me.account_id || ctx.has("city_reviewer"));
  const form = h("form", { "aria-label": "取消后续提醒" });
  if (mayCancel) {
    form.append(formError(), h("button", { type: "button", class: "danger", id: "cancel-waves", onclick: () => submitting(form, async () => {
      await post(`/send-requests/${r.request_id}/cancellation`);
      toast("后续各轮提醒已取消");
      reload();
    }) }, `取消后续 ${pending.length} 轮提醒`));
  }
  return section("分轮提醒", h("p", { class: "hint" }, "审核通过即批准全部各轮；第 2 轮起，审核通过后收到“已办理”事件的对象不再提醒。"), table, form);
}

// The audit trail: search (operators by name, templates by name), each entry's action and object
// in Chinese; verify a day's chain, export a day as JSON lines.

import { download, get } from "../api.js";
import { OFFICE_NAMES } from "../common.js";
import { beijingDay, clear, downloadText, field, formError, h, input, pagedTable, section, select, submitting, toast, when } from "../ui.js";

const dayStart = (day) => `${day}T00:00:00+08:00`;
const dayEnd = (day) => `${day}T23:59:59.999+08:00`;

export async function render(main) {
  main.append(h("h1", {}, "审计"), search(), verify());
}

// A template's own entries name it ("模板“养老金发放通知”第 2 版"); others about a template add its name.
function targetText(e) {
  if (!e.template_name) return e.target_name;
  if (e.target.startsWith("template:")) return e.target_name.replace(` ${e.template_id} `, `“${e.template_name}”`);
  return `${e.target_name}（模板“${e.template_name}”）`;
}

function search() {
  const from = input({ type: "date", value: beijingDay() });
  const to = input({ type: "date", value: beijingDay() });
  // Operators by name: the API takes a name, part of one or a username; where two people share a
  // name the list offers their usernames.
  const people = h("datalist", { id: "audit-operators" });
  const operator = input({ placeholder: "姓名或用户名", list: "audit-operators", autocomplete: "off" });
  const office = select([["", "全部单位"], ...Object.entries(OFFICE_NAMES)]);
  const template = select([["", "全部模板"]]);
  get("/audit/operators").then(({ operators }) => {
    const named = new Map();
    for (const o of operators) named.set(o.real_name, (named.get(o.real_name) || 0) + 1);
    clear(people, operators.map((o) => h("option", { value: named.get(o.real_name) > 1 ? o.username : o.real_name },
      `${o.real_name}（${o.username}，${o.office_name}）`)));
  }).catch(() => {});
  get("/templates").then(({ templates }) => {
    const sorted = [...templates].sort((a, b) => a.name.localeCompare(b.name, "zh-CN"));
    template.append(...sorted.map((t) => h("option", { value: t.template_id }, `${t.name}（${OFFICE_NAMES[t.office] || t.office}）`)));
  }).catch(() => {});
  const box = h("div", { id: "audit-results" });
  const pages = [];
  const query = (cursor) => ({ start: dayStart(from.value), end: dayEnd(to.value), operator: operator.value.trim(), office: office.value,
    template_id: template.value, limit: 50, cursor });
  const load = async (cursor) => {
    const answer = await get("/audit/entries", query(cursor));
    const more = answer.cursor ? h("button", { type: "button", onclick: () => { pages.push(cursor); load(answer.cursor); } }, "下一页") : null;
    const back = pages.length ? h("button", { type: "button", onclick: () => load(pages.pop()) }, "上一页") : null;
    clear(box, pagedTable([
      ["时间", (e) => when(e.at)], ["操作人", (e) => `${e.actor.real_name || "系统"}${e.actor.username ? "（" + e.actor.username + "）" : ""}`],
      ["单位", (e) => OFFICE_NAMES[e.office] || e.office || ""],
      ["操作", (e) => h("span", { class: "audit-action", title: e.action }, e.action_name)],
      ["对象", (e) => h("span", { class: "audit-target", title: e.target }, targetText(e))],
      ["变更", (e) => h("details", {}, h("summary", {}, "前后内容"), h("pre", {}, JSON.stringify({ before: e.before, after: e.after }, null, 2)))],
      ["链", (e) => `${e.chain} #${e.seq}`],
    ], answer.entries, { empty: "没有符合条件的记录", pageSize: 50 }), h("nav", { class: "pager", "aria-label": "审计分页" }, back, more));
  };
  const form = h("form", { "aria-label": "查询审计记录" },
    h("div", { class: "row" }, field("开始日期", from, { name: "start" }), field("结束日期", to, { name: "end" }),
      field("操作人", operator, { name: "operator" }), people, field("单位", office, { name: "office" }), field("模板", template, { name: "template_id" }),
      h("button", { type: "submit", class: "primary" }, "查询")), formError(), box);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    pages.length = 0;
    submitting(form, () => load(null));
  });
  return section("查询", form);
}

function verify() {
  const day = input({ type: "date", value: beijingDay() });
  const result = h("div", { id: "verification", "aria-live": "polite" });
  const form = h("form", { "aria-label": "校验与导出" },
    h("div", { class: "row" }, field("日期", day, { name: "day" }),
      h("button", { type: "submit", value: "verify", class: "primary" }, "校验审计链"),
      h("button", { type: "submit", value: "export" }, "导出当天（JSON Lines）")), formError(), result);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const exporting = event.submitter && event.submitter.value === "export";
    submitting(form, async () => {
      if (!exporting) {
        const answer = await get("/audit/verification", { day: day.value });
        clear(result, answer.intact
          ? h("p", { class: "notice" }, `${answer.day} 的审计链完整。`)
          : h("div", { class: "error-box" }, `${answer.day} 的审计链在 ${answer.broken.chain} 第 ${answer.broken.seq} 条处断裂：${answer.broken.message}`));
        return;
      }
      // The day's chains as the nightly archive writes them: a header line (each chain's length,
      // head hash and the verification result), then every entry with its hashes. The export is
      // itself recorded in the audit trail.
      const file = await download("/audit/export", { day: day.value });
      const lines = file.text.split("\n").filter(Boolean);
      const header = lines.length ? JSON.parse(lines[0]) : null;
      downloadText(file.filename || `audit-${day.value}.jsonl`, file.text, "application/x-ndjson");
      const entries = Math.max(0, lines.length - 1);
      clear(result, header && !header.verified
        ? h("div", { class: "error-box" }, `已导出 ${entries} 条；该日审计链在 ${header.broken.chain} 第 ${header.broken.seq} 条处断裂：${header.broken.message}`)
        : h("p", { class: "notice" }, `已导出 ${day.value} 的 ${entries} 条审计记录（审计链完整）。`));
      toast(`已导出 ${entries} 条`);
    });
  });
  return section("校验与导出", form);
}

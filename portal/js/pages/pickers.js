// Choosing by name instead of typing codes: templates by their names, event types from those
// granted to business systems, and where each template variable's value comes from among the
// fields of a sample event the author pastes.

import { get } from "../api.js";
import { OFFICE_NAMES } from "../common.js";
import { clear, h } from "../ui.js";

const VARIABLE_TYPE_NAMES = { text: "文本", name: "姓名", number: "数字", money: "金额", date: "日期", phone: "手机号码", code: "编码" };
// What every event carries besides its data (trigger_conditions' paths).
const EVENT_FIELDS = [["event_type", "事件类型"], ["occurred_at", "发生时间"], ["event_id", "事件编号"]];

// One read serves the pickers and name lookups of one page; a later page reads again, so a
// template approved meanwhile is offered.
let templates = null;
let readAt = 0;
async function allTemplates() {
  if (!templates || Date.now() - readAt > 5000) {
    readAt = Date.now();
    templates = get("/templates").then((answer) => answer.templates).catch(() => []);
  }
  return templates;
}

// Template ids to their names, for lists that hold ids ("养老金发放通知", or the id if unknown).
export async function templateNames() {
  return new Map((await allTemplates()).map((t) => [t.template_id, t.name]));
}

export function templateLabel(names, templateId) {
  return names.get(templateId) || templateId;
}

// A select of the active templates of ``category``, by name ("" first: none chosen).
export async function templatePicker(category, { chosen = "" } = {}) {
  const usable = (await allTemplates())
    .filter((t) => t.category === category && t.active_version)
    .sort((a, b) => a.name.localeCompare(b.name, "zh-CN"));
  const picker = h("select", {},
    h("option", { value: "" }, usable.length ? "请选择模板" : "（还没有已启用的此类模板）"),
    usable.map((t) => h("option", { value: t.template_id }, `${t.name}（${OFFICE_NAMES[t.office] || t.office}）`)));
  picker.value = chosen;
  return picker;
}

// A select of the event types business systems may send (their keys' grants).
export async function eventTypePicker() {
  let types = [];
  try {
    types = (await get("/event-types")).event_types;
  } catch {
    types = [];
  }
  return h("select", {},
    h("option", { value: "" }, types.length ? "请选择事件类型" : "（还没有授予业务系统的事件类型）"),
    types.map((t) => h("option", { value: t.event_type }, `${t.event_type}（${t.api_keys} 个业务系统可发送）`)));
}

// The paths a variable may take its value from, read off a sample event: its data's leaves
// ("data.amount", "data.period.month") and the fields every event has.
export function eventFields(sampleText) {
  const sample = JSON.parse(sampleText);
  if (!sample || typeof sample !== "object" || Array.isArray(sample)) throw new Error("样例事件须是一个 JSON 对象");
  const data = sample.data && typeof sample.data === "object" && !Array.isArray(sample.data) ? sample.data : sample;
  const found = [];
  const walk = (value, path) => {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value)) if (/^[A-Za-z][A-Za-z0-9_]*$/.test(key)) walk(inner, `${path}.${key}`);
    } else found.push([path, value]);
  };
  walk(data, "data");
  return found.filter(([path]) => path !== "data");
}

// Each variable of the chosen template with the event field it takes its value from; the
// fields are offered from a sample event, and any valid path may still be typed.
export function variableMapping(templateSelect, { legend = "变量取值" } = {}) {
  const listId = `event-fields-${Math.random().toString(36).slice(2, 8)}`;
  const options = h("datalist", { id: listId });
  const sample = h("textarea", { rows: "4", id: `${listId}-sample`,
    placeholder: '{"event_type": "pension.paid", "data": {"amount": "3250.00", "month": "2024-06"}}' });
  const sampleNote = h("div", { class: "hint", role: "status" }, "粘贴业务系统发送的一条事件（JSON），即可从其中的数据字段里选择。");
  const rows = h("div", { class: "variable-sources" });
  const fill = (fields) => clear(options,
    ...fields.map(([path, value]) => h("option", { value: path }, value === undefined ? "" : `样例：${String(value).slice(0, 20)}`)),
    ...EVENT_FIELDS.map(([path, name]) => h("option", { value: path }, name)));
  fill([]);
  sample.addEventListener("input", () => {
    if (!sample.value.trim()) {
      fill([]);
      sampleNote.textContent = "粘贴业务系统发送的一条事件（JSON），即可从其中的数据字段里选择。";
      return;
    }
    try {
      const fields = eventFields(sample.value);
      fill(fields);
      sampleNote.textContent = `样例中有 ${fields.length} 个数据字段：${fields.map(([path]) => path).join("、")}`;
    } catch (error) {
      sampleNote.textContent = `样例事件不是有效的 JSON：${error.message}`;
    }
  });
  const draw = async () => {
    if (!templateSelect.value) return clear(rows, h("p", { class: "hint" }, "选择模板后，在这里为每个变量选择取值的字段。"));
    const template = await get(`/templates/${templateSelect.value}`);
    const version = template.versions.find((v) => v.version === template.active_version);
    const variables = version ? version.variables : [];
    if (!variables.length) return clear(rows, h("p", { class: "hint" }, "该模板没有变量。"));
    clear(rows, variables.map((v) => {
      const id = `${listId}-${v.name}`;
      return h("div", { class: "field" },
        h("label", { for: id }, `\${${v.name}}（${VARIABLE_TYPE_NAMES[v.type] || v.type}，最多 ${v.max_length} 字）取自`),
        h("input", { type: "text", id, list: listId, "data-variable": v.name, autocomplete: "off", placeholder: "如 data.amount" }));
    }));
  };
  templateSelect.addEventListener("change", draw);
  draw();
  const node = h("fieldset", {}, h("legend", {}, legend),
    h("div", { class: "field" }, h("label", { for: sample.id }, "样例事件（可选）"), sample, sampleNote),
    rows, options,
    h("div", { class: "field-error", "data-error-for": "variables", role: "alert" }));
  return {
    node,
    value: () => Object.fromEntries([...rows.querySelectorAll("input[data-variable]")]
      .filter((i) => i.value.trim()).map((i) => [i.dataset.variable, i.value.trim()])),
  };
}

// A template's variables as staff fill them in, each as its template declares it: a date with a
// date picker and sent in the declared format (2026-12-31 or 2026年12月31日), numbers and codes
// with the keyboard they need, the declared length as a hint checked before submitting (never a
// maxlength that silently cuts what was typed).

import { field, input } from "./ui.js";

export const TYPE_NAMES = { text: "文本", name: "姓名", number: "数字", money: "金额", date: "日期", phone: "手机号码", code: "编码" };

export const DATE_FORMATS = [["", "两种写法均可（按填写的发送）"], ["iso", "2026-12-31"], ["chinese", "2026年12月31日"]];

const HINTS = {
  number: "填写数字，可带小数，如 12.5",
  money: "填写金额，如 1234.56（最多两位小数）",
  phone: "11 位手机号码",
  code: "只能由字母和数字组成",
  name: "中文或英文姓名",
};

// "2026-12-31" (a date picker's value) as the declared format writes it.
export function formatDate(iso, format) {
  if (!iso || format !== "chinese") return iso || "";
  const [year, month, day] = iso.split("-").map(Number);
  return `${year}年${month}月${day}日`;
}

// A date written either way as a date picker's "2026-12-31" ("" when it is no date).
export function isoDate(text) {
  const found = /^(\d{4})(?:-(\d{2})-(\d{2})|年(\d{1,2})月(\d{1,2})日)$/.exec(String(text || "").trim());
  if (!found) return "";
  const [year, month, day] = [found[1], found[2] || found[4], found[3] || found[5]];
  return `${year}-${month.padStart(2, "0")}-${day.padStart(2, "0")}`;
}

// One variable's labelled input (name ``values.<name>``, where the API's refusal of it lands).
export function variableField(spec, { value = "", oninput } = {}) {
  const name = `values.${spec.name}`;
  if (spec.type === "date") {
    const control = input({ type: "date", name, value: isoDate(value), oninput, onchange: oninput,
      "data-variable": spec.name, "data-format": spec.format || "" });
    const written = spec.format ? `发送时写作 ${formatDate("2026-12-31", spec.format)} 的形式` : "发送时写作 2026-12-31 的形式";
    return field(`变量 ${spec.name}（日期）`, control, { name, required: true, hint: written });
  }
  const numeric = ["number", "money", "phone"].includes(spec.type);
  const control = input({ name, value, oninput, maxlength: String(spec.max_length), "data-variable": spec.name,
    inputmode: spec.type === "phone" ? "numeric" : numeric ? "decimal" : null, autocomplete: "off" });
  return field(`变量 ${spec.name}（${TYPE_NAMES[spec.type] || spec.type}）`, control, { name, required: true, hint: HINTS[spec.type] });
}

// The values typed into ``box``'s variable fields, as they will be sent.
export function variableValues(box) {
  return Object.fromEntries([...box.querySelectorAll("[data-variable]")].map((control) => [
    control.dataset.variable,
    control.type === "date" ? formatDate(control.value, control.dataset.format) : control.value,
  ]));
}

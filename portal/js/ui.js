// Small DOM helpers shared by the pages: elements, labelled fields, errors beside the field
// they concern, paged tables, times in Beijing.

let ids = 0;

// h("button", {class: "primary", onclick: fn}, "保存")
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

// The mark of a field that must be filled: a "*" for the eye (screen readers hear
// aria-required on the control instead). No native ``required``: the API's own message, in
// Chinese and beside the field, is the one staff read.
export function requiredMark() {
  return h("span", { class: "required-mark", "aria-hidden": "true", title: "必填" }, "*");
}

// A labelled control with a place for its error. ``name`` is the API's field name.
export function field(label, control, { name, hint, required } = {}) {
  const id = control.id || `f${++ids}`;
  control.id = id;
  if (name) control.name = control.name || name;
  if (required) control.setAttribute("aria-required", "true");
  const error = h("div", { class: "field-error", role: "alert", "data-error-for": name || control.name || "" });
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label, required ? requiredMark() : null),
    control,
    hint ? h("div", { class: "hint" }, hint) : null,
    lengthHint(control),
    error,
  );
}

// Characters as the API counts them: code points, not the UTF-16 units ``maxlength`` counts.
const characters = (text) => [...text].length;

// A control's ``maxlength`` becomes a hint that counts what is typed and says by how much it is
// over, checked again on submit (``submitting``): the browser's own maxlength silently drops
// whatever is typed or pasted beyond it, and that cut text would be what is sent.
function lengthHint(control) {
  const max = control.maxLength;
  if (!(max > 0)) return null;
  control.removeAttribute("maxlength");
  control.dataset.maxLength = String(max);
  // Not a live region: read with the control (aria-describedby), not after every keystroke.
  const hint = h("div", { class: "hint length-hint", id: `${control.id}-length` });
  control.setAttribute("aria-describedby", [control.getAttribute("aria-describedby"), hint.id].filter(Boolean).join(" "));
  const update = () => {
    const typed = characters(control.value);
    const over = typed - max;
    hint.textContent = over > 0 ? `最多 ${max} 字，已输入 ${typed} 字，请删去 ${over} 字`
      : typed ? `最多 ${max} 字，已输入 ${typed} 字` : `最多 ${max} 字`;
    hint.classList.toggle("over", over > 0);
    if (over > 0) control.setAttribute("aria-invalid", "true");
    else control.removeAttribute("aria-invalid");
  };
  control.addEventListener("input", update);
  update();
  return hint;
}

// The controls of ``form`` holding more than their limit, as the API's details would name them.
function overLimit(form) {
  return [...form.querySelectorAll("[data-max-length]")]
    .filter((control) => !control.disabled && !control.closest("[hidden]") && characters(control.value) > Number(control.dataset.maxLength))
    .map((control) => ({
      field: control.name || null,
      message: `最多 ${control.dataset.maxLength} 字，当前 ${characters(control.value)} 字，请删减后再提交`,
    }));
}

export const input = (attrs = {}) => h("input", { type: "text", ...attrs });

export function select(options, attrs = {}) {
  return h(
    "select",
    attrs,
    options.map(([value, text]) => h("option", { value }, text)),
  );
}

// The API's errors beside the fields they concern: ``field`` and each ``details[].field``
// ("audience.districts.0" falls back to "audience.districts", then "audience").
export function showErrors(form, error) {
  clearErrors(form);
  const placed = new Set();
  const entries = [];
  if (error.details && error.details.length) {
    for (const d of error.details) if (d && d.field) entries.push([d.field, d.message || error.message]);
  }
  if (error.field && !entries.some(([f]) => f === error.field)) entries.unshift([error.field, error.message]);
  for (const [name, message] of entries) {
    const slot = slotFor(form, name);
    if (slot) {
      slot.textContent = slot.textContent ? `${slot.textContent}；${message}` : message;
      placed.add(name);
    }
  }
  const general = form.querySelector(".form-error");
  if (general && (placed.size === 0 || placed.size < entries.length)) general.textContent = error.message;
}

function slotFor(form, name) {
  let parts = String(name).split(".");
  while (parts.length) {
    const key = parts.join(".");
    const slot = form.querySelector(`[data-error-for="${CSS.escape(key)}"]`);
    if (slot) return slot;
    parts = parts.slice(0, -1);
  }
  return null;
}

export function clearErrors(form) {
  for (const slot of form.querySelectorAll(".field-error, .form-error")) slot.textContent = "";
}

export function formError() {
  return h("div", { class: "form-error", role: "alert" });
}

// Run ``action`` for a form: errors go beside their fields, the button waits meanwhile.
export async function submitting(form, action) {
  const buttons = [...form.querySelectorAll("button")];
  buttons.forEach((b) => (b.disabled = true));
  clearErrors(form);
  try {
    const over = overLimit(form);
    if (over.length) throw { message: "有内容超过字数上限，请删减后再提交", details: over.filter((d) => d.field) };
    return await action();
  } catch (error) {
    showErrors(form, error);
    return undefined;
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

const BEIJING = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hour12: false,
});

export function when(iso) {
  if (!iso) return "";
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? String(iso) : BEIJING.format(at).replaceAll("/", "-");
}

// Today's date in Beijing, "YYYY-MM-DD" (``offset`` days later or earlier).
export function beijingDay(offset = 0) {
  const at = new Date(Date.now() + offset * 86400000);
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(at);
}

export function toast(message, kind = "ok") {
  const box = document.getElementById("toast");
  box.className = `toast ${kind}`;
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (box.hidden = true), 6000);
}

// Tables whose columns sort, paged with their totals (tables.js); pages import it from here.
export { pagedTable } from "./tables.js";

export function badge(text, kind = "") {
  return h("span", { class: `badge ${kind}` }, text);
}

export function section(title, ...children) {
  return h("section", { class: "card" }, h("h2", {}, title), ...children);
}

export function downloadText(name, text, type = "text/plain;charset=utf-8") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = h("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function debounce(fn, ms = 300) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

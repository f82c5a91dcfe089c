// Personalised lists (个性化名单): a spreadsheet whose columns fill each recipient's own message.
// The file goes straight to storage (a presigned PUT), is checked in the background, and its
// result is shown here: counts, the first messages, the longest with its parts, the parts per
// message and in total, and the rejected rows (masked) with a download of all of them. The same
// result is shown to the reviewer (sends.js).

import { get, post } from "../api.js";
import { clear, downloadText, field, h, pagedTable, select, toast } from "../ui.js";
import { TYPE_NAMES, formatDate } from "../variables.js";

const FINAL = new Set(["checked", "failed", "removed"]);
const KIND_ID = { person: "身份证号", unit: "统一社会信用代码" };

// How each variable's column must be written, as the check reads it: a date in the template's
// declared format (the one it is sent in), every value within its declared length.
const WRITTEN = {
  name: () => "中文或英文",
  number: () => "可带小数，如 12.5",
  money: () => "如 1234.56（最多两位小数）",
  phone: () => "11 位",
  code: () => "只能由字母和数字组成",
  date: (v) => (v.format ? `写作 ${formatDate("2026-12-31", v.format)}` : "写作 2026-12-31 或 2026年12月31日（按所写的原样发送）"),
};

function columnNotes(kind, variables) {
  const variable = (v) => [TYPE_NAMES[v.type] || v.type, WRITTEN[v.type] ? WRITTEN[v.type](v) : null, `最多 ${v.max_length} 个字`];
  return [
    `${KIND_ID[kind]}：必填，每行一个，不能重复`,
    "手机号：可不填（通讯录中没有该对象的号码时才使用）",
    ...variables.map((v) => `${v.name}：${variable(v).filter(Boolean).join("，")}`),
  ].map((text) => h("li", {}, text));
}

// The browser PUTs the file to the presigned URL the API returns: it never passes through the API.
function put(url, headers, file, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("PUT", url);
    for (const [name, value] of Object.entries(headers || {})) request.setRequestHeader(name, value);
    request.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    request.onload = () => (request.status < 300 ? resolve() : reject(new Error(`文件上传失败（${request.status}）`)));
    request.onerror = () => reject(new Error("文件上传失败，请检查网络后重试"));
    request.send(file);
  });
}

export async function downloadSheetReport(sheetId) {
  try {
    const answer = await get(`/value-sheets/${sheetId}/report`);
    const response = await fetch(answer.url);
    if (!response.ok) throw new Error(`报告下载失败（${response.status}）`);
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: `名单被拒行-${sheetId}.csv`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (error) {
    toast(error.message, "bad");
  }
}

// What a checked list holds, as its author and its reviewer see it.
export function sheetResult(sheet) {
  if (sheet.status === "removed") return h("p", { class: "notice" }, "名单数据已按保留期限删除，仅保留文件摘要和行数。");
  if (sheet.status === "failed") return h("p", { class: "field-error", role: "alert" }, `名单检查未通过：${sheet.error}`);
  const preview = (rows, caption) => pagedTable([
    ["行号", (p) => String(p.row)],
    ["证件号码", (p) => p.id_masked],
    ["名单中的手机号", (p) => p.phone_masked || "未填写"],
    ["短信内容（手机上显示为）", (p) => p.text],
    ["字数", (p) => String(p.characters)],
    ["计费条数", (p) => String(p.parts)],
  ], rows, { caption, empty: "没有通过检查的行" });
  return h("div", { id: "sheet-summary" },
    h("p", {},
      h("span", { class: "stat", "data-stat": "rows" }, "总行数", h("b", {}, String(sheet.rows))),
      h("span", { class: "stat", "data-stat": "accepted" }, "通过", h("b", {}, String(sheet.accepted))),
      h("span", { class: "stat", "data-stat": "rejected" }, "被拒", h("b", {}, String(sheet.rejected))),
      h("span", { class: "stat", "data-stat": "total_parts" }, "合计计费条数", h("b", {}, String(sheet.total_parts)))),
    h("p", { id: "sheet-parts" }, "每条短信的计费条数：", sheet.parts.map((p) => `${p.parts} 条 ${p.messages} 人`).join("；") || "—"),
    sheet.unused_columns.length ? h("p", { class: "hint" }, `未使用的列：${sheet.unused_columns.join("、")}`) : null,
    sheet.longest ? h("div", { id: "sheet-longest" }, h("h3", {}, `最长的一条（第 ${sheet.longest.row} 行，${sheet.longest.characters} 字，${sheet.longest.parts} 条）`),
      h("div", { class: "preview" }, sheet.longest.text)) : null,
    preview(sheet.preview, `预览（前 ${sheet.preview.length} 行）`),
    sheet.rejected ? h("div", { id: "sheet-rejected" },
      pagedTable([
        ["行号", (r) => String(r.row)],
        ["证件号码（脱敏）", (r) => r.id_masked || "—"],
        ["手机号码（脱敏）", (r) => r.phone_masked || "—"],
        ["原因", (r) => r.reason],
      ], sheet.rejected_rows, { caption: `被拒行（共 ${sheet.rejected} 行${sheet.rejected > sheet.rejected_rows.length ? `，此处显示前 ${sheet.rejected_rows.length} 行` : ""}）` }),
      h("button", { type: "button", id: "download-sheet-report", onclick: () => downloadSheetReport(sheet.sheet_id) },
        `下载全部被拒行（CSV，号码已脱敏）`)) : null);
}

// The upload of a list for ``template()`` (its active version); ``onChange(sheet or null)``.
export function sheetUploader(template, onChange) {
  const kind = select([["person", "参保人员（身份证号）"], ["unit", "参保单位（统一社会信用代码）"]]);
  const file = h("input", { type: "file", accept: ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" });
  const bar = h("progress", { class: "progress", max: "100", value: "0", id: "sheet-progress", "aria-label": "名单上传和检查进度" });
  const state = h("p", { id: "sheet-state", "aria-live": "polite" });
  const result = h("div", { id: "sheet-result" });
  const error = h("div", { class: "field-error", role: "alert", "data-error-for": "sheet_id" });
  let sheet = null;
  const columns = () => {
    const { version } = template();
    return [KIND_ID[kind.value], "手机号", ...(version ? version.variables.map((v) => v.name) : [])];
  };
  const hint = h("div", { class: "hint", id: "sheet-columns" });
  const notes = h("ul", { class: "hint", id: "sheet-column-notes", "aria-label": "各列的填写要求" });
  const redrawHint = () => {
    hint.textContent = `第 1 行为表头：${columns().join("、")}。每行一人；手机号可不填（通讯录中没有号码时才使用）。变量列也可用“\${变量名}”作表头。最多 200,000 行，文件不超过 50 MB。`;
    const { version } = template();
    clear(notes, columnNotes(kind.value, version ? version.variables : []));
  };
  const show = (current) => {
    const names = { uploading: "等待上传", queued: "排队检查中", checking: "检查中", checked: "检查完成", failed: "检查未通过" };
    const total = current.rows_total || 0;
    bar.value = current.status === "checked" ? 100 : 10 + Math.round((total ? current.rows_done / total : 0) * 90);
    state.textContent = `${names[current.status] || current.status_name}：已检查 ${current.rows_done}${total ? ` / 约 ${total}` : ""} 行`;
  };
  const check = async () => {
    error.textContent = "";
    const chosen = file.files[0];
    const { templateId } = template();
    if (!templateId) throw new Error("请先选择模板");
    if (!chosen) throw new Error("请选择要上传的名单文件（CSV 或 XLSX）");
    sheet = null;
    onChange(null);
    clear(result);
    const created = await post("/value-sheets", { template_id: templateId, kind: kind.value });
    state.textContent = "正在上传文件…";
    await put(created.upload_url, created.headers, chosen, (share) => (bar.value = Math.round(share * 10)));
    let current = await post(`/value-sheets/${created.sheet_id}/start`);
    while (!FINAL.has(current.status)) {
      show(current);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      current = await get(`/value-sheets/${created.sheet_id}`);
    }
    show(current);
    clear(result, sheetResult(current));
    if (current.status === "checked" && current.accepted) {
      sheet = current;
      toast(`名单检查完成：通过 ${current.accepted} 行，被拒 ${current.rejected} 行`);
    }
    onChange(sheet);
  };
  const button = h("button", { type: "button", id: "sheet-check", onclick: async () => {
    button.disabled = true;
    try {
      await check();
    } catch (problem) {
      error.textContent = problem.message;
    } finally {
      button.disabled = false;
    }
  } }, "上传并检查名单");
  kind.addEventListener("change", () => { redrawHint(); sheet = null; onChange(null); clear(result); });
  redrawHint();
  const node = h("fieldset", { id: "sheet-upload" }, h("legend", {}, "个性化名单（每人的变量取值不同）"),
    field("名单对象", kind, { name: "sheet.kind" }), hint, notes,
    field("名单文件（Excel .xlsx 或 CSV）", file, { name: "sheet.file" }),
    h("div", { class: "actions" }, button,
      h("button", { type: "button", onclick: () => downloadText("名单表头样例.csv", `\ufeff${columns().join(",")}\r\n`, "text/csv;charset=utf-8") }, "下载表头样例")),
    bar, state, error, result);
  return { node, kind: () => kind.value, sheet: () => sheet, refresh: redrawHint };
}

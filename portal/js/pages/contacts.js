// Contacts: search with masked numbers, browse a district, reveal a number with a reason (for
// those who may), opt-out and opt-in on a citizen's request, and CSV imports uploaded straight
// to storage with their progress and the rejected-row report.

import { get, post } from "../api.js";
import { DISTRICTS } from "../common.js";
import { clear, field, formError, h, input, pagedTable, section, select, submitting, toast, when } from "../ui.js";


export async function render(main, ctx) {
  main.append(h("h1", {}, "通讯录"));
  const detail = h("div", { id: "contact-detail" });
  if (ctx.may("GET /contacts")) {
    main.append(search(ctx, detail), browse(ctx, detail), detail);
  }
  if (ctx.may("POST /contacts/opt-outs")) main.append(optOuts());
  if (ctx.may("POST /contacts/imports")) main.append(imports());
}

const BROWSE_ORDER = "按姓名或名称的拼音顺序排列（同音者按汉字，同名者次序固定），下一页接着本页排；点击列标题只重排本页";

// Contacts, each column sortable. Found ones (a few) show in name order (pinyin); a district's
// page (``partial``) keeps the server's order, which runs on across its pages (pinyin too, then
// the name, then the record: the browser's own pinyin sort may differ on a few names and would
// break that), and counts the page.
function summaryTable(contacts, ctx, detail, partial = false) {
  return pagedTable([
    ["姓名或名称", (c) => c.name],
    ["类型", (c) => c.kind_name],
    ["证件号码", (c) => c.id_masked],
    ["区县", (c) => c.district_name],
    ["手机号码", (c) => c.phone_masked || "无"],
    ["操作", (c) => h("button", { type: "button", "aria-label": `查看 ${c.name} 的详情`, onclick: () => showDetail(c.ref, ctx, detail) }, "详情")],
  ], contacts, partial
    ? { empty: "没有记录", caption: BROWSE_ORDER, partial, pageSize: 50 }
    : { empty: "没有找到", sort: { column: "姓名或名称" }, pageSize: 50 });
}

function search(ctx, detail) {
  const phone = input({ inputmode: "numeric", autocomplete: "off", maxlength: "32" });
  const kind = select([["person", "参保人员"], ["unit", "参保单位"]]);
  const id = input({ autocomplete: "off", maxlength: "32" });
  const found = h("div");
  const form = h("form", { "aria-label": "查找通讯录" },
    h("div", { class: "row" }, field("手机号码", phone, { name: "phone" }), h("span", {}, "或"),
      field("对象类型", kind, { name: "kind" }), field("身份证号码或统一社会信用代码", id, { name: "id" }),
      h("button", { type: "submit", class: "primary" }, "查找")),
    formError(), found);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(form, async () => {
      const body = phone.value.trim() ? { phone: phone.value.trim() } : { kind: kind.value, id: id.value.trim() };
      const answer = await post("/contacts/search", body);
      // Numbers typed in are not left on the screen.
      phone.value = "";
      id.value = "";
      clear(found, summaryTable(answer.contacts, ctx, detail));
    });
  });
  return section("查找（号码只放在请求内容中，不出现在网址里）", form);
}

function browse(ctx, detail) {
  const own = ctx.me.roles.includes("district_operator");
  const district = select(DISTRICTS.filter(([code]) => !own || code === ctx.me.office));
  const kind = select([["person", "参保人员"], ["unit", "参保单位"]]);
  const found = h("div");
  const pages = [];
  const load = async (cursor) => {
    const answer = await get("/contacts", { kind: kind.value, district: district.value, cursor, limit: 50 });
    const more = answer.cursor
      ? h("button", { type: "button", onclick: () => { pages.push(cursor); load(answer.cursor); } }, "下一页")
      : null;
    const back = pages.length ? h("button", { type: "button", onclick: () => load(pages.pop()) }, "上一页") : null;
    // The total is the district's (its counter); the last page is the one without a cursor.
    const number = pages.length + 1;
    const count = Math.max(number, Math.ceil(answer.total / 50));
    const last = answer.cursor ? "" : "（最后一页）";
    clear(found, summaryTable(answer.contacts, ctx, detail, true), h("nav", { class: "pager", "aria-label": "通讯录分页" },
      back, h("span", { class: "district-total", "data-total": String(answer.total) }, `第 ${number} / ${count} 页，共 ${answer.total} 条${last}`), more));
  };
  const form = h("form", { "aria-label": "按区县浏览" }, h("div", { class: "row" }, field("区县", district, { name: "district" }),
    field("对象类型", kind, { name: "kind" }), h("button", { type: "submit" }, "浏览")), formError(), found);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    pages.length = 0;
    submitting(form, () => load(null));
  });
  return section("按区县浏览", form);
}

async function showDetail(ref, ctx, detail) {
  const c = await get(`/contacts/${ref}`);
  const reveal = h("div", { id: "reveal" });
  if (ctx.may("POST /contacts/{ref}/reveal") && c.phone_masked) {
    const reason = input({ maxlength: "200" });
    const form = h("form", { "aria-label": "查看完整号码" }, h("div", { class: "row" },
      field("查看完整号码的事由（记入审计）", reason, { name: "reason", required: true }), h("button", { type: "submit" }, "查看完整号码")), formError());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submitting(form, async () => {
        const answer = await post(`/contacts/${ref}/reveal`, { reason: reason.value });
        clear(reveal, h("p", { class: "notice" }, `完整号码：${answer.phone}（${when(answer.revealed_at)} 已记入审计）`));
      });
    });
    reveal.append(form);
  }
  clear(detail, section(`${c.name}（${c.kind_name}）`,
    h("dl", { class: "facts" },
      h("dt", {}, "证件号码"), h("dd", {}, c.id_masked),
      h("dt", {}, "区县"), h("dd", {}, c.district_name),
      h("dt", {}, "当前号码"), h("dd", {}, c.phone_masked || "无"),
      h("dt", {}, "宣传短信"), h("dd", {}, c.opted_out === null ? "" : c.opted_out ? "已退订" : "接收"),
      h("dt", {}, "险种"), h("dd", {}, (c.insurance_names || []).join("、")),
      h("dt", {}, "标签"), h("dd", {}, (c.tags || []).join("、"))),
    pagedTable([["号码", (p) => p.phone_masked], ["来源", (p) => p.source_name], ["采集时间", (p) => when(p.collected_at)],
      ["已核验", (p) => (p.verified ? "是" : "否")], ["当前使用", (p) => (p.in_use ? "是" : "")]], c.phones,
      { caption: "号码历史", sort: { column: "采集时间", descending: true } }),
    reveal));
}

function optOuts() {
  const phone = input({ inputmode: "numeric", autocomplete: "off", maxlength: "32" });
  const reason = input({ maxlength: "200", placeholder: "如：本人来电要求退订" });
  const result = h("div", { "aria-live": "polite" });
  const form = h("form", { "aria-label": "退订与恢复" },
    h("div", { class: "row" }, field("手机号码", phone, { name: "phone" }), field("事由", reason, { name: "reason" })),
    formError(),
    h("div", { class: "actions" },
      h("button", { type: "submit", value: "out", class: "danger" }, "退订宣传短信"),
      h("button", { type: "submit", value: "in" }, "恢复接收")),
    result);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const out = event.submitter && event.submitter.value === "out";
    submitting(form, async () => {
      const answer = await post(out ? "/contacts/opt-outs" : "/contacts/opt-ins", { phone: phone.value.trim(), reason: reason.value });
      phone.value = "";
      clear(result, h("p", { class: "notice" }, `${answer.phone_masked}：${answer.opted_out ? "已退订宣传类短信" : "已恢复接收宣传类短信"}` +
        (answer.applied ? "" : "（已有更新的选择，本次未改变当前状态）")));
    });
  });
  return section("应本人要求退订或恢复接收宣传类短信", form);
}

// The browser PUTs the file to the presigned URL the API returns: it never passes through the API.
function upload(url, headers, file, onProgress) {
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

function imports() {
  const file = input({ type: "file", accept: ".csv,text/csv" });
  const bar = h("progress", { class: "progress", max: "100", value: "0", id: "import-progress", "aria-label": "导入进度" });
  const state = h("p", { id: "import-state", "aria-live": "polite" });
  const report = h("div", { id: "import-report" });
  const form = h("form", { "aria-label": "导入通讯录" },
    field("CSV 文件（列：类型、证件号码、姓名、区县、手机号码，可选：来源、已核验、险种、标签…）", file, { name: "file" }),
    formError(), h("button", { type: "submit", class: "primary" }, "上传并导入"), bar, state, report);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(form, async () => {
      const chosen = file.files[0];
      if (!chosen) throw { message: "请选择要导入的 CSV 文件", field: "file", details: [] };
      clear(report);
      const created = await post("/contacts/imports");
      state.textContent = "正在上传文件…";
      await upload(created.upload_url, created.headers, chosen, (share) => (bar.value = Math.round(share * 10)));
      let progress = await post(`/contacts/imports/${created.import_id}/start`);
      while (!["done", "failed"].includes(progress.status)) {
        draw(progress);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        progress = await get(`/contacts/imports/${created.import_id}`);
      }
      draw(progress);
      if (progress.status === "failed") throw { message: `导入失败：${progress.error || "文件无法读取"}`, field: "file", details: [] };
      if (progress.rejected) {
        report.append(h("button", { type: "button", id: "download-report", onclick: () => downloadReport(created.import_id) },
          `下载被拒行报告（${progress.rejected} 行，号码已脱敏）`));
      }
      toast(`导入完成：接受 ${progress.accepted} 行，拒绝 ${progress.rejected} 行`);
    });
  });
  const draw = (p) => {
    const share = p.rows_total ? p.rows_done / p.rows_total : 0;
    bar.value = 10 + Math.round(share * 90);
    const names = { uploading: "等待上传", queued: "排队中", running: "导入中", done: "已完成", failed: "失败" };
    state.textContent = `${names[p.status] || p.status}：已处理 ${p.rows_done} / ${p.rows_total} 行，接受 ${p.accepted} 行，拒绝 ${p.rejected} 行`;
  };
  return section("导入通讯录（CSV）", form);
}

async function downloadReport(importId) {
  try {
    const answer = await get(`/contacts/imports/${importId}/report`);
    const response = await fetch(answer.url);
    if (!response.ok) throw new Error(`报告下载失败（${response.status}）`);
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: `被拒行报告-${importId}.csv`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (error) {
    toast(error.message, "bad");
  }
}

// Templates: list and filter, the editor with a live count and the API's content check as you
// type (forbidden words from the reviewers' current list included), submission, the
// review queue (approve, reject with a reason), carrier filing status and version history.

import { get, post, put } from "../api.js";
import { CATEGORY_NAMES, DISTRICTS, OFFICE_NAMES, signatureOf, statusBadge } from "../common.js";
import { TERMS } from "../glossary.js";
import { measure, placeholders } from "../sms.js";
import { DATE_FORMATS } from "../variables.js";
import { reviewTemplates } from "./review.js";
import { badge, beijingDay, clear, debounce, field, formError, h, input, pagedTable, section, select, submitting, toast, when } from "../ui.js";

const STATUS_NAMES = {
  draft: "草稿", submitted: "待审核", approved: "审核通过，待报备", rejected: TERMS.refusedState,
  filed: "已报备，运营商审核中", carrier_approved: "运营商已通过，未到生效日期", carrier_rejected: "运营商未通过",
  active: "已启用", retired: "已停用", expired: "已过期",
};
const VARIABLE_TYPES = [["text", "文本"], ["name", "姓名"], ["number", "数字"], ["money", "金额"], ["date", "日期"], ["phone", "手机号码"], ["code", "编码"]];

export async function render(main, ctx, args) {
  const [first, ...rest] = args;
  const tabs = [["", "模板列表"]];
  if (ctx.may("POST /templates")) tabs.push(["new", "新建模板"]);
  if (ctx.may("GET /template-reviews")) tabs.push(["review", "待审核"]);
  if (ctx.may("GET /forbidden-words")) tabs.push(["words", "禁用词"]);
  const current = first || "";
  main.append(
    h("h1", {}, "短信模板"),
    h("nav", { class: "tabs", "aria-label": "模板" },
      tabs.map(([path, title]) => h("a", { href: `#/templates${path ? "/" + path : ""}`, "aria-current": current === path ? "page" : false }, title))),
  );
  const area = h("div");
  main.append(area);
  if (current === "") return list(area, ctx);
  if (current === "new") return editor(area, ctx, null);
  if (current === "review") return reviewTemplates(area, ctx, rest.join("/"));
  if (current === "words") return words(area);
  return detail(area, ctx, current, rest);
}

function latest(template) {
  const versions = template.versions || [];
  return versions.find((v) => v.version === template.latest_version) || versions[versions.length - 1];
}

async function list(area, ctx) {
  const office = select([["", "全部单位"], ...Object.entries(OFFICE_NAMES)], { "aria-label": "单位" });
  const status = select([["", "全部状态"], ...Object.entries(STATUS_NAMES)], { "aria-label": "状态" });
  const words = input({ type: "search", placeholder: "名称或内容", "aria-label": "按名称或内容筛选" });
  const results = h("div");
  const load = async () => {
    const answer = await get("/templates", { office: office.value, status: status.value });
    const needle = words.value.trim();
    const rows = answer.templates.filter((t) => {
      const v = latest(t);
      return !needle || t.name.includes(needle) || (v && v.text.includes(needle));
    });
    clear(results, pagedTable(
      [
        ["名称", (t) => h("a", { href: `#/templates/${t.template_id}` }, t.name)],
        ["类别", (t) => CATEGORY_NAMES[t.category]],
        ["单位", (t) => OFFICE_NAMES[t.office] || t.office],
        ["最新版本", (t) => { const v = latest(t); return v ? h("span", {}, `第 ${v.version} 版 `, statusBadge(v.status, v.status_name)) : ""; }],
        ["启用版本", (t) => (t.active_version ? `第 ${t.active_version} 版` : "无")],
      ],
      rows,
      { empty: "没有符合条件的模板" },
    ));
  };
  for (const control of [office, status]) control.addEventListener("change", load);
  words.addEventListener("input", debounce(load));
  area.append(section("筛选", h("div", { class: "row" }, field("单位", office), field("状态", status), field("关键字", words))), results);
  await load();
}

// Which categories and owning offices this account may write (the API checks again).
function authoring(ctx) {
  const me = ctx.me;
  const options = [];
  if (ctx.has("city_operator") && me.office === "city") {
    options.push(["targeted", ["city", ...DISTRICTS.map(([d]) => d)]], ["publicity", ["city", ...DISTRICTS.map(([d]) => d)]],
      ["triggered", ["city"]], ["subscription", ["city"]], ["hangup", ["hotline"]]);
  }
  if (ctx.has("district_operator")) options.push(["targeted", [me.office]], ["publicity", [me.office]]);
  if (ctx.has("hotline_manager") && !options.some(([c]) => c === "hangup")) options.push(["hangup", ["hotline"]]);
  if (ctx.has("it_ops")) options.push(["system", ["it"]]);
  return new Map(options);
}

function variableRow(spec, onChange, onRemove) {
  const name = input({ value: spec.name || "", "aria-label": "变量名", pattern: "[A-Za-z_][A-Za-z0-9_]*" });
  const type = select(VARIABLE_TYPES, { "aria-label": "变量类型" });
  type.value = spec.type || "text";
  const max = input({ type: "number", min: "1", max: "500", value: String(spec.max_length || 10), "aria-label": "最大长度" });
  // A date's written form, sent whichever way it is filled in (a date picker in the send form).
  const format = select(DATE_FORMATS, { "aria-label": "日期写法" });
  format.value = spec.format || "";
  const showFormat = () => (format.hidden = type.value !== "date");
  showFormat();
  type.addEventListener("change", showFormat);
  const row = h("div", { class: "row variable" }, name, type, max, format,
    h("button", { type: "button", "aria-label": `删除变量 ${spec.name || ""}`, onclick: () => { row.remove(); onRemove(); } }, "删除"));
  for (const control of [name, type, max, format]) control.addEventListener("input", onChange);
  row.read = () => ({ name: name.value.trim(), type: type.value, max_length: Number(max.value) || 1,
    format: type.value === "date" && format.value ? format.value : null });
  return row;
}

// New template (``base`` null), a draft's edit or a new version of ``base``.
async function editor(area, ctx, base, { template, mode = "new" } = {}) {
  const allowed = authoring(ctx);
  if (!base && !allowed.size) {
    area.append(h("p", {}, "您的角色不能编写模板。"));
    return;
  }
  const name = input({ value: base ? base.name : "", maxlength: "30" });
  const category = select([...allowed.keys()].map((c) => [c, CATEGORY_NAMES[c]]), { disabled: Boolean(base) });
  const office = select([]);
  const text = h("textarea", { rows: "5", maxlength: "500" }, base ? base.text : "");
  const today = beijingDay();
  const validFrom = input({ type: "date", value: base ? base.valid_from : today });
  const validUntil = input({ type: "date", value: base ? base.valid_until : `${Number(today.slice(0, 4)) + 1}${today.slice(4)}` });
  const remark = input({ value: base ? base.remark : "", maxlength: "200" });
  const variables = h("div", { class: "variables" });
  const counter = h("div", { class: "counter", id: "length-counter", "aria-live": "polite" });
  const preview = h("div", { class: "preview", id: "message-preview" });
  const findings = h("ul", { class: "findings", id: "content-findings", "aria-live": "polite" });

  if (base) {
    clear(category, h("option", { value: base.category }, CATEGORY_NAMES[base.category]));
    clear(office, h("option", { value: base.office }, OFFICE_NAMES[base.office]));
    office.disabled = true;
  }
  const fillOffices = () => {
    if (base) return;
    const offices = allowed.get(category.value) || [];
    clear(office, offices.map((o) => h("option", { value: o }, OFFICE_NAMES[o] || o)));
  };
  const specs = () => [...variables.querySelectorAll(".variable")].map((row) => row.read()).filter((s) => s.name);
  // The content check runs on the API (the same review as on submission); only the latest
  // answer is shown, however the requests overtake one another.
  let asked = 0;
  const check = debounce(async () => {
    const mine = ++asked;
    try {
      const answer = await post("/templates/content-check", {
        text: text.value, category: category.value, office: office.value, variables: specs(),
      });
      if (mine !== asked) return;
      findings.setAttribute("aria-busy", "false");
      clear(findings, answer.findings.length
        ? answer.findings.map((f) => h("li", { class: f.level, "data-code": f.code }, f.message))
        : h("li", { class: "info" }, "未发现问题"));
    } catch (error) {
      if (mine !== asked) return;
      findings.setAttribute("aria-busy", "false");
      clear(findings, h("li", { class: "warn" }, `内容检查暂不可用：${error.message}`));
    }
  }, 400);
  const refresh = async () => {
    const signature = await signatureOf(office.value);
    const length = measure(text.value, signature);
    counter.textContent = length.too_long
      ? `含签名共 ${length.characters} 字，超过 500 字的上限`
      : `含签名共 ${length.characters} 字，按 ${length.parts} 条计费（${length.encoding}，每条 ${length.per_part}）`;
    preview.textContent = signature ? `【${signature}】${text.value}` : text.value;
    findings.setAttribute("aria-busy", "true");
    check();
  };
  const addVariable = (spec) => variables.append(variableRow(spec, refresh, refresh));
  for (const spec of base ? base.variables : []) addVariable(spec);
  const declareMissing = () => {
    const known = new Set(specs().map((s) => s.name));
    for (const used of placeholders(text.value)) if (!known.has(used)) { addVariable({ name: used, type: "text", max_length: 10 }); known.add(used); }
    refresh();
  };

  category.addEventListener("change", () => { fillOffices(); refresh(); });
  office.addEventListener("change", refresh);
  text.addEventListener("input", refresh);
  fillOffices();

  const form = h("form", { class: "card", "aria-label": "模板编辑" },
    h("h2", {}, mode === "new" ? "新建模板" : mode === "draft" ? `修改草稿（第 ${base.version} 版）` : `新建版本（基于第 ${base.version} 版）`),
    h("div", { class: "grid2" },
      h("div", {},
        field("模板名称", name, { name: "name", required: true }),
        h("div", { class: "row" }, field("类别", category, { name: "category", required: true }), field("所属单位（决定签名）", office, { name: "office", required: true })),
        field("短信内容（变量写作 ${name}）", text, { name: "text", required: true, hint: "签名由系统按所属单位自动加上；宣传类须以“拒收请回复R”结尾" }),
        h("fieldset", {}, h("legend", {}, "变量"), variables,
          h("div", { "data-error-for": "variables", class: "field-error", role: "alert" }),
          h("div", { class: "actions" },
            h("button", { type: "button", onclick: () => addVariable({ name: "", type: "text", max_length: 10 }) }, "添加变量"),
            h("button", { type: "button", onclick: declareMissing }, "从内容中识别变量"))),
        h("div", { class: "row" }, field("有效期开始", validFrom, { name: "valid_from", required: true }), field("有效期结束", validUntil, { name: "valid_until", required: true })),
        field("用途说明（报备运营商用）", remark, { name: "remark", required: true }),
      ),
      h("div", {}, h("h3", {}, "字数与条数"), counter, h("h3", {}, "手机上显示为"), preview, h("h3", {}, "内容检查"), findings),
    ),
    formError(),
    h("div", { class: "actions" },
      h("button", { type: "submit", value: "save" }, "保存草稿"),
      h("button", { type: "submit", value: "submit", class: "primary" }, "保存并提交审核")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const andSubmit = event.submitter && event.submitter.value === "submit";
    submitting(form, async () => {
      const content = {
        name: name.value, text: text.value, variables: specs(),
        valid_from: validFrom.value, valid_until: validUntil.value, remark: remark.value,
      };
      let version;
      let templateId;
      if (mode === "new") {
        const created = await post("/templates", { ...content, category: category.value, office: office.value });
        templateId = created.template_id;
        version = created.latest_version;
      } else if (mode === "draft") {
        templateId = template.template_id;
        version = (await put(`/templates/${templateId}/versions/${base.version}`, content)).version;
      } else {
        templateId = template.template_id;
        version = (await post(`/templates/${templateId}/versions`, content)).version;
      }
      if (andSubmit) await post(`/templates/${templateId}/versions/${version}/submission`);
      toast(andSubmit ? "已提交审核" : "草稿已保存");
      ctx.navigate(`#/templates/${templateId}`);
    });
  });
  clear(area, form);
  await refresh();
}

function findingList(list) {
  if (!list || !list.length) return h("p", { class: "hint" }, "无");
  return h("ul", { class: "findings" }, list.map((f) => h("li", { class: f.level }, f.message)));
}

function versionFacts(v) {
  return h("dl", { class: "facts" },
    h("dt", {}, "状态"), h("dd", {}, statusBadge(v.status, v.status_name)),
    h("dt", {}, "内容"), h("dd", { class: "preview" }, v.signature ? `【${v.signature}】${v.text}` : v.text),
    h("dt", {}, "有效期"), h("dd", {}, `${v.valid_from} 至 ${v.valid_until}`),
    h("dt", {}, "编写人"), h("dd", {}, `${v.author.real_name}，${when(v.created_at)}`),
    v.reviewer ? [h("dt", {}, "审核人"), h("dd", {}, `${v.reviewer.real_name}，${when(v.reviewed_at)}${v.review_note ? "：" + v.review_note : ""}`)] : null,
    v.reject_reason ? [h("dt", {}, TERMS.refuseReason), h("dd", { class: "reason" }, v.reject_reason)] : null,
    carrierFilings(v),
    v.end_reason ? [h("dt", {}, "结束原因"), h("dd", {}, v.end_reason)] : null,
  );
}

// One line per carrier the version is filed with (阿里云：已通过 / 腾讯云：被拒：原因), with the
// carrier's template id and when it was filed: a message goes only through a carrier that approved it.
const FILING_KINDS = { approved: "ok", rejected: "bad", under_review: "warn", filing: "warn" };

function carrierFilings(v) {
  const filings = Object.values(v.carrier_filings || {});
  if (!filings.length) return null;
  return [h("dt", {}, "运营商报备"), h("dd", {}, h("ul", { class: "carrier-filings" }, filings.map((f) =>
    h("li", { "data-carrier": f.carrier, "data-state": f.state },
      badge(f.line, FILING_KINDS[f.state]),
      f.template_id ? h("span", { class: "hint" }, " 模板编号 ", h("span", { class: "carrier-code" }, f.template_id),
        f.filed_at ? `，${when(f.filed_at)} 报备` : "") : null))))];
}

async function detail(area, ctx, templateId, rest) {
  const template = await get(`/templates/${templateId}`);
  const versions = [...template.versions].sort((a, b) => b.version - a.version);
  const newest = versions[0];
  if (rest[0] === "edit" && newest.status === "draft") return editor(area, ctx, newest, { template, mode: "draft" });
  if (rest[0] === "version") return editor(area, ctx, newest, { template, mode: "version" });
  const mine = newest.author.account_id === ctx.me.account_id;
  const actions = h("div", { class: "actions" });
  if (ctx.may("POST /templates")) {
    if (newest.status === "draft" && mine) {
      actions.append(
        h("a", { href: `#/templates/${templateId}/edit` }, h("button", { type: "button" }, "修改草稿")),
        h("button", { type: "button", class: "primary", onclick: async () => {
          try { await post(`/templates/${templateId}/versions/${newest.version}/submission`); toast("已提交审核"); ctx.navigate(`#/templates/${templateId}`); }
          catch (error) { toast(error.message, "bad"); }
        } }, "提交审核"));
    }
    if (!["draft", "submitted", "approved", "filed", "carrier_approved"].includes(newest.status)) {
      actions.append(h("a", { href: `#/templates/${templateId}/version` }, h("button", { type: "button" }, "修改（新建版本）")));
    }
  }
  area.append(
    section(`${template.name}（${CATEGORY_NAMES[template.category]}，${OFFICE_NAMES[template.office]}）`,
      h("p", {}, template.active_version ? `启用中：第 ${template.active_version} 版` : "暂无启用的版本"),
      h("h3", {}, `最新：第 ${newest.version} 版`), versionFacts(newest),
      h("h3", {}, "内容检查结果"), findingList(newest.findings), actions),
    section("版本历史", pagedTable(
      [["版本", (v) => `第 ${v.version} 版`], ["状态", (v) => statusBadge(v.status, v.status_name)], ["内容", (v) => v.text],
        ["编写人", (v) => v.author.real_name], ["审核", (v) => (v.reviewer ? `${v.reviewer.real_name} ${when(v.reviewed_at)}` : "")],
        ["原因", (v) => v.reject_reason || v.carrier_reason || v.end_reason || ""],
        ["运营商报备", (v) => Object.values(v.carrier_filings || {}).map((f) => f.line).join("；")]],
      versions, { caption: "每个版本都保留备查" })),
  );
}

async function words(area) {
  const box = h("div");
  const word = input({ maxlength: "30" });
  const form = h("form", { class: "row", "aria-label": "添加禁用词" }, field("禁用词", word, { name: "word" }), formError(),
    h("button", { type: "submit", class: "primary" }, "添加"));
  const draw = (list) => clear(box, pagedTable(
    [["词", (w) => w.word], ["来源", (w) => (w.source === "seed" ? "初始词表" : `审核员添加（${w.added_by || ""}）`)],
      ["", (w) => h("button", { type: "button", "aria-label": `删除禁用词 ${w.word}`, onclick: async () => draw((await post("/forbidden-words/removal", { word: w.word })).words) }, "删除")]],
    list, { pageSize: 30 }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(form, async () => { draw((await post("/forbidden-words", { word: word.value })).words); word.value = ""; });
  });
  area.append(section("禁用词表（《电信条例》第五十七条）", form, box));
  draw((await get("/forbidden-words")).words);
}

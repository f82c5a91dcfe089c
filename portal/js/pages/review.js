// The reviewers' queues of templates and send requests: a table of what waits, oldest first, and
// beside it the detail of one item with everything the approval covers (text, signature, parts,
// variables with their types and lengths, the purpose filed with the carrier, audience and
// timing). A decision stays on the page: its outcome is announced and the next item opens, so a
// reviewer works through the queue without losing their place.

import { get, post } from "../api.js";
import { CATEGORY_NAMES, OFFICE_NAMES, audienceText, statusBadge } from "../common.js";
import { TERMS } from "../glossary.js";
import { measure } from "../sms.js";
import { DATE_FORMATS } from "../variables.js";
import { clear, field, formError, h, input, submitting, when } from "../ui.js";
import { followUpFacts } from "./follow_ups.js";
import { reminderFacts } from "./reminders.js";
import { sheetResult } from "./sheets.js";

const VARIABLE_TYPE_NAMES = { text: "文本", name: "姓名", number: "数字", money: "金额", date: "日期", phone: "手机号码", code: "编码" };

// One queue: how to read it, name its items and show and decide one of them.
function queue(area, ctx, kind, selected) {
  const table = h("div", { class: "table-wrap" });
  const outcome = h("div", { class: "review-outcome", role: "status", "aria-live": "polite" });
  const detail = h("div", { class: "review-detail" });
  const title = h("h2", { id: "review-queue-title" }, kind.title);
  area.append(h("section", { class: "card review-queue", "aria-labelledby": "review-queue-title" }, title, table), outcome, detail);
  let items = [];
  let current = null;
  let opened = 0; // only the latest opening draws, however their reads overtake one another

  const open = async (item, { focus = true } = {}) => {
    const mine = ++opened;
    current = item;
    for (const row of table.querySelectorAll("tr[data-key]")) row.classList.toggle("selected", row.dataset.key === (item && kind.key(item)));
    for (const row of table.querySelectorAll("tr[data-key] a")) row.toggleAttribute("aria-current", row.closest("tr").dataset.key === (item && kind.key(item)));
    if (!item) {
      clear(detail);
      history.replaceState(null, "", `#/${kind.path}`);
      return;
    }
    history.replaceState(null, "", `#/${kind.path}/${kind.key(item)}`);
    clear(detail, h("p", { class: "loading" }, "正在加载…"));
    const card = await kind.detail(item, ctx, decide, skip);
    if (mine !== opened || !area.isConnected) return;
    clear(detail, card);
    if (focus) card.querySelector("h2")?.focus();
  };

  // After a decision: say what became of it, read the queue again and open the item that
  // followed the decided one (or the first, when it was the last).
  async function decide(item, said) {
    const position = items.findIndex((i) => kind.key(i) === kind.key(item));
    clear(outcome, h("p", { class: "notice" }, said));
    await load();
    const next = items.find((i, at) => at >= position && kind.key(i) !== kind.key(item)) || items[0] || null;
    await open(next);
    // The last item decided: the focus goes to the queue's heading instead of the page's body.
    if (!next) {
      title.setAttribute("tabindex", "-1");
      title.focus();
    }
  }

  // Choosing the item already open keeps what the reviewer typed there; it only moves focus.
  const reopen = (item) => {
    if (current && kind.key(current) === kind.key(item) && detail.querySelector("h2")) detail.querySelector("h2").focus();
    else open(item);
  };

  const skip = () => {
    if (!current || items.length < 2) return;
    const at = items.findIndex((i) => kind.key(i) === kind.key(current));
    open(items[(at + 1) % items.length]);
  };

  async function load() {
    items = await kind.load(ctx);
    title.textContent = `${kind.title}（共 ${items.length} 件）`;
    clear(table, h("table", {},
      h("caption", {}, "按提交时间排列，先提交的在前"),
      h("thead", {}, h("tr", {}, ["序号", ...kind.columns.map(([heading]) => heading)].map((heading) => h("th", { scope: "col" }, heading)))),
      h("tbody", {}, items.length
        ? items.map((item, at) => h("tr", { "data-key": kind.key(item) },
          h("td", {}, String(at + 1)),
          kind.columns.map(([, cell], column) => h("td", {}, column === 0
            ? h("a", { href: `#/${kind.path}/${kind.key(item)}`, onclick: (event) => { event.preventDefault(); reopen(item); } }, cell(item))
            : cell(item)))))
        : h("tr", {}, h("td", { colspan: String(kind.columns.length + 1), class: "empty" }, kind.done)))));
  }

  return {
    async start() {
      await load();
      const named = items.find((i) => kind.key(i) === selected);
      // An address naming the item (a link from 我的工作) brings the reader to it.
      await open(named || items[0] || null, { focus: Boolean(named) });
    },
  };
}

// The decision form every detail ends with: approve, reject with a reason, or look at the next.
function decisionForm(label, { approveText, onApprove, onReject, onSkip, mine }) {
  const reason = h("textarea", { rows: "2", maxlength: "300" });
  const form = h("form", { class: "review-decision", "aria-label": label });
  if (mine) {
    form.append(h("p", { class: "notice" }, "这是您本人提交的，须由其他审核员审核。"),
      h("div", { class: "actions" }, h("button", { type: "button", onclick: onSkip }, "下一件")));
    return form;
  }
  form.append(
    field(TERMS.refuseReason, reason, { name: "reason", hint: TERMS.refuseHint }),
    formError(),
    h("div", { class: "actions" },
      h("button", { type: "submit", value: "approve", class: "primary" }, approveText),
      h("button", { type: "submit", value: "reject", class: "danger" }, TERMS.refuse),
      h("button", { type: "button", onclick: onSkip }, "跳过，看下一件")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const approve = !event.submitter || event.submitter.value === "approve";
    submitting(form, () => (approve ? onApprove() : onReject(reason.value)));
  });
  return form;
}

// How a date variable is written when sent, as the template declares it.
function dateFormat(format) {
  const found = DATE_FORMATS.find(([value]) => value === (format || ""));
  return found ? found[1] : format;
}

function variablesTable(variables, values) {
  if (!variables || !variables.length) return h("p", { class: "hint" }, "无变量");
  return h("table", { class: "review-variables" },
    h("thead", {}, h("tr", {}, ["变量", "类型", "格式", "最多字数", values ? "本次取值" : null].filter(Boolean).map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, variables.map((v) => h("tr", {},
      h("td", {}, h("code", {}, `\${${v.name}}`)),
      h("td", {}, VARIABLE_TYPE_NAMES[v.type] || v.type),
      h("td", {}, v.type === "date" ? dateFormat(v.format) : "—"),
      h("td", {}, `${v.max_length} 字`),
      values ? h("td", {}, values[v.name] ?? "（按名单逐人填写）") : null))));
}

function findingList(list) {
  if (!list || !list.length) return h("p", { class: "hint" }, "未发现问题");
  return h("ul", { class: "findings" }, list.map((f) => h("li", { class: f.level }, f.message)));
}

function partsLine(text, signature) {
  const length = measure(text, signature);
  return length.too_long
    ? `含签名共 ${length.characters} 字，超过 500 字的上限`
    : `含签名共 ${length.characters} 字，按 ${length.parts} 条计费（每条 ${length.per_part} 字）`;
}

// ------------------------------------------------------------------------------------ templates

const TEMPLATES = {
  path: "templates/review",
  title: "待审核的模板",
  done: "待审核的模板已全部处理。",
  key: (v) => `${v.template_id}/${v.version}`,
  load: async () => (await get("/template-reviews")).versions,
  columns: [
    ["模板", (v) => `${v.name}（第 ${v.version} 版）`],
    ["类别", (v) => CATEGORY_NAMES[v.category] || v.category],
    ["单位（签名）", (v) => `${OFFICE_NAMES[v.office] || v.office}${v.signature ? `【${v.signature}】` : ""}`],
    ["编写人", (v) => v.author.real_name],
    ["提交时间", (v) => when(v.submitted_at || v.created_at)],
    ["内容检查", (v) => (v.findings || []).some((f) => f.level === "block") ? statusBadge("rejected", "有不能通过的问题")
      : (v.findings || []).some((f) => f.level === "warn") ? statusBadge("submitted", "请注意") : statusBadge("active", "未发现问题")],
  ],
  async detail(v, ctx, decided, skip) {
    const base = `/templates/${v.template_id}/versions/${v.version}`;
    const note = input({ maxlength: "200" });
    const decision = decisionForm(`审核 ${v.name}`, {
      approveText: "审核通过并报备",
      mine: v.author.account_id === ctx.me.account_id,
      onSkip: skip,
      onApprove: async () => {
        const result = await post(`${base}/approval`, { note: note.value.trim() || null });
        await decided(v, outcomeLine(TERMS.approved, v, result));
      },
      onReject: async (reason) => {
        const result = await post(`${base}/rejection`, { reason });
        await decided(v, outcomeLine(TERMS.refused, v, result));
      },
    });
    if (!decision.querySelector(".notice")) decision.prepend(field("审核意见（可选）", note, { name: "note" }));
    const heading = h("h2", { tabindex: "-1" }, `审核：${v.name}（第 ${v.version} 版）`);
    return h("section", { class: "card review", "aria-label": `模板 ${v.name} 的审核内容`, "data-template": v.template_id },
      heading,
      h("dl", { class: "facts" },
        h("dt", {}, "类别"), h("dd", {}, CATEGORY_NAMES[v.category] || v.category),
        h("dt", {}, "所属单位"), h("dd", {}, OFFICE_NAMES[v.office] || v.office),
        h("dt", {}, "签名"), h("dd", { id: "review-signature" }, v.signature ? `【${v.signature}】` : "（该单位尚未设置签名）"),
        h("dt", {}, "手机上显示为"), h("dd", { class: "preview", id: "review-text" }, v.signature ? `【${v.signature}】${v.text}` : v.text),
        h("dt", {}, "字数与条数"), h("dd", { class: "counter", id: "review-parts" }, partsLine(v.text, v.signature)),
        h("dt", {}, "用途说明"), h("dd", { id: "review-remark" }, v.remark),
        h("dt", {}, "有效期"), h("dd", {}, `${v.valid_from} 至 ${v.valid_until}`),
        h("dt", {}, "编写人"), h("dd", {}, `${v.author.real_name}，${when(v.created_at)} 编写，${when(v.submitted_at)} 提交`),
      ),
      h("h3", {}, "变量（类型与长度）"), variablesTable(v.variables, null),
      h("h3", {}, "内容检查结果"), findingList(v.findings),
      decision);
  },
};

function outcomeLine(what, v, result) {
  return h("span", {}, `${what}：${v.name}（第 ${v.version} 版），${result.status_name}。`,
    h("a", { href: `#/templates/${v.template_id}` }, "查看该模板"));
}

// -------------------------------------------------------------------------------- send requests

const SENDS = {
  path: "sends/review",
  title: "待审核的发送申请",
  done: "待审核的发送申请已全部处理。",
  key: (r) => r.request_id,
  load: async () => [...(await get("/send-requests", { status: "submitted" })).requests]
    .sort((a, b) => String(a.created_at).localeCompare(String(b.created_at))),
  columns: [
    ["申请", (r) => `${r.kind_name}：${r.template_name}`],
    ["单位", (r) => r.office_name],
    ["申请人", (r) => r.author.real_name],
    ["对象", (r) => `${r.audience_size} 人`],
    ["条数", (r) => `${r.total_parts} 条`],
    ["发送时间", (r) => (r.send_at ? when(r.send_at) : "审核通过后立即")],
    ["申请说明", (r) => r.note || ""],
    ["提交时间", (r) => when(r.created_at)],
  ],
  async detail(item, ctx, decided, skip) {
    const view = await get(`/send-requests/${item.request_id}`);
    const r = view.request;
    // The template's declared variables and purpose: what the values are checked against.
    let version = null;
    try {
      const template = await get(`/templates/${r.template_id}`);
      version = template.versions.find((v) => v.version === r.template_version) || null;
    } catch {
      version = null;
    }
    const base = `/send-requests/${r.request_id}`;
    const decision = decisionForm(`审核 ${r.template_name}`, {
      approveText: "审核通过",
      mine: r.author.account_id === ctx.me.account_id,
      onSkip: skip,
      onApprove: async () => {
        await post(`${base}/approval`);
        await decided(item, sendOutcome(TERMS.approved, r));
      },
      onReject: async (reason) => {
        await post(`${base}/rejection`, { reason });
        await decided(item, sendOutcome(TERMS.refused, r));
      },
    });
    const audience = audienceText(view);
    return h("section", { class: "card review", "aria-label": `${r.template_name} 的审核内容`, "data-request": r.request_id },
      h("h2", { tabindex: "-1" }, `审核：${r.kind_name}：${r.template_name}`),
      h("dl", { class: "facts" },
        h("dt", {}, "单位"), h("dd", {}, r.office_name),
        h("dt", {}, "签名"), h("dd", { id: "review-signature" }, `【${r.sign_name}】`),
        h("dt", {}, "模板"), h("dd", {}, `${r.template_name}（第 ${r.template_version} 版）`),
        h("dt", {}, "模板内容"), h("dd", { class: "preview" }, r.text),
        h("dt", {}, "手机上显示为"), h("dd", { class: "preview", id: "review-text" }, view.sample),
        h("dt", {}, "字数与条数"), h("dd", { class: "counter", id: "review-parts" },
          r.sheet ? `最长 ${view.characters} 字，每人最多 ${view.parts} 条` : `含签名共 ${view.characters} 字，每人 ${view.parts} 条`),
        h("dt", {}, "用途说明"), h("dd", { id: "review-remark" }, version ? version.remark : "—"),
        h("dt", {}, "对象人数"), h("dd", { id: "review-audience" }, audience),
        followUpFacts(r),
        reminderFacts(r),
        h("dt", {}, "合计条数"), h("dd", {}, `${view.total_parts} 条`),
        h("dt", {}, "发送时间"), h("dd", {}, `${when(view.timing.starts_at)}；${view.timing.note}`),
        h("dt", {}, "申请人"), h("dd", {}, `${r.author.real_name}，${when(r.created_at)}`),
        h("dt", {}, "申请说明"), h("dd", {}, r.note || "—"),
      ),
      h("h3", {}, "变量（类型与长度）"), variablesTable(version ? version.variables : [], r.sheet ? {} : r.values),
      view.sheet ? [h("h3", {}, "个性化名单（审核前请核对）"), sheetResult(view.sheet)] : null,
      h("p", {}, h("a", { href: `#/sends/${r.request_id}` }, "打开申请详情页")),
      decision);
  },
};

function sendOutcome(what, r) {
  return h("span", {}, `${what}：${r.kind_name}：${r.template_name}（${r.office_name}）。`,
    h("a", { href: `#/sends/${r.request_id}` }, "查看该申请"));
}

// ``selected``: the item the address names (a template "id/version", a request id), if any.
export async function reviewTemplates(area, ctx, selected) {
  return run(area, ctx, TEMPLATES, selected);
}

export async function reviewSends(area, ctx, selected) {
  return run(area, ctx, SENDS, selected);
}

async function run(area, ctx, kind, selected) {
  await queue(area, ctx, kind, selected).start();
}

// A send's recipients: who got it, who did not and why (a reason in Chinese, the carrier's raw
// code beside it), filtered by state, with totals and pages, and downloaded as CSV or XLSX built
// in the background (progress, then a link). A send is a send request, a trigger rule's day, a
// subscription item's month or the 12333 desk's day; the API decides who may read which, and a
// district office gets its own district's rows only.
//
// #/recipients                         choose a send
// #/recipients/send/<request id>
// #/recipients/rule/<rule id>/<YYYY-MM-DD>
// #/recipients/item/<product id>/<YYYY-MM>
// #/recipients/hotline/<YYYY-MM-DD>

import { get, post } from "../api.js";
import { beijingDay, clear, field, formError, h, input, section, select, submitting, toast, when } from "../ui.js";
import { statusBadge } from "../common.js";

// The kinds of send, each with the route that lists its recipients (what the page offers
// follows the rights of these routes) and how its period is chosen.
const SOURCES = [
  { source: "send", name: "发送申请", route: "GET /recipients/send/{request_id}", period: null, id: "发送申请编号" },
  { source: "rule", name: "触发规则（按日）", route: "GET /recipients/rule/{rule_id}", period: "date", id: "触发规则编号" },
  { source: "item", name: "订阅项目（按月）", route: "GET /recipients/item/{product_id}", period: "month", id: "订阅项目编号" },
  { source: "hotline", name: "12333挂机短信（按日）", route: "GET /recipients/hotline", period: "date", id: null },
];
const PATHS = {
  send: (id) => `/recipients/send/${encodeURIComponent(id)}`,
  rule: (id) => `/recipients/rule/${encodeURIComponent(id)}`,
  item: (id) => `/recipients/item/${encodeURIComponent(id)}`,
  hotline: () => "/recipients/hotline",
};
const STATES = [
  ["delivered", "已送达"], ["failed", "发送失败"], ["undeliverable", "无法送达"], ["suppressed", "未发送（已拦截）"], ["sending", "发送中"],
];
const BADGE = { delivered: "delivered", failed: "failed", undeliverable: "failed", suppressed: "stopped", sending: "sending" };
const PAGE_SIZE = 20;

export async function render(main, ctx, args) {
  main.append(h("h1", {}, "发送明细"));
  const offered = SOURCES.filter((s) => ctx.may(s.route));
  const [source, first, second] = args;
  const kind = offered.find((s) => s.source === source);
  if (!kind) return chooser(main, ctx, offered);
  const ident = kind.id ? first : null;
  const period = kind.id ? second : first;
  if (kind.id && !ident) return chooser(main, ctx, offered, kind.source);
  return recipients(main, ctx, kind, ident, period || null);
}

function chooser(main, ctx, offered, chosen = "") {
  const kind = select(offered.map((s) => [s.source, s.name]), { "aria-label": "发送类别" });
  kind.value = chosen || (offered[0] && offered[0].source) || "";
  const ident = input({ maxlength: "64", autocomplete: "off" });
  const day = input({ type: "date", value: beijingDay(), max: beijingDay() });
  const month = input({ type: "month", value: beijingDay().slice(0, 7), max: beijingDay().slice(0, 7) });
  const identField = field("编号", ident, { name: "id" });
  const dayField = field("日期（北京时间）", day, { name: "period" });
  const monthField = field("月份（北京时间）", month, { name: "period" });
  const show = () => {
    const s = offered.find((o) => o.source === kind.value) || {};
    identField.hidden = !s.id;
    identField.querySelector("label").textContent = s.id || "编号";
    dayField.hidden = s.period !== "date";
    monthField.hidden = s.period !== "month";
  };
  kind.addEventListener("change", show);
  const form = h("form", { class: "card", "aria-label": "选择要查看的发送" },
    h("h2", {}, "选择要查看的发送"),
    h("p", { class: "hint" }, "发送申请的明细也可从“发送申请”详情页进入；触发规则、订阅项目和12333问答库页面各有“发送明细”链接。"),
    h("div", { class: "row" }, field("发送类别", kind, { name: "source" }), identField, dayField, monthField),
    formError(), h("button", { type: "submit", class: "primary" }, "查看"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const s = offered.find((o) => o.source === kind.value);
    if (!s) return;
    const parts = [s.source];
    if (s.id) {
      if (!ident.value.trim()) {
        form.querySelector('[data-error-for="id"]').textContent = `请填写${s.id}`;
        return;
      }
      parts.push(ident.value.trim());
    }
    if (s.period) parts.push(s.period === "date" ? day.value : month.value);
    ctx.navigate(`#/recipients/${parts.map(encodeURIComponent).join("/")}`);
  });
  show();
  main.append(offered.length ? form : section("发送明细", h("p", {}, "您的角色不能查看收件人明细。")));
}

function reasonCell(row) {
  if (!row.reason) return "";
  return h("span", {}, row.reason, row.reason_code && row.reason_code !== row.reason
    ? h("span", { class: "code", title: "原始错误码" }, `（${row.reason_code}）`) : null);
}

const COLUMNS = [
  ["手机号码", (r) => r.phone_masked],
  ["姓名/单位名称", (r) => r.name || "—"],
  ["证件号码", (r) => r.id_masked || "—"],
  ["区县", (r) => r.district_name || "—"],
  ["状态", (r) => statusBadge(BADGE[r.state], r.state_name)],
  ["原因", reasonCell],
  ["排队时间", (r) => when(r.queued_at)],
  ["发送时间", (r) => when(r.sent_at)],
  ["结果时间", (r) => when(r.final_at)],
];

async function recipients(main, ctx, kind, ident, period) {
  const path = PATHS[kind.source](ident);
  const chosen = new Set();
  let totals = null;
  let cursors = [null]; // the cursor of each page seen, for going back
  let page = 0;
  const heading = h("h2", { id: "recipients-heading" }, "收件人明细");
  const summary = h("div", { id: "recipient-totals", "aria-live": "polite" });
  const filters = h("fieldset", { class: "checks", id: "state-filters" }, h("legend", {}, "按状态筛选（不选为全部）"));
  const tableBox = h("div", { class: "table-wrap", id: "recipient-table" });
  const pager = h("nav", { class: "pager", "aria-label": "分页" });
  const exporter = exportBox(ctx, kind, ident, period, () => [...chosen]);

  const query = (cursor) => ({ period: period || undefined, state: [...chosen].join(",") || undefined,
    limit: PAGE_SIZE, cursor: cursor || undefined });
  const shownTotal = () => (!totals ? 0 : chosen.size ? [...chosen].reduce((n, s) => n + totals.states[s], 0) : totals.all);

  const drawFilters = () => {
    clear(filters, h("legend", {}, "按状态筛选（不选为全部）"), STATES.map(([state, name]) => {
      const box = h("input", { type: "checkbox", id: `state-${state}`, value: state, checked: chosen.has(state),
        onchange: () => { if (box.checked) chosen.add(state); else chosen.delete(state); load(null, 0); } });
      return h("label", { for: `state-${state}` }, box, `${name}（${totals ? totals.states[state] : 0}）`);
    }));
  };
  const drawSummary = () => {
    const categories = Object.entries(totals.failure_categories);
    clear(summary,
      h("p", {}, h("span", { class: "stat" }, "收件人", h("b", {}, String(totals.all))),
        STATES.map(([state, name]) => h("span", { class: "stat", "data-stat": state }, name, h("b", {}, String(totals.states[state]))))),
      h("p", { id: "failure-categories" }, categories.length
        ? `失败原因：${categories.map(([label, n]) => `${label} ${n} 人`).join("、")}`
        : "没有发送失败的收件人。"));
  };
  const drawPager = (next) => {
    const pages = Math.max(1, Math.ceil(shownTotal() / PAGE_SIZE));
    clear(pager,
      h("button", { type: "button", disabled: page === 0, onclick: () => load(cursors[page - 1], page - 1) }, "上一页"),
      h("span", {}, `第 ${page + 1} / ${pages} 页，共 ${shownTotal()} 人`),
      h("button", { type: "button", disabled: !next, onclick: () => load(next, page + 1) }, "下一页"));
  };
  async function load(cursor, index) {
    clear(tableBox, h("p", { class: "loading" }, "正在加载…"));
    try {
      const answer = await get(path, query(cursor));
      if (answer.totals) totals = answer.totals;
      if (index === 0) cursors = [null];
      cursors[index] = cursor;
      page = index;
      heading.textContent = answer.district ? `${answer.title}（仅本区县的收件人）` : answer.title;
      drawFilters();
      drawSummary();
      clear(tableBox, h("table", {},
        h("caption", {}, chosen.size ? `状态：${STATES.filter(([s]) => chosen.has(s)).map(([, n]) => n).join("、")}` : "全部收件人"),
        h("thead", {}, h("tr", {}, COLUMNS.map(([title]) => h("th", { scope: "col" }, title)))),
        h("tbody", {}, answer.rows.length
          ? answer.rows.map((row) => h("tr", { "data-state": row.state }, COLUMNS.map(([, cell]) => h("td", {}, cell(row) ?? ""))))
          : h("tr", {}, h("td", { colspan: String(COLUMNS.length), class: "empty" }, "没有符合条件的收件人")))));
      drawPager(answer.cursor);
    } catch (error) {
      clear(tableBox, h("div", { class: "error-box", role: "alert" }, error.message));
    }
  }
  // Through h(): a part left out (null) is skipped, as DOM append would print it.
  main.append(...h("div", {},
    h("p", {}, h("a", { href: "#/recipients" }, "选择其他发送"),
      kind.source === "send" ? [" · ", h("a", { href: `#/sends/${encodeURIComponent(ident)}` }, "返回发送申请")] : null),
    kind.period ? periodSwitch(ctx, kind, ident, period) : null,
    h("section", { class: "card", "aria-labelledby": "recipients-heading" }, heading, summary, filters, tableBox, pager),
    exporter).childNodes);
  await load(null, 0);
}

// Another day (or month) of the same rule, item or desk.
function periodSwitch(ctx, kind, ident, period) {
  const today = kind.period === "date" ? beijingDay() : beijingDay().slice(0, 7);
  const control = input({ type: kind.period, value: period || today, max: today });
  const form = h("form", { class: "row", "aria-label": "选择日期" },
    field(kind.period === "date" ? "日期（北京时间）" : "月份（北京时间）", control, { name: "period" }),
    h("button", { type: "submit" }, "查看"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const parts = [kind.source, ...(ident ? [ident] : []), control.value];
    ctx.navigate(`#/recipients/${parts.map(encodeURIComponent).join("/")}`);
  });
  return form;
}

// The download: asked for, built in the background while its progress shows, then a link.
function exportBox(ctx, kind, ident, period, states) {
  if (!ctx.may("POST /recipient-exports")) return null;
  const format = select([["xlsx", "Excel（XLSX）"], ["csv", "CSV（UTF-8）"]], { "aria-label": "文件格式" });
  const progress = h("div", { id: "export-progress", "aria-live": "polite" });
  const form = h("form", { class: "card", "aria-label": "导出收件人明细" },
    h("h2", {}, "导出"),
    h("p", { class: "hint" }, "按上方所选的状态导出（不选为全部）。号码与证件号码均已脱敏；文件在后台生成，生成后可在 24 小时内下载。超过 100 万行请选择 CSV。"),
    h("div", { class: "row" }, field("文件格式", format, { name: "format" }),
      h("button", { type: "submit", class: "primary", id: "export-start" }, "导出所选状态")),
    formError(), progress);
  const draw = (job) => {
    const done = job.rows_total ? Math.min(job.rows_done, job.rows_total) : job.rows_done;
    clear(progress,
      h("p", {}, `${job.status_name}：${job.title}，${job.file_name}`),
      job.status === "building" || job.status === "queued"
        ? h("progress", { class: "progress", max: String(Math.max(job.rows_total, 1)), value: String(done), "aria-label": "导出进度" })
        : null,
      h("p", {}, job.status === "failed" ? job.error || "生成失败，请重新导出" : `已写入 ${done} / ${job.rows_total} 行`),
      job.download_url
        ? h("p", {}, h("a", { href: job.download_url, download: job.file_name, id: "export-download", class: "button" },
          `下载 ${job.file_name}`), h("span", { class: "hint" }, `（链接 5 分钟内有效，文件保留至 ${when(job.expires_at)}）`),
        h("button", { type: "button", onclick: () => follow(job.export_id) }, "重新获取下载链接"))
        : null);
  };
  const follow = async (exportId) => {
    for (;;) {
      if (!form.isConnected) return;
      let job;
      try {
        job = await get(`/recipient-exports/${exportId}`);
      } catch (error) {
        clear(progress, h("div", { class: "error-box", role: "alert" }, error.message));
        return;
      }
      draw(job);
      if (job.status === "ready" || job.status === "failed") return;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(form, async () => {
      const job = await post("/recipient-exports", { source: kind.source, id: ident || null, period: period || null,
        states: states(), format: format.value });
      toast("已开始生成导出文件");
      draw(job);
      follow(job.export_id);
    });
  });
  return form;
}

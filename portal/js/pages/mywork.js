// My work: what waits for my review, and what happened to what I submitted.

import { get } from "../api.js";
import { CATEGORY_NAMES, statusBadge } from "../common.js";
import { h, pagedTable, section, when } from "../ui.js";

export async function render(main, ctx) {
  main.append(h("h1", {}, "我的工作"));
  const me = ctx.me.account_id;
  if (ctx.may("GET /template-reviews")) {
    const [templates, sends, rules, items] = await Promise.all([
      get("/template-reviews"),
      get("/send-requests", { status: "submitted" }),
      get("/trigger-rules"),
      get("/subscription-items"),
    ]);
    const waiting = [
      ...templates.versions.map((v) => ({ what: `模板：${v.name}（第 ${v.version} 版）`, by: v.author.real_name, at: v.submitted_at, link: `#/templates/review/${v.template_id}/${v.version}`, mine: v.author.account_id === me })),
      ...sends.requests.map((r) => ({ what: `${r.kind_name}：${r.template_name}（${r.office_name}）`, by: r.author.real_name, at: r.created_at, link: `#/sends/review/${r.request_id}`, mine: r.author.account_id === me })),
      ...rules.rules.filter((r) => r.status === "submitted").map((r) => ({ what: `触发规则：${r.name}`, by: r.author_name, at: r.updated_at, link: "#/rules", mine: r.author === me })),
      ...items.items.filter((i) => i.status === "submitted").map((i) => ({ what: `订阅项目：${i.name}`, by: i.author, at: i.updated_at, link: "#/items", mine: i.author === me })),
    ].filter((w) => !w.mine);
    main.append(section("等待我审核", pagedTable(
      [["事项", (w) => h("a", { href: w.link }, w.what)], ["提交人", (w) => w.by], ["提交时间", (w) => when(w.at)]],
      waiting, { empty: "没有等待审核的事项" })));
  }
  // What I wrote: templates (for their authors) and send requests (for those who propose them).
  const mine = [];
  if (ctx.may("POST /templates")) {
    const templates = await get("/templates");
    for (const t of templates.templates) {
      for (const v of t.versions || []) {
        if (v.author.account_id !== me) continue;
        mine.push({ what: `${CATEGORY_NAMES[t.category]}模板：${t.name}（第 ${v.version} 版）`, status: v.status, name: v.status_name,
          reason: v.reject_reason || v.carrier_reason || "", at: v.updated_at, link: `#/templates/${t.template_id}` });
      }
    }
  }
  if (ctx.may("POST /send-requests")) {
    const sends = await get("/send-requests");
    for (const r of sends.requests.filter((x) => x.author.account_id === me)) {
      mine.push({ what: `${r.kind_name}：${r.template_name}`, status: r.status, name: r.status_name, reason: r.reject_reason || r.stop_reason || "", at: r.updated_at, link: `#/sends/${r.request_id}` });
    }
  }
  mine.sort((a, b) => String(b.at).localeCompare(String(a.at)));
  main.append(section("我提交的事项", pagedTable(
    [["事项", (m) => h("a", { href: m.link }, m.what)], ["结果", (m) => statusBadge(m.status, m.name)], ["原因", (m) => m.reason], ["更新时间", (m) => when(m.at)]],
    mine, { empty: "还没有提交过事项" })));
}

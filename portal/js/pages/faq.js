// The 12333 question bank: entries whose answers are hang-up templates (their text is reviewed
// as templates are), and the scope the hotline manager chooses.

import { get, post, put } from "../api.js";
import { clear, h, input, pagedTable, section, toast, when } from "../ui.js";
import { form } from "./governance.js";
import { templateLabel, templateNames, templatePicker } from "./pickers.js";

export async function render(main, ctx) {
  main.append(h("h1", {}, "12333问答库"),
    h("p", { class: "hint" }, "每条问答的答案是一个“12333挂机短信”模板，由市社保中心编写、审核并向运营商报备；12333管理员选定纳入问答库的条目。"),
    ctx.may("GET /recipients/hotline") ? h("p", {}, h("a", { href: "#/recipients/hotline" }, "挂机短信发送明细：谁收到了、谁没收到及原因")) : "");
  const box = h("div");
  const load = async () => {
    const [{ entries }, names] = await Promise.all([get("/hotline/entries"), templateNames()]);
    clear(box, pagedTable([
      ["问题", (e) => e.question],
      ["答案模板", (e) => (ctx.may("GET /templates/{template_id}")
        ? h("a", { href: `#/templates/${e.template_id}` }, templateLabel(names, e.template_id)) : templateLabel(names, e.template_id))],
      ["纳入范围", (e) => (e.in_scope ? "是" : "否")],
      ["选定时间", (e) => when(e.scope_at)],
      ["操作", (e) => ctx.may("PUT /hotline/entries/{faq_id}/scope")
        ? h("button", { type: "button", "aria-label": `${e.in_scope ? "移出" : "纳入"} ${e.question}`, onclick: async () => {
          try { await put(`/hotline/entries/${e.faq_id}/scope`, { in_scope: !e.in_scope }); toast("已更新"); await load(); } catch (error) { toast(error.message, "bad"); }
        } }, e.in_scope ? "移出范围" : "纳入范围")
        : ""],
    ], entries, { empty: "问答库还没有条目", sort: { column: "问题" } }));
  };
  main.append(section("问答条目", box));
  if (ctx.may("POST /hotline/entries")) {
    const question = input({ maxlength: "100" });
    const template = await templatePicker("hangup");
    main.append(form("新建问答条目", [["问题标题", question, "question"], ["答案模板", template, "template_id", "已启用的12333挂机短信模板"]], async () => {
      await post("/hotline/entries", { question: question.value, template_id: template.value });
      toast("问答条目已新建，待12333管理员纳入范围");
      await load();
    }, "新建"));
  }
  await load();
}

// Trigger rules for business-triggered notices: create (template, event type and each variable's
// data field chosen by name), review, version history.

import { get, post, put } from "../api.js";
import { beijingIso } from "../common.js";
import { clear, h, input, pagedTable, section, select, toast, when } from "../ui.js";
import { TERMS } from "../glossary.js";
import { form, reviewActions, status } from "./governance.js";
import { eventTypePicker, templateLabel, templateNames, templatePicker, variableMapping } from "./pickers.js";

const RULE_REVIEW = { submit: "POST /trigger-rules/{rule_id}/submission", review: "POST /trigger-rules/{rule_id}/approval" };

export async function render(main, ctx, args) {
  main.append(h("h1", {}, "触发规则"));
  if (args[0]) return history(main, args[0]);
  const box = h("div");
  const load = async () => {
    const [{ rules }, names] = await Promise.all([get("/trigger-rules"), templateNames()]);
    clear(box, pagedTable([
      ["规则", (r) => h("a", { href: `#/rules/${r.rule_id}` }, `${r.name}（第 ${r.version} 版）`)],
      ["事件类型", (r) => r.event_type], ["条件", (r) => r.condition || "（无）"], ["模板", (r) => templateLabel(names, r.template_id)],
      ["有效期", (r) => `${when(r.valid_from)} 至 ${when(r.valid_until)}`], ["状态", (r) => status(r.status)],
      ["原因", (r) => r.reject_reason || ""],
      ["发送明细", (r) => (ctx.may("GET /recipients/rule/{rule_id}") ? h("a", { href: `#/recipients/rule/${r.rule_id}` }, "今日收件人") : "")],
      ["操作", (r) => reviewActions(ctx, RULE_REVIEW, `/trigger-rules/${r.rule_id}`, r, r.author, load)],
    ], rules, { empty: "还没有触发规则", sort: { column: "规则" } }));
  };
  main.append(section("规则列表", box));
  if (ctx.may("POST /trigger-rules")) main.append(await editor(load));
  await load();
}

async function editor(reload, existing) {
  const name = input({ maxlength: "60" });
  const eventType = await eventTypePicker();
  const condition = input({ placeholder: "如 amount > 0" });
  const template = await templatePicker("triggered");
  const recipients = select([["subject", "事件对象本人"], ["unit_contacts", "事件对象单位的联系人"]]);
  const variables = variableMapping(template, { legend: "变量取值（从事件的数据字段中选择）" });
  const from = input({ type: "datetime-local" });
  const until = input({ type: "datetime-local" });
  return form("新建触发规则", [
    ["规则名称", name, "name"], ["事件类型", eventType, "event_type", "业务系统获授权发送的事件类型"], ["触发条件（可选）", condition, "condition"],
    ["模板", template, "template_id", "已启用的业务触发类模板"], ["接收人", recipients, "recipients"],
    variables.node,
    ["生效时间", from, "valid_from"], ["失效时间", until, "valid_until"],
  ], async () => {
    const body = { name: name.value, event_type: eventType.value, condition: condition.value.trim(), template_id: template.value,
      recipients: recipients.value, variables: variables.value(), valid_from: beijingIso(from.value), valid_until: beijingIso(until.value) };
    await (existing ? put(`/trigger-rules/${existing}`, body) : post("/trigger-rules", body));
    toast("规则已保存为草稿");
    await reload();
  });
}

async function history(main, ruleId) {
  const [{ rules }, names] = await Promise.all([get(`/trigger-rules/${ruleId}`), templateNames()]);
  main.append(section("版本历史", pagedTable([
    ["版本", (r) => `第 ${r.version} 版`], ["状态", (r) => status(r.status)], ["条件", (r) => r.condition || "（无）"],
    ["模板", (r) => templateLabel(names, r.template_id)], ["编写人", (r) => r.author_name], ["审核人", (r) => r.reviewer || ""],
    [TERMS.refuseReason, (r) => r.reject_reason || ""], ["更新时间", (r) => when(r.updated_at)],
  ], [...rules].sort((a, b) => b.version - a.version))), h("p", {}, h("a", { href: "#/rules" }, "返回规则列表")));
}

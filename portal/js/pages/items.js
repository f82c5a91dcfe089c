// Subscription items: create (template, event type and each variable's data field chosen by
// name), review, put on sale, withdraw.

import { get, post } from "../api.js";
import { clear, h, input, pagedTable, section, select, toast, when } from "../ui.js";
import { TERMS } from "../glossary.js";
import { form, reviewActions, status } from "./governance.js";
import { eventTypePicker, templateLabel, templateNames, templatePicker, variableMapping } from "./pickers.js";

const ITEM_REVIEW = {
  submit: "POST /subscription-items/{product_id}/submission",
  review: "POST /subscription-items/{product_id}/approval",
};

export async function render(main, ctx) {
  main.append(h("h1", {}, "付费订阅项目"));
  const box = h("div");
  const load = async () => {
    const [{ items }, names] = await Promise.all([get("/subscription-items"), templateNames()]);
    clear(box, pagedTable([
      ["项目", (i) => i.name], ["说明", (i) => i.description], ["价格", (i) => `${(i.price_fen / 100).toFixed(2)} 元 / ${i.period_months} 个月`],
      ["模板", (i) => templateLabel(names, i.template_id)], ["数据来源事件", (i) => i.event_type], ["状态", (i) => status(i.status)],
      [TERMS.refuseReason, (i) => i.reject_reason || ""], ["更新时间", (i) => when(i.updated_at)],
      ["发送明细", (i) => (ctx.may("GET /recipients/item/{product_id}") ? h("a", { href: `#/recipients/item/${i.product_id}` }, "本月收件人") : "")],
      ["操作", (i) => {
        const actions = reviewActions(ctx, ITEM_REVIEW, `/subscription-items/${i.product_id}`, i, i.author, load);
        if (["on_sale", "active"].includes(i.status)) {
          actions.append(h("button", { type: "button", class: "danger", onclick: async () => {
            try { await post(`/subscription-items/${i.product_id}/withdrawal`); toast("已下架"); await load(); } catch (e) { toast(e.message, "bad"); }
          } }, "下架"));
        }
        return actions;
      }],
    ], items, { empty: "还没有订阅项目", sort: { column: "更新时间", descending: true } }));
  };
  main.append(section("项目列表", box));
  if (ctx.may("POST /subscription-items")) main.append(await editor(load));
  await load();
}

async function editor(reload) {
  const name = input({ maxlength: "40" });
  const description = input({ maxlength: "300" });
  const template = await templatePicker("subscription");
  const eventType = await eventTypePicker();
  const variables = variableMapping(template, { legend: "变量取值（从事件的数据字段中选择）" });
  const kind = select([["schedule", "按计划（每月某日）"], ["event", "每次业务事件"]]);
  const day = input({ type: "number", min: "1", max: "28", value: "1" });
  const price = input({ type: "number", min: "0.01", step: "0.01", value: "3.00" });
  const months = input({ type: "number", min: "1", max: "36", value: "12" });
  return form("新建订阅项目", [
    ["项目名称", name, "name"], ["说明", description, "description"], ["模板", template, "template_id", "已启用的付费订阅类模板"],
    ["数据来源事件类型", eventType, "event_type", "业务系统获授权发送的事件类型"], variables.node,
    ["发送时机", kind, "trigger"], ["每月发送日（按计划时）", day, "trigger.day"],
    ["每期价格（元）", price, "price_fen"], ["每期月数", months, "period_months"],
  ], async () => {
    const trigger = kind.value === "schedule" ? { kind: "schedule", day: Number(day.value) } : { kind: "event" };
    await post("/subscription-items", {
      name: name.value, description: description.value, template_id: template.value, event_type: eventType.value,
      variables: variables.value(), trigger, price_fen: Math.round(Number(price.value) * 100), period_months: Number(months.value),
    });
    toast("订阅项目已保存为草稿");
    await reload();
  });
}

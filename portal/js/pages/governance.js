// Shared pieces of the reviewed definitions (trigger rules, subscription items): a list with
// the actions each role may take, and a form whose errors sit beside their fields.

import { post } from "../api.js";
import { statusBadge } from "../common.js";
import { TERMS } from "../glossary.js";
import { field, formError, h, input, submitting, toast } from "../ui.js";

export const STATUS_NAMES = {
  draft: "草稿", submitted: "待审核", active: "生效中", on_sale: "在售", rejected: TERMS.refusedState,
  retired: "已停用", withdrawn: "已下架", superseded: "已被新版本取代",
};

export function status(value) {
  return statusBadge(value, STATUS_NAMES[value] || value);
}

// Buttons for one definition at `base`: submit (author), approve or reject with a reason
// (reviewer), each offered to those who may call its route (`routes.submit`, `routes.review`).
export function reviewActions(ctx, routes, base, item, authorId, reload) {
  const box = h("div", { class: "actions" });
  const run = async (call, message) => {
    try {
      await call();
      toast(message);
      await reload();
    } catch (error) {
      toast(error.message, "bad");
    }
  };
  if (["draft", "rejected"].includes(item.status) && ctx.may(routes.submit)) {
    box.append(h("button", { type: "button", onclick: () => run(() => post(`${base}/submission`), TERMS.submitted) }, TERMS.submit));
  }
  if (item.status === "submitted" && ctx.may(routes.review) && authorId !== ctx.me.account_id) {
    const reason = input({ placeholder: TERMS.refuseReason, "aria-label": TERMS.refuseReason });
    box.append(
      h("button", { type: "button", class: "primary", onclick: () => run(() => post(`${base}/approval`), TERMS.approved) }, TERMS.approve),
      reason,
      h("button", { type: "button", class: "danger", onclick: () => run(() => post(`${base}/rejection`, { reason: reason.value }), TERMS.refused) }, TERMS.refuse),
    );
  }
  return box;
}

// ``fields``: [label, control, API field name, hint] each, or a node placed as it is (a fieldset).
export function form(label, fields, onSubmit, button = "保存草稿") {
  const node = h("form", { class: "card", "aria-label": label }, h("h2", {}, label),
    ...fields.map((entry) => (entry instanceof Node ? entry : field(entry[0], entry[1], { name: entry[2], hint: entry[3] }))), formError(),
    h("button", { type: "submit", class: "primary" }, button));
  node.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(node, () => onSubmit(node));
  });
  return node;
}

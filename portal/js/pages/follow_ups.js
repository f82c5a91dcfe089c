// Follow-up sends (对未送达人员再次发送) on a send request's page: for a released send of the
// operator's own office, how many it did not reach (failed, or could not be delivered), and a new
// request to only those, with another template or the same, which goes to review like any
// other; and, on a follow-up's own page, which send it follows and how many it reaches.

import { get, post } from "../api.js";
import { beijingIso, inPublicityWindow, signatureOf } from "../common.js";
import { measure, render as fill } from "../sms.js";
import { clear, field, formError, h, input, section, select, submitting, toast } from "../ui.js";
import { variableField, variableValues } from "../variables.js";

const RELEASED = new Set(["sending", "fanned_out", "stopped"]);

// The facts line of a follow-up request: the send it follows, and whom it reaches.
export function followUpFacts(r) {
  if (!r.follow_up) return null;
  const f = r.follow_up;
  return [h("dt", {}, "再次发送"), h("dd", { id: "request-follow-up" },
    "对 ", h("a", { href: `#/sends/${f.request_id}` }, `原申请“${f.template_name}”`),
    ` 的未送达人员再次发送：共 ${f.recipients} 人（原发送失败 ${f.failed} 人，无法送达 ${f.undeliverable} 人）`,
    f.not_in_book ? `；另有 ${f.not_in_book} 人不在通讯录中，无法再次发送` : "")];
}

// The section offering a follow-up of a released send, for an operator of its office (nothing,
// an empty text, for anyone else: the page appends it as it is).
export function followUpSection(ctx, r) {
  if (!ctx.may("POST /follow-ups") || !RELEASED.has(r.status) || r.office !== ctx.me.office) return "";
  const box = h("div", { id: "follow-up" });
  const start = h("button", { type: "button", onclick: () => open(box, ctx, r) }, "对未送达人员再次发送");
  box.append(h("p", { class: "hint" }, "向本次发送中失败或无法送达的人员再发一次：可换用其他模板，号码以通讯录中最新的为准，新的申请同样须经审核。"), start);
  return section("对未送达人员再次发送", box);
}

async function open(box, ctx, r) {
  const preview = await get("/follow-ups/preview", { of: r.request_id });
  const counts = h("p", { id: "follow-up-counts" },
    `未送达 ${preview.recipients} 人：发送失败 ${preview.failed} 人，无法送达 ${preview.undeliverable} 人` +
    (preview.not_in_book ? `；另有 ${preview.not_in_book} 人不在通讯录中，无法再次发送` : ""));
  if (!preview.recipients) {
    clear(box, counts, h("p", {}, "本次发送没有可再次发送的未送达人员。"));
    return;
  }
  const templates = (await get("/templates", { status: "active" })).templates.filter(
    (t) => ["targeted", "publicity"].includes(t.category) && t.office === ctx.me.office && t.active_version,
  );
  const template = select(templates.map((t) => [t.template_id, `${t.name}（${t.category === "publicity" ? "宣传公告" : "定向通知"}）`]));
  template.value = templates.some((t) => t.template_id === r.template_id) ? r.template_id : template.value;
  const valuesBox = h("div", { class: "row" });
  const sample = h("div", { class: "preview", id: "follow-up-sample" });
  const totals = h("p", { class: "counter", id: "follow-up-totals" });
  const sendAt = input({ type: "datetime-local" });
  const note = input({ maxlength: "300" });
  let chosen = null;
  let version = null;
  const values = () => variableValues(valuesBox);
  const redraw = async () => {
    if (!version) return;
    const signature = await signatureOf(chosen.office);
    const text = fill(version.text, values());
    const length = measure(text, signature);
    sample.textContent = `【${signature}】${text}`;
    totals.textContent = `每人 ${length.parts} 条，共 ${preview.recipients} 人，合计 ${preview.recipients * length.parts} 条`;
  };
  const pick = async () => {
    chosen = templates.find((t) => t.template_id === template.value) || null;
    version = chosen ? (await get(`/templates/${chosen.template_id}`)).versions.find((v) => v.version === chosen.active_version) : null;
    const same = chosen && chosen.template_id === r.template_id;
    const specs = version ? version.variables : [];
    clear(valuesBox, specs.length
      ? specs.map((spec) => variableField(spec, { value: same ? r.values[spec.name] || "" : "", oninput: redraw }))
      : h("p", { class: "hint" }, "该模板没有变量"));
    redraw();
  };
  template.addEventListener("change", pick);
  const form = h("form", { "aria-label": "对未送达人员再次发送" },
    field("模板（可与原发送相同）", template, { name: "template_id" }),
    h("fieldset", {}, h("legend", {}, "变量取值"), valuesBox, h("div", { class: "field-error", "data-error-for": "values", role: "alert" })),
    h("h3", {}, "样例（手机上显示为）"), sample, totals,
    field("发送时间（北京时间，不填为审核通过后立即发送）", sendAt, { name: "send_at" }),
    field("申请说明", note, { name: "note" }),
    formError(),
    h("button", { type: "submit", class: "primary" }, "提交审核"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(form, async () => {
      if (chosen && chosen.category === "publicity" && !inPublicityWindow(sendAt.value)) {
        throw { message: "宣传类短信只能在每天 08:00 至 21:00（北京时间）之间发送", field: "send_at", details: [] };
      }
      const created = await post("/follow-ups", {
        of: r.request_id, template_id: template.value, values: values(),
        send_at: beijingIso(sendAt.value), note: note.value.trim() || null,
      });
      toast(`已提交对未送达人员再次发送的申请（${created.audience_size} 人），等待市社保中心审核`);
      ctx.navigate(`#/sends/${created.request_id}`);
    });
  });
  clear(box, counts, templates.length ? form : h("p", {}, "本单位没有已启用的定向通知或宣传公告模板。"));
  await pick();
}

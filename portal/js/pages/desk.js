// The 12333 agent desk: calls waiting for a choice, the question bank searched, entries picked
// and sent with the resulting messages previewed; and "did my message arrive?".

import { get, post } from "../api.js";
import { CATEGORY_NAMES, statusBadge } from "../common.js";
import { badge, clear, field, formError, h, input, pagedTable, requiredMark, section, submitting, toast, when } from "../ui.js";

export async function render(main, ctx) {
  main.append(h("h1", {}, "12333坐席工作台"));
  if (ctx.may("GET /hotline/calls/waiting")) await waiting(main, ctx);
  lookup(main);
}

async function waiting(main, ctx) {
  // Each active entry comes with the message it sends: the approved answer under the 12333
  // centre's signature, its length and parts.
  const [calls, entries] = await Promise.all([get("/hotline/calls/waiting"), get("/hotline/entries/active")]);
  const desk = h("div", { id: "desk-call" });
  const list = pagedTable([
    ["来电号码", (c) => c.caller],
    ["挂机时间", (c) => when(c.ended_at)],
    ["须在此前选择", (c) => when(c.pick_before)],
    ["坐席工号", (c) => c.agent_id],
    ["", (c) => h("button", { type: "button", "aria-label": `为来电 ${c.caller} 选择问答`, onclick: () => choose(c) }, "选择问答")],
  ], calls.calls, { empty: "没有等待选择问答的来电", caption: "挂机后等待坐席选择问答的来电（24 小时内）" });

  function choose(call) {
    const search = input({ type: "search", placeholder: "输入关键字查找问答" });
    const results = h("div", { class: "checks", role: "group", "aria-label": "问答条目（必选 1-3 条）" });
    const preview = h("div", { id: "pick-preview", "aria-live": "polite" });
    const form = h("form", { class: "card", "aria-label": `来电 ${call.caller} 的问答` },
      h("h2", {}, `来电 ${call.caller}`),
      field("查找问答", search, { name: "search" }),
      h("p", { class: "hint" }, "问答条目", requiredMark(), "（选择 1-3 条）"),
      results,
      h("div", { class: "field-error", "data-error-for": "faq_ids", role: "alert" }),
      h("h3", {}, "将发送的短信"), preview,
      formError(),
      h("button", { type: "submit", class: "primary" }, "发送"));
    const picked = () => [...results.querySelectorAll("input:checked")].map((c) => c.value);
    const drawPreview = () => {
      const chosen = entries.entries.filter((e) => picked().includes(e.faq_id));
      if (!chosen.length) return clear(preview, h("p", { class: "hint" }, "请选择 1-3 条问答，每条发送一条短信。"));
      const parts = chosen.reduce((sum, e) => sum + e.parts, 0);
      clear(preview, h("p", {}, `发送到 ${call.caller}，共 ${chosen.length} 条（计费 ${parts} 条）：`), chosen.map((e) =>
        h("div", { class: "preview", "data-faq": e.faq_id },
          h("strong", {}, e.question), h("br"), e.message,
          h("div", { class: "hint" }, `含签名共 ${e.characters} 字，按 ${e.parts} 条计费`))));
    };
    const drawResults = () => {
      const needle = search.value.trim();
      const kept = new Set(picked());
      clear(results, entries.entries.filter((e) => !needle || e.question.includes(needle) || kept.has(e.faq_id)).map((e) => {
        const box = h("input", { type: "checkbox", value: e.faq_id, id: `faq-${e.faq_id}`, checked: kept.has(e.faq_id), onchange: drawPreview });
        return h("label", { for: `faq-${e.faq_id}` }, box, e.question);
      }));
    };
    search.addEventListener("input", drawResults);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submitting(form, async () => {
        if (picked().length > 3) throw { message: "每次来电最多选择 3 条问答", field: "faq_ids", details: [] };
        const answer = await post(`/hotline/calls/${call.call_id}/picks`, { faq_ids: picked() });
        toast(`已发送 ${answer.faq_ids.length} 条短信到 ${answer.caller}`);
        ctx.navigate("#/desk");
      });
    });
    drawResults();
    drawPreview();
    clear(desk, form);
    search.focus(); // the agent goes on typing in the panel just opened
  }
  main.append(section("等待选择问答的来电", list, desk));
}

function lookup(main) {
  const phone = input({ inputmode: "numeric", autocomplete: "off", maxlength: "20" });
  const found = h("div", { id: "lookup-result" });
  const form = h("form", { "aria-label": "短信送达查询" },
    h("div", { class: "row" }, field("来电人手机号", phone, { name: "phone", required: true }),
      h("button", { type: "submit", class: "primary" }, "查询")), formError(), found);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(form, async () => {
      const answer = await post("/message-lookup", { phone: phone.value.trim() });
      phone.value = ""; // the number is not kept on screen once looked up
      clear(found, pagedTable([
        ["时间", (m) => when(m.created_at)],
        ["单位", (m) => m.office_name],
        ["类别", (m) => CATEGORY_NAMES[m.kind] || m.kind || ""],
        // A test key's message was never sent: marked so the agent does not read it as delivered.
        ["状态", (m) => (m.test ? h("span", {}, statusBadge(m.state, m.state_name), " ", badge("测试", "warn"))
          : statusBadge(m.state, m.state_name))],
        ["原因", (m) => (m.reason ? `${m.reason}${m.reason_code && m.reason_code !== m.reason ? `（${m.reason_code}）` : ""}` : "")],
        ["送达时间", (m) => when(m.final_at)],
      ], answer.messages, { caption: `${answer.phone_masked} 近期的短信`, empty: `${answer.phone_masked} 近期没有短信` }));
    });
  });
  main.append(section("短信送达查询（“我的短信收到了吗？”）", form));
}

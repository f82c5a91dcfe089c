// Numbers to verify and the block list: each district office's worklist of records whose number
// failed permanently too often (空号, 停机), with the failures and their reasons, confirming a
// number or entering the new one the person gave; and numbers blocked by hand (黑名单), with a
// reason. Numbers are shown masked; a number typed in travels only in the request body.

import { get, post } from "../api.js";
import { DISTRICTS } from "../common.js";
import { clear, field, formError, h, input, pagedTable, section, select, submitting, toast, when } from "../ui.js";

const SOURCES = [["service_hall", "服务大厅"], ["hotline_12333", "12333"], ["grassroots", "基层平台"],
  ["personal_online", "个人网上服务"], ["mobile_app", "手机APP"], ["kiosk", "自助终端"]];

export async function render(main, ctx) {
  main.append(h("h1", {}, "号码核实与黑名单"));
  const own = ctx.me.roles.includes("district_operator") ? ctx.me.office : null;
  const list = h("div", { id: "number-checks" });
  if (ctx.may("GET /number-checks")) {
    const counts = h("div", { id: "number-check-counts" });
    main.append(section("待核实号码", h("p", { class: "hint" },
      "号码多次发送失败且原因为空号或停机时，平台将其标记为待核实，此后发往该号码的短信不再提交运营商（记为“号码待核实”）。" +
      "请联系本人：号码仍有效的点“号码有效”，已更换号码的录入新号码；任一渠道采集到新号码或核验了原号码，记录也会离开名单。"),
    counts, list));
    await worklist(list, counts, ctx, own);
  }
  if (ctx.may("GET /number-blocks")) main.append(await blocks(ctx));
}

// ------------------------------------------------------------------ the worklist

async function worklist(box, countsBox, ctx, own) {
  const district = select(DISTRICTS.filter(([code]) => !own || code === own), { "aria-label": "区县" });
  if (own) district.value = own;
  const table = h("div");
  const panel = h("div", { id: "number-check-action", "aria-live": "polite" });
  const pages = [];
  const load = async (cursor) => {
    const [answer, counts] = await Promise.all([
      get("/number-checks", { district: district.value, cursor, limit: 50 }),
      get("/number-checks/counts"),
    ]);
    clear(countsBox, counts.districts.map((d) => h("span", { class: "stat", "data-district": d.district },
      d.district_name, h("b", {}, String(d.count)))));
    const more = answer.cursor ? h("button", { type: "button", onclick: () => { pages.push(cursor); load(answer.cursor); } }, "下一页") : null;
    const back = pages.length ? h("button", { type: "button", onclick: () => load(pages.pop()) }, "上一页") : null;
    clear(table, entriesTable(answer.entries, ctx, panel, () => load(cursor)),
      h("nav", { class: "pager", "aria-label": "待核实名单分页" }, back, more));
    clear(panel);
  };
  district.addEventListener("change", () => { pages.length = 0; load(null); });
  clear(box, h("div", { class: "row" }, field("区县", district, { name: "district" })), table, panel);
  await load(null);
}

function failures(entry) {
  return h("ul", { class: "findings" }, entry.failures.map((f) => h("li", { class: "block" },
    `${when(f.failed_at)} ${f.reason}（${f.error_code}）· ${f.kind_name}`,
    f.request_id ? [" · ", h("a", { href: `#/sends/${f.request_id}` }, "查看该次发送")] : null)));
}

function entriesTable(entries, ctx, panel, reload) {
  const acts = ctx.may("POST /number-checks/{ref}/confirmation");
  return pagedTable([
    ["姓名或名称", (e) => e.name],
    ["类型", (e) => e.kind_name],
    ["证件号码", (e) => e.id_masked],
    ["待核实号码", (e) => e.phone_masked],
    ["标记时间", (e) => when(e.since)],
    ["失败记录", (e) => failures(e)],
    ["", (e) => (acts ? h("button", { type: "button", "aria-label": `处理 ${e.name} 的号码`, onclick: () => handle(e, panel, reload, ctx) }, "处理") : null)],
  ], entries, { caption: "待核实名单（标记最早的在前）", empty: "本区县没有待核实的号码" });
}

function handle(entry, panel, reload, ctx) {
  const done = async (message) => {
    toast(message);
    await reload();
  };
  const confirm = h("form", { "aria-label": "号码有效" }, formError(),
    h("button", { type: "submit", class: "primary" }, `号码有效（已联系本人核实 ${entry.phone_masked}）`));
  confirm.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(confirm, async () => {
      await post(`/number-checks/${entry.ref}/confirmation`);
      await done(`${entry.name} 的号码已核实为有效，已移出待核实名单`);
    });
  });
  const phone = input({ inputmode: "numeric", autocomplete: "off", maxlength: "32" });
  const source = select(SOURCES);
  const renew = h("form", { "aria-label": "录入新号码" },
    h("div", { class: "row" }, field("本人提供的新号码", phone, { name: "phone" }), field("来源渠道", source, { name: "source" }),
      h("button", { type: "submit" }, "录入新号码")), formError());
  renew.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(renew, async () => {
      const answer = await post(`/number-checks/${entry.ref}/new-number`, { phone: phone.value.trim(), source: source.value });
      phone.value = "";
      await done(`${entry.name} 的号码已更换为 ${answer.phone_masked}`);
    });
  });
  const reason = input({ maxlength: "200", placeholder: "如：空号，已无法联系本人" });
  const block = h("form", { "aria-label": "列入黑名单" },
    h("div", { class: "row" }, field("列入黑名单的原因（记入审计）", reason, { name: "reason" }),
      h("button", { type: "submit", class: "danger" }, "列入黑名单")), formError());
  block.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(block, async () => {
      const answer = await post("/number-blocks", { ref: entry.ref, reason: reason.value });
      toast(answer.applied ? `${answer.phone_masked} 已列入黑名单` : `${answer.phone_masked} 已在黑名单中`);
    });
  });
  clear(panel, section(`处理：${entry.name}（${entry.id_masked}），号码 ${entry.phone_masked}`,
    h("h3", {}, "号码仍在使用"), confirm,
    h("h3", {}, "本人已更换号码"), renew,
    ctx.may("POST /number-blocks") ? [h("h3", {}, "不再向该号码发送"), block] : null));
  phone.focus();
}

// ------------------------------------------------------------------ the block list

async function blocks(ctx) {
  const phone = input({ inputmode: "numeric", autocomplete: "off", maxlength: "32" });
  const reason = input({ maxlength: "200", placeholder: "如：本人投诉，要求不再接收任何短信" });
  const result = h("div", { "aria-live": "polite" });
  const listed = h("div", { id: "number-blocks" });
  const load = async () => {
    const answer = await get("/number-blocks", { limit: 200 });
    clear(listed, pagedTable([
      ["号码", (b) => b.phone_masked], ["原因", (b) => b.reason], ["列入时间", (b) => when(b.blocked_at)],
      ["操作人", (b) => b.blocked_by], ["单位", (b) => b.office_name],
    ], answer.blocks, { caption: ctx.me.roles.includes("district_operator") ? "本单位列入黑名单的号码" : "黑名单", empty: "黑名单中没有号码" }));
  };
  const form = h("form", { "aria-label": "黑名单" },
    h("div", { class: "row" }, field("手机号码", phone, { name: "phone" }), field("原因（记入审计）", reason, { name: "reason" })),
    formError(),
    h("div", { class: "actions" },
      ctx.may("POST /number-blocks") ? h("button", { type: "submit", value: "block", class: "danger" }, "列入黑名单") : null,
      ctx.may("POST /number-blocks/release") ? h("button", { type: "submit", value: "release" }, "解除黑名单") : null),
    result);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const release = event.submitter && event.submitter.value === "release";
    submitting(form, async () => {
      const answer = await post(release ? "/number-blocks/release" : "/number-blocks", { phone: phone.value.trim(), reason: reason.value });
      phone.value = "";
      const state = answer.blocked ? "已列入黑名单，不再向其发送任何短信" : "不在黑名单中，可以正常接收短信";
      clear(result, h("p", { class: "notice" }, `${answer.phone_masked}：${state}` + (answer.applied ? "" : "（本来就是该状态，未作改变）")));
      await load();
    });
  });
  const box = section("黑名单（不向其发送任何短信）", h("p", { class: "hint" },
    "退订只针对宣传类短信；列入黑名单的号码不会收到任何短信。区县只能将本区县通讯录中的号码列入黑名单，并只能解除本单位列入的号码。"),
  form, listed);
  await load();
  return box;
}

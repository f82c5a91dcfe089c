// Citizens' replies that are not opt-outs, month by month, newest first.

import { get } from "../api.js";
import { beijingDay, clear, field, h, input, pagedTable, section, when } from "../ui.js";

export async function render(main) {
  const month = input({ type: "month", value: beijingDay().slice(0, 7) });
  const box = h("div", { id: "replies" });
  const pages = [];
  const load = async (cursor) => {
    try {
      const answer = await get("/replies", { month: month.value, cursor });
      const more = answer.cursor ? h("button", { type: "button", onclick: () => { pages.push(cursor); load(answer.cursor); } }, "下一页") : null;
      const back = pages.length ? h("button", { type: "button", onclick: () => load(pages.pop()) }, "上一页") : null;
      clear(box, pagedTable([
        ["收到时间", (r) => when(r.received_at)], ["号码", (r) => r.phone_masked], ["内容", (r) => r.content],
        ["签名", (r) => r.sign_name], ["发送时间", (r) => r.send_time],
      ], answer.replies, { empty: "本月没有回复" }), h("nav", { class: "pager", "aria-label": "回复分页" }, back, more));
    } catch (error) {
      clear(box, h("div", { class: "error-box", role: "alert" }, error.message));
    }
  };
  month.addEventListener("change", () => { pages.length = 0; load(null); });
  main.append(h("h1", {}, "回复收件箱"), section("市民回复（退订回复已自动处理，不在此列）", field("月份", month), box));
  await load(null);
}

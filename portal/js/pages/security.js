// The signed-in account's own security: change the password, enrol TOTP.

import { clear, h, section, toast } from "../ui.js";
import { passwordForm, totpEnrolment } from "./signin.js";

export async function render(main, ctx) {
  const me = ctx.me;
  const totp = h("div");
  if (me.totp_enabled) clear(totp, h("p", {}, "已绑定动态口令，每次登录时须输入。"));
  else clear(totp, totpEnrolment(async () => { toast("动态口令已绑定"); await ctx.refreshMe(); ctx.navigate("#/security"); }));
  main.append(
    h("h1", {}, "账号安全"),
    section("我的账号", h("dl", { class: "facts" },
      h("dt", {}, "用户名"), h("dd", {}, me.username),
      h("dt", {}, "姓名"), h("dd", {}, me.real_name),
      h("dt", {}, "单位"), h("dd", {}, me.office_name),
      h("dt", {}, "角色"), h("dd", {}, me.role_names.join("、")),
      h("dt", {}, "密码有效期至"), h("dd", {}, me.password_expires_at || ""))),
    passwordForm(() => toast("密码已修改")),
    totp,
  );
}

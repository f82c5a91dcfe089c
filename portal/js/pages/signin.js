// Signing in: password, then whatever the API asks next (a new password at first sign-in, a
// TOTP code), and the steps an account must take before anything else (password change,
// TOTP enrolment for permission administrators).

import { api, saveSession } from "../api.js";
import { clear, field, formError, h, input, submitting } from "../ui.js";

export function showSignIn(root, message, done) {
  const username = input({ autocomplete: "username", required: true });
  const password = input({ type: "password", autocomplete: "current-password", required: true });
  const form = h(
    "form",
    { class: "card sign-in", "aria-label": "登录" },
    h("h1", {}, "威海市社会保险业务短信服务平台"),
    h("h2", {}, "工作人员登录"),
    message ? h("div", { class: "notice", role: "alert", id: "sign-in-message" }, message) : null,
    field("用户名", username, { name: "username" }),
    field("密码", password, { name: "password" }),
    formError(),
    h("button", { type: "submit", class: "primary" }, "登录"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(form, async () => {
      const answer = await api("POST", "/session", { username: username.value.trim(), password: password.value });
      next(root, answer, done);
    });
  });
  clear(root, h("main", { class: "centre" }, form));
  username.focus();
}

function next(root, answer, done) {
  if (answer.status === "signed_in") {
    saveSession({ access_token: answer.access_token, refresh_token: answer.refresh_token, username: answer.username });
    done();
  } else if (answer.challenge === "NEW_PASSWORD_REQUIRED") {
    newPassword(root, answer, done);
  } else if (answer.challenge === "SOFTWARE_TOKEN_MFA") {
    totpCode(root, answer, done);
  } else {
    showSignIn(root, "不支持的登录步骤，请联系运维人员", done);
  }
}

const POLICY = "至少 12 位，须含大写字母、小写字母、数字和符号，不能包含用户名";

function newPassword(root, answer, done) {
  const first = input({ type: "password", autocomplete: "new-password" });
  const second = input({ type: "password", autocomplete: "new-password" });
  const form = h(
    "form",
    { class: "card sign-in", "aria-label": "设置新密码" },
    h("h2", {}, "首次登录：请设置新密码"),
    h("p", {}, "临时密码只能使用一次。"),
    field("新密码", first, { name: "new_password", hint: POLICY }),
    field("再次输入新密码", second, { name: "confirm" }),
    formError(),
    h("button", { type: "submit", class: "primary" }, "设置并登录"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(form, async () => {
      if (first.value !== second.value) {
        throw { message: "两次输入的新密码不一致", field: "confirm", details: [] };
      }
      const result = await api("POST", "/session/challenge", {
        username: answer.username,
        challenge: "NEW_PASSWORD_REQUIRED",
        session: answer.session,
        new_password: first.value,
      });
      next(root, result, done);
    });
  });
  clear(root, h("main", { class: "centre" }, form));
  first.focus();
}

function totpCode(root, answer, done) {
  const code = input({ inputmode: "numeric", autocomplete: "one-time-code", maxlength: "6" });
  const form = h(
    "form",
    { class: "card sign-in", "aria-label": "动态口令" },
    h("h2", {}, "请输入动态口令"),
    field("身份验证器应用显示的 6 位动态口令", code, { name: "code" }),
    formError(),
    h("button", { type: "submit", class: "primary" }, "验证并登录"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(form, async () => {
      const result = await api("POST", "/session/challenge", {
        username: answer.username,
        challenge: "SOFTWARE_TOKEN_MFA",
        session: answer.session,
        code: code.value.trim(),
      });
      next(root, result, done);
    });
  });
  clear(root, h("main", { class: "centre" }, form));
  code.focus();
}

// Before anything else: change an expired or reset password, or enrol TOTP.
export function showRestriction(root, me, done, signOut) {
  const box = h("main", { class: "centre" });
  clear(root, box);
  const leave = h("button", { type: "button", onclick: signOut }, "退出登录");
  const settled = async () => {
    clear(box, h("p", { class: "loading", role: "status" }, "设置已完成，正在生效…"));
    await lifted();
    done();
  };
  if (me.restriction === "password_change") clear(box, passwordForm(settled), leave);
  else clear(box, totpEnrolment(settled), leave);
}

// The API reads account records cached for a few seconds: wait until the restriction is lifted
// everywhere, so the first page does not meet a stale refusal.
async function lifted() {
  for (let tries = 0; tries < 20; tries += 1) {
    try {
      await api("GET", "/offices");
      return;
    } catch (error) {
      if (error.status !== 403) return;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

export function passwordForm(done) {
  const current = input({ type: "password", autocomplete: "current-password" });
  const fresh = input({ type: "password", autocomplete: "new-password" });
  const again = input({ type: "password", autocomplete: "new-password" });
  const form = h(
    "form",
    { class: "card", "aria-label": "修改密码" },
    h("h2", {}, "修改密码"),
    h("p", {}, "密码已过期或已被重置，请先修改密码。"),
    field("原密码", current, { name: "current_password" }),
    field("新密码", fresh, { name: "new_password", hint: POLICY }),
    field("再次输入新密码", again, { name: "confirm" }),
    formError(),
    h("button", { type: "submit", class: "primary" }, "修改密码"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(form, async () => {
      if (fresh.value !== again.value) throw { message: "两次输入的新密码不一致", field: "confirm", details: [] };
      await api("POST", "/me/password", { current_password: current.value, new_password: fresh.value });
      done();
    });
  });
  return form;
}

export function totpEnrolment(done) {
  const area = h("div");
  const begin = h("button", { type: "button", class: "primary" }, "开始绑定");
  const form = h(
    "div",
    { class: "card", role: "region", "aria-label": "绑定动态口令" },
    h("h2", {}, "绑定动态口令（TOTP）"),
    h("p", {}, "权限管理员须使用动态口令登录。请在手机上的身份验证器应用中添加以下密钥，然后输入应用显示的 6 位数字。"),
    begin,
    area,
  );
  begin.addEventListener("click", async () => {
    begin.disabled = true;
    try {
      const secret = await api("POST", "/me/totp");
      const code = input({ inputmode: "numeric", maxlength: "6", autocomplete: "one-time-code" });
      const confirm = h(
        "form",
        { "aria-label": "确认动态口令" },
        secret.qr_code
          ? h("figure", { class: "totp-qr" },
              h("img", { id: "totp-qr", src: secret.qr_code, width: "200", height: "200", alt: "动态口令二维码" }),
              h("figcaption", {}, "用身份验证器应用扫描二维码，或手动输入下面的密钥"))
          : null,
        h("dl", { class: "facts" },
          h("dt", {}, "密钥（手动输入）"), h("dd", {}, h("code", { id: "totp-secret" }, secret.secret_code)),
          h("dt", {}, "otpauth 地址（可生成二维码）"), h("dd", {}, h("code", { id: "totp-uri", class: "wrap" }, secret.otpauth_uri))),
        field("6 位动态口令", code, { name: "code" }),
        formError(),
        h("button", { type: "submit", class: "primary" }, "完成绑定"),
      );
      confirm.addEventListener("submit", (event) => {
        event.preventDefault();
        submitting(confirm, async () => {
          await api("POST", "/me/totp/verification", { code: code.value.trim() });
          done();
        });
      });
      clear(area, confirm);
      code.focus();
    } catch (error) {
      clear(area, h("div", { class: "error-box", role: "alert" }, error.message));
      begin.disabled = false;
    }
  });
  return form;
}

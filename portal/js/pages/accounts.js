// Accounts and rights (permission administrators): create accounts, grant and withdraw roles,
// suspend and reinstate an account or a whole office, reset passwords. A reset password goes to
// its owner's verified phone by SMS, so the administrator never sees it; only an account without
// one gets it shown here, once, in a dialog that stays until closed, to be handed over in person.
// Suspending, revoking and resetting are confirmed first; the administrator's own row offers none
// of what the API refuses an administrator on its own account.

import { del, get, post } from "../api.js";
import { clear, field, formError, h, input, pagedTable, section, select, showErrors, submitting, toast, when } from "../ui.js";
import { statusBadge } from "../common.js";
import { confirmAction, showSecret } from "../dialogs.js";

const BY_NAME = new Intl.Collator("zh-CN", { numeric: true });

// Accounts by real name (pinyin order), then username: a stable order the search keeps.
function byName(accounts) {
  return [...accounts].sort((a, b) => BY_NAME.compare(a.real_name, b.real_name) || BY_NAME.compare(a.username, b.username));
}

// Accounts whose username, name or staff number contains ``words`` (case ignored).
function matching(accounts, words) {
  const wanted = words.trim().toLowerCase();
  if (!wanted) return accounts;
  return accounts.filter((a) => [a.username, a.real_name, a.staff_number].some((value) => String(value || "").toLowerCase().includes(wanted)));
}

const TEMPORARY_NOTE = "请当面交给本人；首次登录须修改密码。关闭后不能再次查看。";

export async function render(main, ctx) {
  const [roles, offices] = await Promise.all([get("/roles"), get("/offices")]);
  const roleNames = Object.fromEntries(roles.roles.map((r) => [r.role, r.name]));
  const listArea = h("div", { id: "accounts-list" });
  const officeFilter = select([["", "全部单位"], ...offices.offices.map((o) => [o.office, o.name])], { "aria-label": "按单位筛选账号" });

  const search = input({ type: "search", placeholder: "用户名、姓名或工号", autocomplete: "off" });
  const isMe = (a) => a.username === ctx.me.username;
  let accounts = [];

  const drawAccounts = () => {
    clear(listArea, pagedTable(
      [
        ["用户名", (a) => (isMe(a) ? h("span", {}, a.username, " ", h("span", { class: "badge" }, "本人")) : a.username)],
        ["姓名", (a) => a.real_name],
        ["工号", (a) => a.staff_number],
        ["单位", (a) => a.office_name],
        ["角色", (a) => h("span", {}, a.roles.map((role) => h("span", { class: "badge" }, roleNames[role] || role, " ",
          isMe(a) && role === "permission_admin" ? null : h("button", { type: "button", class: "link", "aria-label": `撤销 ${a.username} 的${roleNames[role]}`,
            onclick: () => confirmed({ title: "撤销角色", confirm: "确认撤销", message: `撤销 ${a.real_name}（${a.username}）的“${roleNames[role] || role}”角色？撤销后立即生效。` },
              () => act(() => del(`/accounts/${a.username}/roles/${role}`), "已撤销角色")) }, "×"))))],
        ["状态", (a) => a.status === "active"
          ? (a.office_suspended ? statusBadge("stopped", "单位已暂停") : a.locked_until ? statusBadge("stopped", `锁定至 ${when(a.locked_until)}`) : statusBadge("active", "正常"))
          : statusBadge("stopped", `已暂停：${a.suspended_reason}`)],
        ["操作", (a) => accountActions(a)],
      ],
      matching(accounts, search.value),
      { empty: search.value.trim() ? "没有符合条件的账号" : "没有账号" },
    ));
  };
  const loadAccounts = async () => {
    accounts = byName((await get("/accounts", { office: officeFilter.value })).accounts);
    drawAccounts();
  };
  search.addEventListener("input", drawAccounts);

  // Runs ``action`` once the administrator confirms what it will do.
  const confirmed = async (question, action) => {
    if (await confirmAction(question)) await action();
  };

  // ``where``: the inputs the action sends, with their error slots, where a refusal naming one
  // of them is shown (else it is a toast).
  const act = async (call, message, where) => {
    try {
      await call();
      toast(message);
      await loadAccounts();
      await loadOffices();
    } catch (error) {
      if (where) showErrors(where, error);
      if (!where || ![...where.querySelectorAll(".field-error")].some((slot) => slot.textContent)) toast(error.message, "bad");
    }
  };

  // A reason typed beside a button (suspensions), marked required, with its error below it.
  const reasonInput = (label) => {
    const control = input({ placeholder: "暂停原因（必填）", "aria-label": label, "aria-required": "true", name: "reason" });
    const box = h("div", { class: "inline-field" }, control,
      h("div", { class: "field-error", role: "alert", "data-error-for": "reason" }));
    return [control, box];
  };

  const resetPassword = async (a) => {
    try {
      const answer = await post(`/accounts/${a.username}/password-reset`);
      if (answer.delivery === "sms") toast(`临时密码已通过短信发送至 ${answer.phone_masked}`);
      else await showSecret({ title: `${a.real_name}（${a.username}）的临时密码`, secret: answer.temporary_password, note: TEMPORARY_NOTE });
    } catch (error) {
      toast(error.message, "bad");
    }
  };

  function accountActions(a) {
    const grantable = roles.roles.filter((r) => r.offices.includes(a.office) && !a.roles.includes(r.role));
    const role = select([["", "选择角色"], ...grantable.map((r) => [r.role, r.name])], { "aria-label": `给 ${a.username} 授予的角色` });
    const [reason, reasonBox] = reasonInput(`暂停 ${a.username} 的原因`);
    const box = h("div", { class: "actions", "data-account": a.username });
    box.append(
      role,
      h("button", { type: "button", "aria-label": `授予 ${a.username} 角色`, onclick: () => role.value && act(() => post(`/accounts/${a.username}/roles`, { role: role.value }), "已授予角色") }, "授予"),
    );
    // One's own account is neither suspended nor reset here (the API refuses both).
    if (isMe(a)) {
      box.append(h("span", { class: "hint" }, "本人账号的密码和动态口令请在“账号安全”中修改"));
      return box;
    }
    const suspend = () => act(() => post(`/accounts/${a.username}/suspension`, { reason: reason.value }), "账号已暂停", reasonBox);
    if (a.status === "active") {
      // An empty reason is refused by the API beside its field, changing nothing: no need to ask.
      box.append(reasonBox, h("button", { type: "button", class: "danger", "aria-label": `暂停账号 ${a.username}`,
        onclick: () => (reason.value.trim()
          ? confirmed({ title: "暂停账号", confirm: "确认暂停", message: `暂停 ${a.real_name}（${a.username}）的账号？暂停后其登录和正在使用的会话立即失效。原因：${reason.value.trim()}` }, suspend)
          : suspend()) }, "暂停"));
    } else {
      box.append(h("button", { type: "button", "aria-label": `恢复账号 ${a.username}`, onclick: () => act(() => del(`/accounts/${a.username}/suspension`), "账号已恢复") }, "恢复"));
    }
    box.append(h("button", { type: "button", "aria-label": `重置 ${a.username} 的密码`, onclick: () => confirmed(
      { title: "重置密码", confirm: "确认重置", message: `重置 ${a.real_name}（${a.username}）的密码？原密码立即失效，本人须用临时密码登录并设置新密码。` },
      () => resetPassword(a)) }, "重置密码"));
    return box;
  }

  // Creating an account
  const username = input({ autocomplete: "off" });
  const realName = input();
  const staffNumber = input();
  const office = select(offices.offices.map((o) => [o.office, o.name]));
  const roleBox = h("div", { class: "checks" });
  const drawRoles = () =>
    clear(roleBox, roles.roles.filter((r) => r.offices.includes(office.value)).map((r) => {
      const box = h("input", { type: "checkbox", value: r.role, id: `role-${r.role}` });
      return h("label", { for: `role-${r.role}` }, box, r.name);
    }));
  office.addEventListener("change", drawRoles);
  drawRoles();
  const created = h("div", { id: "created-account", "aria-live": "polite" });
  const form = h("form", { "aria-label": "新建账号" },
    h("div", { class: "row" },
      field("用户名", username, { name: "username", required: true }), field("真实姓名", realName, { name: "real_name", required: true }),
      field("工号", staffNumber, { name: "staff_number", required: true }), field("单位", office, { name: "office", required: true })),
    h("fieldset", {}, h("legend", {}, "角色"), roleBox, h("div", { class: "field-error", "data-error-for": "roles", role: "alert" })),
    formError(),
    h("button", { type: "submit", class: "primary" }, "新建账号"),
    created,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(form, async () => {
      const answer = await post("/accounts", {
        username: username.value.trim(), real_name: realName.value.trim(), staff_number: staffNumber.value.trim(),
        office: office.value, roles: [...roleBox.querySelectorAll("input:checked")].map((c) => c.value),
      });
      clear(created, h("div", { class: "notice" }, `已新建账号 ${answer.account.username}`,
        answer.temporary_password ? "，临时密码已在对话框中显示（仅显示这一次）" : "，临时密码由身份服务发送"));
      await loadAccounts();
      if (answer.temporary_password) {
        await showSecret({ title: `${answer.account.real_name}（${answer.account.username}）的临时密码`, secret: answer.temporary_password, note: TEMPORARY_NOTE });
      }
    });
  });

  // Offices
  const officeArea = h("div");
  const loadOffices = async () => {
    const answer = await get("/offices");
    clear(officeArea, pagedTable(
      [["单位", (o) => o.name], ["状态", (o) => (o.suspended ? statusBadge("stopped", `已暂停：${o.reason}`) : statusBadge("active", "正常"))],
        ["操作", (o) => {
          if (o.suspended) return h("button", { type: "button", "aria-label": `恢复 ${o.name}`, onclick: () => act(() => del(`/offices/${o.office}/suspension`), "单位已恢复") }, "恢复");
          const [reason, reasonBox] = reasonInput(`暂停 ${o.name} 的原因`);
          const suspend = () => act(() => post(`/offices/${o.office}/suspension`, { reason: reason.value }), "单位已暂停", reasonBox);
          return h("div", { class: "actions" }, reasonBox, h("button", { type: "button", class: "danger", "aria-label": `暂停 ${o.name}`,
            onclick: () => (reason.value.trim()
              ? confirmed({ title: "暂停单位", confirm: "确认暂停", message: `暂停${o.name}？该单位所有账号不能再操作，待审核的申请和排队中的发送一并停止。原因：${reason.value.trim()}` }, suspend)
              : suspend()) }, "暂停"));
        }]],
      answer.offices, { pageSize: 20 }));
  };

  officeFilter.addEventListener("change", loadAccounts);
  main.append(
    h("h1", {}, "账号与权限"),
    section("新建账号", form),
    section("账号", h("p", { class: "hint" }, "重置密码后，临时密码以短信发送至本人已验证的手机；本人尚未验证手机的，临时密码只在此显示一次，请当面交给本人。首次登录须修改密码。"),
      h("div", { class: "row" }, field("单位", officeFilter), field("查找账号", search)), listArea),
    section("单位的平台使用权限", h("p", { class: "hint" }, "暂停单位后，该单位所有账号不能再操作，待审核的申请和排队中的发送一并停止。"), officeArea),
  );
  await Promise.all([loadAccounts(), loadOffices()]);
}

// Accounts and rights (permission administrators): create accounts, grant and withdraw roles,
// suspend and reinstate an account or a whole office, reset passwords. A reset password goes to
// its owner's verified phone by SMS, so the administrator never sees it; only an account without
// one gets it shown here, once, to be handed over in person.

import { del, get, post } from "../api.js";
import { clear, field, formError, h, input, pagedTable, section, select, showErrors, submitting, toast, when } from "../ui.js";
import { statusBadge } from "../common.js";

export async function render(main, ctx) {
  const [roles, offices] = await Promise.all([get("/roles"), get("/offices")]);
  const roleNames = Object.fromEntries(roles.roles.map((r) => [r.role, r.name]));
  const listArea = h("div", { id: "accounts-list" });
  const officeFilter = select([["", "全部单位"], ...offices.offices.map((o) => [o.office, o.name])], { "aria-label": "按单位筛选账号" });

  const showOnce = (title, text) =>
    toast(`${title}：${text}（仅显示这一次，请当面交给本人）`);

  const loadAccounts = async () => {
    const answer = await get("/accounts", { office: officeFilter.value });
    clear(listArea, pagedTable(
      [
        ["用户名", (a) => a.username],
        ["姓名", (a) => a.real_name],
        ["工号", (a) => a.staff_number],
        ["单位", (a) => a.office_name],
        ["角色", (a) => h("span", {}, a.roles.map((role) => h("span", { class: "badge" }, roleNames[role] || role, " ",
          h("button", { type: "button", class: "link", "aria-label": `撤销 ${a.username} 的${roleNames[role]}`, onclick: () => act(() => del(`/accounts/${a.username}/roles/${role}`), "已撤销角色") }, "×"))))],
        ["状态", (a) => a.status === "active"
          ? (a.office_suspended ? statusBadge("stopped", "单位已暂停") : a.locked_until ? statusBadge("stopped", `锁定至 ${when(a.locked_until)}`) : statusBadge("active", "正常"))
          : statusBadge("stopped", `已暂停：${a.suspended_reason}`)],
        ["操作", (a) => accountActions(a)],
      ],
      answer.accounts,
      { empty: "没有账号" },
    ));
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

  function accountActions(a) {
    const grantable = roles.roles.filter((r) => r.offices.includes(a.office) && !a.roles.includes(r.role));
    const role = select([["", "选择角色"], ...grantable.map((r) => [r.role, r.name])], { "aria-label": `给 ${a.username} 授予的角色` });
    const [reason, reasonBox] = reasonInput(`暂停 ${a.username} 的原因`);
    const box = h("div", { class: "actions", "data-account": a.username });
    box.append(
      role,
      h("button", { type: "button", "aria-label": `授予 ${a.username} 角色`, onclick: () => role.value && act(() => post(`/accounts/${a.username}/roles`, { role: role.value }), "已授予角色") }, "授予"),
    );
    if (a.status === "active") {
      box.append(reasonBox, h("button", { type: "button", class: "danger", "aria-label": `暂停账号 ${a.username}`,
        onclick: () => act(() => post(`/accounts/${a.username}/suspension`, { reason: reason.value }), "账号已暂停", reasonBox) }, "暂停"));
    } else {
      box.append(h("button", { type: "button", "aria-label": `恢复账号 ${a.username}`, onclick: () => act(() => del(`/accounts/${a.username}/suspension`), "账号已恢复") }, "恢复"));
    }
    box.append(h("button", { type: "button", "aria-label": `重置 ${a.username} 的密码`, onclick: async () => {
      try {
        const answer = await post(`/accounts/${a.username}/password-reset`);
        if (answer.delivery === "sms") toast(`临时密码已通过短信发送至 ${answer.phone_masked}`);
        else showOnce(`${a.username} 的临时密码`, answer.temporary_password);
      } catch (error) {
        toast(error.message, "bad");
      }
    } }, "重置密码"));
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
      clear(created, h("div", { class: "notice" }, `已新建账号 ${answer.account.username}，临时密码：`,
        h("code", { id: "temporary-password" }, answer.temporary_password || "（由身份服务发送）"), "（仅显示这一次，首次登录须修改）"));
      await loadAccounts();
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
          return h("div", { class: "actions" }, reasonBox, h("button", { type: "button", class: "danger", "aria-label": `暂停 ${o.name}`,
            onclick: () => act(() => post(`/offices/${o.office}/suspension`, { reason: reason.value }), "单位已暂停", reasonBox) }, "暂停"));
        }]],
      answer.offices, { pageSize: 20 }));
  };

  officeFilter.addEventListener("change", loadAccounts);
  main.append(
    h("h1", {}, "账号与权限"),
    section("新建账号", form),
    section("账号", h("p", { class: "hint" }, "重置密码后，临时密码以短信发送至本人已验证的手机；本人尚未验证手机的，临时密码只在此显示一次，请当面交给本人。首次登录须修改密码。"),
      field("单位", officeFilter), listArea),
    section("单位的平台使用权限", h("p", { class: "hint" }, "暂停单位后，该单位所有账号不能再操作，待审核的申请和排队中的发送一并停止。"), officeArea),
  );
  await Promise.all([loadAccounts(), loadOffices()]);
}

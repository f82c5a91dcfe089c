// Modal dialogs: asking before an action that cannot simply be undone (suspending an account,
// revoking a role, resetting a password), and showing a secret that is given out once (a
// temporary password) until the person who must hand it over closes it themselves.

import { h } from "./ui.js";

function open(dialog) {
  document.body.append(dialog);
  dialog.showModal();
  dialog.addEventListener("close", () => dialog.remove());
}

// Resolves true when confirmed, false when cancelled (the cancel button or Escape). Focus starts
// on 取消 so a stray Enter changes nothing.
export function confirmAction({ title, message, confirm = "确定", danger = true }) {
  return new Promise((resolve) => {
    const cancel = h("button", { type: "button", onclick: () => dialog.close("cancel") }, "取消");
    const dialog = h("dialog", { class: "dialog", "aria-labelledby": "dialog-title", "aria-describedby": "dialog-message" },
      h("h2", { id: "dialog-title" }, title),
      h("p", { id: "dialog-message" }, message),
      h("div", { class: "actions" },
        h("button", { type: "button", class: danger ? "danger" : "primary", onclick: () => dialog.close("confirm") }, confirm),
        cancel));
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"));
    open(dialog);
    cancel.focus();
  });
}

// A secret shown once, with a copy button; only 我已记下 closes it (not Escape, not a timer), so
// it cannot vanish before it has been written down or copied.
export function showSecret({ title, secret, note }) {
  return new Promise((resolve) => {
    const code = h("code", { id: "temporary-password", class: "secret" }, secret);
    const copied = h("span", { class: "hint", role: "status", "aria-live": "polite" });
    const copy = async () => {
      try {
        await navigator.clipboard.writeText(secret);
        copied.textContent = "已复制";
      } catch {
        // No clipboard (an insecure origin, a refused permission): select it for Ctrl+C instead.
        getSelection().selectAllChildren(code);
        copied.textContent = "无法自动复制，已选中，请按 Ctrl+C 复制";
      }
    };
    const done = h("button", { type: "button", class: "primary", onclick: () => dialog.close() }, "我已记下，关闭");
    const dialog = h("dialog", { class: "dialog", "aria-labelledby": "dialog-title" },
      h("h2", { id: "dialog-title" }, title),
      h("p", {}, "临时密码：", code),
      note ? h("p", { class: "hint" }, note) : null,
      h("div", { class: "actions" }, h("button", { type: "button", onclick: copy }, "复制"), copied, done));
    dialog.addEventListener("cancel", (event) => event.preventDefault());
    dialog.addEventListener("close", () => resolve());
    open(dialog);
    done.focus();
  });
}

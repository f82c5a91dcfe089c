// The portal's shell: sign-in state, navigation built from the account's roles, hash routes.

import { api, clearSession, session, whenSignedOut } from "./api.js";
import { mayCall } from "./rights.js";
import { clear, h } from "./ui.js";
import { showRestriction, showSignIn } from "./pages/signin.js";

const ALL = null;
// Each page: where it lives, its title, the API routes it is for (it is shown to the roles the
// API allows on any of them, rights.js; ALL: to every account) and its module.
export const PAGES = [
  { path: "mywork", title: "我的工作", calls: ["GET /template-reviews", "POST /templates", "POST /send-requests"], module: "./pages/mywork.js" },
  { path: "dashboard", title: "统计与运维", calls: ["GET /reports/daily", "GET /operations/lanes"], module: "./pages/dashboard.js" },
  { path: "templates", title: "短信模板", calls: ["GET /templates"], module: "./pages/templates.js" },
  { path: "sends", title: "发送申请", calls: ["GET /send-requests"], module: "./pages/sends.js" },
  { path: "recipients", title: "发送明细", calls: ["GET /recipients/send/{request_id}", "GET /recipients/rule/{rule_id}", "GET /recipients/item/{product_id}", "GET /recipients/hotline"], module: "./pages/recipients.js" },
  { path: "rules", title: "触发规则", calls: ["GET /trigger-rules"], module: "./pages/rules.js" },
  { path: "items", title: "订阅项目", calls: ["GET /subscription-items"], module: "./pages/items.js" },
  { path: "faq", title: "12333问答库", calls: ["GET /hotline/entries"], module: "./pages/faq.js" },
  { path: "desk", title: "12333坐席", calls: ["GET /hotline/calls/waiting", "POST /message-lookup"], module: "./pages/desk.js" },
  { path: "contacts", title: "通讯录", calls: ["GET /contacts", "POST /contacts/opt-outs"], module: "./pages/contacts.js" },
  { path: "numbers", title: "号码核实", calls: ["GET /number-checks", "GET /number-blocks"], module: "./pages/numbers.js" },
  { path: "replies", title: "回复收件箱", calls: ["GET /replies"], module: "./pages/replies.js" },
  { path: "accounts", title: "账号与权限", calls: ["GET /accounts"], module: "./pages/accounts.js" },
  { path: "carriers", title: "运营商通道", calls: ["GET /carriers"], module: "./pages/carriers.js" },
  { path: "audit", title: "审计", calls: ["GET /audit/entries"], module: "./pages/audit.js" },
  { path: "security", title: "账号安全", calls: ALL, module: "./pages/security.js" },
];

const root = document.getElementById("app");
let me = null;

export function visiblePages(roles) {
  return PAGES.filter((page) => page.calls === ALL || mayCall(roles, ...page.calls));
}

function context() {
  return {
    me,
    has: (...roles) => roles.some((role) => me.roles.includes(role)),
    may: (...routes) => mayCall(me.roles, ...routes),
    navigate: (hash) => {
      if (location.hash === hash) route();
      else location.hash = hash;
    },
    refreshMe: async () => (me = await api("GET", "/me")),
  };
}

async function signOut(message = "已退出登录") {
  try {
    await api("DELETE", "/session");
  } catch {
    // Signing out locally is what matters; the API ends the session when it can.
  }
  clearSession();
  me = null;
  start(message);
}

// The page's main heading (or the main region itself) takes the focus, so a keyboard or screen
// reader user starts reading the new page instead of the top of the document.
function focusMain() {
  const main = document.getElementById("main");
  if (!main) return;
  const heading = main.querySelector("h1, h2");
  const target = heading || main;
  if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
  target.focus();
}

function shell(pages) {
  const menu = h("button", {
    type: "button",
    class: "menu-toggle",
    "aria-controls": "side-nav",
    "aria-expanded": "false",
    onclick: () => setMenu(menu.getAttribute("aria-expanded") !== "true"),
  }, "菜单");
  const nav = h(
    "nav",
    { class: "side", id: "side-nav", "aria-label": "主导航" },
    h("ul", {}, pages.map((page) => h("li", {}, h("a", { href: `#/${page.path}`, "data-page": page.path }, page.title)))),
  );
  const skip = h("a", {
    class: "skip-link",
    href: "#main",
    // The portal routes on the hash: the skip link moves the focus without changing the route.
    onclick: (event) => {
      event.preventDefault();
      focusMain();
    },
  }, "跳到正文");
  const header = h(
    "header",
    { class: "top" },
    h("div", { class: "brand" }, menu, h("span", {}, "威海市社会保险业务短信服务平台")),
    h(
      "div",
      { class: "who" },
      h("span", { id: "who-name" }, `${me.real_name}（${me.office_name}）`),
      h("span", { class: "roles" }, me.role_names.join("、")),
      h("button", { type: "button", id: "sign-out", onclick: () => signOut(), "aria-label": "退出登录" }, "退出登录"),
    ),
  );
  const main = h("main", { id: "main", tabindex: "-1" });
  clear(root, skip, header, h("div", { class: "body" }, nav, main));
}

// On narrow screens the navigation folds away behind the 菜单 button (portal.css).
function setMenu(open) {
  const toggle = document.querySelector("button.menu-toggle");
  if (!toggle) return;
  toggle.setAttribute("aria-expanded", String(open));
  document.getElementById("side-nav").classList.toggle("open", open);
}

async function route() {
  if (!me) return;
  const pages = visiblePages(me.roles);
  const [name, ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  const page = pages.find((p) => p.path === name) || pages[0];
  for (const link of document.querySelectorAll("nav.side a")) {
    link.toggleAttribute("aria-current", link.dataset.page === page.path);
  }
  setMenu(false); // a page chosen from the folded menu takes the screen
  // Each visit renders into its own element: a page still loading when the user moves on
  // finishes into a detached element instead of adding itself to the next page.
  const main = document.getElementById("main");
  const view = h("div", {}, h("p", { class: "loading" }, "正在加载…"));
  clear(main, view);
  document.title = `${page.title} - 短信服务平台`;
  try {
    const module = await import(page.module);
    clear(view);
    await module.render(view, context(), rest.map(decodeURIComponent));
  } catch (error) {
    if (session()) clear(view, h("div", { class: "error-box", role: "alert" }, error.message || String(error)));
  }
  // A page that placed the focus itself (an item opened from a link) keeps it; a visit that
  // was overtaken by the next one leaves the focus to that one.
  if (view.isConnected && !view.contains(document.activeElement)) focusMain();
}

export async function start(message) {
  me = null;
  if (!session()) {
    showSignIn(root, message, () => start());
    return;
  }
  try {
    me = await api("GET", "/me");
  } catch {
    return; // api.js has already sent us back to the sign-in page with the reason
  }
  if (me.restriction) {
    showRestriction(root, me, () => start(), () => signOut());
    return;
  }
  shell(visiblePages(me.roles));
  await route();
}

whenSignedOut((message) => start(message));
window.addEventListener("hashchange", route);
start();

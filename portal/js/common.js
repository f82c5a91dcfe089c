// Names and lists several pages share, and lookups cached for the page's life.

import { get } from "./api.js";
import { badge } from "./ui.js";

export const CATEGORY_NAMES = {
  triggered: "业务触发类",
  targeted: "定向通知类",
  publicity: "宣传公告类",
  hangup: "12333挂机短信",
  subscription: "付费订阅类",
  system: "平台系统消息",
};

export const DISTRICTS = [
  ["huancui", "环翠区"], ["wendeng", "文登区"], ["rongcheng", "荣成市"], ["rushan", "乳山市"],
  ["gaoqu", "高区"], ["jingqu", "经区"], ["lingang", "临港区"], ["nanhai", "南海新区"],
];

export const OFFICE_NAMES = {
  city: "市社保中心", hotline: "12333服务中心", it: "信息技术科", ...Object.fromEntries(DISTRICTS),
};

export const INSURANCE = [
  ["pension", "养老保险"], ["medical", "医疗保险"], ["unemployment", "失业保险"],
  ["work_injury", "工伤保险"], ["maternity", "生育保险"],
];

/** Who a send goes to, as its request and its review show it: the people, their districts,
 * and the insurance type and tag when the segment is narrowed by them. */
export function audienceText(view) {
  const r = view.request;
  const kind = r.audience.kind === "unit" ? "参保单位" : "参保人员";
  if (r.sheet) return `${view.audience_size} 人（个性化名单，${kind}，共 ${r.sheet.rows} 行，被拒 ${r.sheet.rejected} 行）`;
  const parts = [kind, r.audience.districts.length ? r.audience.districts.map((d) => OFFICE_NAMES[d] || d).join("、") : "全市"];
  const insurance = INSURANCE.find(([code]) => code === r.audience.insurance_type);
  if (insurance) parts.push(`险种：${insurance[1]}`);
  if (r.audience.tag) parts.push(`标签：${r.audience.tag}`);
  return `${view.audience_size} 人（${parts.join("，")}）`;
}

const GOOD = new Set(["active", "approved", "delivered", "done", "carrier_approved", "on_sale"]);
const BAD = new Set(["rejected", "carrier_rejected", "failed", "stopped", "cancelled", "expired", "retired", "withdrawn"]);

export function statusBadge(status, text) {
  return badge(text || status, GOOD.has(status) ? "ok" : BAD.has(status) ? "bad" : "warn");
}

// A send's state as staff read it: a fanned-out send is still 发送中 (not yet a success) until
// every message has its final state; then 已发送完毕.
export function sendStatus(status, name, done) {
  return done ? statusBadge("done", "已发送完毕") : statusBadge(status === "fanned_out" ? "sending" : status, name);
}

let signatures = null;
export async function signatureOf(office) {
  if (!signatures) {
    const answer = await get("/signatures");
    signatures = Object.fromEntries(answer.signatures.map((s) => [s.office, s.name]));
  }
  return signatures[office] || null;
}

// Beijing wall time from a datetime-local value, as ISO 8601 with its offset.
export function beijingIso(local) {
  if (!local) return null;
  return `${local.length === 16 ? `${local}:00` : local}+08:00`;
}

export function inPublicityWindow(local) {
  if (!local) return true;
  const [hours, minutes] = local.slice(11, 16).split(":").map(Number);
  const minute = hours * 60 + minutes;
  return minute >= 8 * 60 && minute < 21 * 60;
}

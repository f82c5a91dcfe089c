// SMS length and parts, counted as layers/shared/sms_platform/sms.py counts them (the carrier's
// rules): 【signature】 + text; GSM-7 when every character is in the GSM 03.38 alphabet
// (160 septets in one part, 153 per part, extension characters take two), else UCS-2
// (70 UTF-16 units in one part, 67 per part). A part never splits a surrogate pair or an
// escape sequence. "characters" is UTF-16 units, which is also JavaScript's string length.

export const MAX_CHARACTERS = 500;

const GSM7_BASIC = new Set(
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà",
);
const GSM7_EXTENSION = new Set("\f^{}\\[~]|€");
const LIMITS = { "GSM-7": [160, 153], "UCS-2": [70, 67] };

// Python's str.strip() whitespace, so a signature is trimmed the same way on both sides.
const SPACE = "[\\t\\n\\v\\f\\r \\u001c-\\u001f\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const TRIM = new RegExp(`^${SPACE}+|${SPACE}+$`, "gu");

export function fullText(text, signature) {
  if (!signature) return text;
  let name = signature.replace(TRIM, "");
  if (name.startsWith("【")) name = name.slice(1);
  if (name.endsWith("】")) name = name.slice(0, -1);
  return `【${name}】${text}`;
}

export function isGsm7(text) {
  for (const char of text) if (!GSM7_BASIC.has(char) && !GSM7_EXTENSION.has(char)) return false;
  return true;
}

function unitSizes(message, encoding) {
  const sizes = [];
  for (const char of message) {
    if (encoding === "GSM-7") sizes.push(GSM7_EXTENSION.has(char) ? 2 : 1);
    else sizes.push(char.codePointAt(0) > 0xffff ? 2 : 1);
  }
  return sizes;
}

function countParts(sizes, perPart) {
  let parts = 1;
  let used = 0;
  for (const size of sizes) {
    if (used + size > perPart) {
      parts += 1;
      used = 0;
    }
    used += size;
  }
  return parts;
}

// {characters, encoding, parts, per_part, units, too_long}
export function measure(text, signature = null) {
  const message = fullText(text, signature);
  const characters = message.length;
  const encoding = isGsm7(message) ? "GSM-7" : "UCS-2";
  const [single, multi] = LIMITS[encoding];
  const sizes = unitSizes(message, encoding);
  const units = sizes.reduce((a, b) => a + b, 0);
  const tooLong = characters > MAX_CHARACTERS;
  if (units === 0) return { characters, encoding, parts: 0, per_part: single, units: 0, too_long: tooLong };
  if (units <= single) return { characters, encoding, parts: 1, per_part: single, units, too_long: tooLong };
  return { characters, encoding, parts: countParts(sizes, multi), per_part: multi, units, too_long: tooLong };
}

// ---------------------------------------------------------------------------- hints as you type
// The API checks again on submission (forbidden words included); these are the same rules the
// author can see at once: placeholders, links, length, the opt-out line, relevance.

const URL_PATTERNS = [
  /[a-z][a-z0-9+.-]*:\/\//i,
  /www\./i,
  /[a-z0-9-]+(?:\.[a-z0-9-]+)+\//i,
  /(?<![a-z0-9-])[a-z0-9-]+\.[a-z]{2,}(?![a-z0-9])/i,
  /(?<!\d)\d{1,3}(?:\.\d{1,3}){3}(?!\d)/,
];
const RELEVANCE = ["社保", "社会保险", "社会保障", "养老", "医疗", "医保", "失业", "工伤", "生育", "参保",
  "缴费", "缴纳", "待遇", "人社", "人力资源", "12333", "退休", "就业", "社保卡", "保险费", "经办", "认证",
  "个人账户", "补贴"];
export const OPT_OUT_LINE = "拒收请回复R";

export function containsUrl(text) {
  const folded = text.normalize("NFKC").replaceAll("。", ".");
  return URL_PATTERNS.some((pattern) => pattern.test(folded));
}

export function placeholders(text) {
  return [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]);
}

export function render(text, values) {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name) =>
    values && values[name] ? values[name] : whole,
  );
}

// [{level: "block" | "warn" | "info", message}]
export function hints(text, { signature, category, variables = [] }) {
  const found = [];
  if (!text.trim()) return [{ level: "block", message: "短信内容不能为空" }];
  const declared = new Set(variables.map((v) => v.name));
  const used = placeholders(text);
  for (const name of new Set(used)) {
    if (!declared.has(name)) found.push({ level: "block", message: `变量 \${${name}} 尚未声明` });
  }
  for (const name of declared) {
    if (!used.includes(name)) found.push({ level: "warn", message: `已声明的变量 ${name} 未在内容中使用` });
  }
  if (containsUrl(text)) found.push({ level: "block", message: "短信内容不能含有网址或链接" });
  const length = measure(text, signature);
  if (length.too_long) {
    found.push({ level: "block", message: `短信内容（含签名）最多 ${MAX_CHARACTERS} 字，当前 ${length.characters} 字` });
  }
  if (category === "publicity") {
    const ending = text.normalize("NFKC").trimEnd().replace(/[。.!！]+$/u, "");
    if (!ending.endsWith(OPT_OUT_LINE)) found.push({ level: "block", message: `宣传类短信必须以“${OPT_OUT_LINE}”结尾` });
  }
  if (category !== "system" && !RELEVANCE.some((term) => text.normalize("NFKC").toLowerCase().includes(term))) {
    found.push({ level: "warn", message: "短信内容看不出与社会保险业务有关，请确认是否属于社保业务" });
  }
  if (variables.length) {
    let longest = text;
    for (const v of variables) longest = longest.replaceAll(`\${${v.name}}`, "字".repeat(Number(v.max_length) || 1));
    const worst = measure(longest, signature);
    found.push({
      level: worst.too_long ? "warn" : "info",
      message: `变量取最大长度时含签名共 ${worst.characters} 字，按 ${worst.parts} 条计费`,
    });
  }
  const order = { block: 0, warn: 1, info: 2 };
  return found.sort((a, b) => order[a.level] - order[b.level]);
}

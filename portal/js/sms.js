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

// ---------------------------------------------------------------------------- placeholders
// The content check itself (forbidden words, links, the opt-out line, relevance) runs on the
// API: POST /v1/staff/templates/content-check.

export function placeholders(text) {
  return [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]);
}

export function render(text, values) {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name) =>
    values && values[name] ? values[name] : whole,
  );
}

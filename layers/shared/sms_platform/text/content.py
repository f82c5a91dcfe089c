"""The content check run when a template is submitted; its findings are shown to the reviewer.

Levels: ``block`` findings stop approval, ``warn`` findings need the reviewer's attention, and
``info`` findings are facts (length and parts). The rules:

- forbidden words (Article 57 of the Telecommunications Regulations), matched after folding
  full-width and half-width forms, letter case, and spaces or dots put between characters to
  slip past a filter: block;
- a URL: block (the carrier refuses links);
- length and parts with the signature: info, block above 500 characters;
- a publicity template must end with the opt-out line 拒收请回复R: block;
- a text with no word of social-insurance business in it: warn. The signature is left out of
  this check, since every office's signature names social insurance. ``system`` templates (the
  platform's own messages, such as verification codes) are not held to it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sms_platform.foundation.errors import ContentRejected, ValidationFailed
from sms_platform.text.sms import measure
from sms_platform.text.templating import VariableSpec, as_specs, contains_url, parse_template

Level = Literal["block", "warn", "info"]

OPT_OUT_LINE = "拒收请回复R"

# Words that show a text is about social-insurance work. The housing provident fund (公积金) is
# a different agency's business and is left out on purpose.
RELEVANCE_TERMS: tuple[str, ...] = (
    "社保",
    "社会保险",
    "社会保障",
    "养老",
    "医疗",
    "医保",
    "失业",
    "工伤",
    "生育",
    "参保",
    "缴费",
    "缴纳",
    "待遇",
    "人社",
    "人力资源",
    "12333",
    "退休",
    "就业",
    "社保卡",
    "保险费",
    "经办",
    "认证",
    "个人账户",
    "补贴",
)

# Characters removed before matching forbidden words: whitespace, zero-width characters, and
# the small marks people put between characters ("赌 博", "赌.博", "赌*博").
_FILLER = re.compile(r"[\s\u200b-\u200d\u2060\ufeff*·•._\-|/\\~^]+")


@dataclass(frozen=True)
class Finding:
    level: Level
    code: str
    message: str


def fold(text: str) -> str:
    """Text as forbidden words are matched: full-width folded, lower case, fillers removed."""
    return _FILLER.sub("", unicodedata.normalize("NFKC", text).casefold())


def _forbidden(text: str, words: Iterable[str]) -> list[Finding]:
    folded = fold(text)
    findings, seen = [], set()
    for word in words:
        key = fold(word)
        if key and key not in seen and key in folded:
            seen.add(key)
            findings.append(
                Finding(
                    "block",
                    "forbidden_word",
                    f"含有禁止发送的内容“{word.strip()}”（《电信条例》第五十七条），不能通过审核",
                )
            )
    return findings


def _length(text: str, signature: str | None, variables: list[VariableSpec]) -> list[Finding]:
    try:
        length = measure(text, signature)
    except ContentRejected as error:
        return [Finding("block", "too_long", error.message)]
    findings = [
        Finding("info", "length", f"含签名共 {length.characters} 字，按 {length.parts} 条计费（{length.encoding}）")
    ]
    if variables:
        # The longest message: every placeholder filled to its declared length.
        longest = text
        for spec in variables:
            longest = longest.replace(f"${{{spec.name}}}", "字" * spec.max_length)
        try:
            worst = measure(longest, signature)
        except ContentRejected as error:
            findings.append(Finding("warn", "may_be_too_long", f"变量取最大长度时超出上限：{error.message}"))
        else:
            findings.append(
                Finding(
                    "info",
                    "longest_length",
                    f"变量取最大长度时含签名共 {worst.characters} 字，按 {worst.parts} 条计费",
                )
            )
    return findings


def _opt_out(text: str) -> list[Finding]:
    ending = unicodedata.normalize("NFKC", text).rstrip().rstrip("。.!！")
    if ending.endswith(OPT_OUT_LINE):
        return []
    return [Finding("block", "opt_out_missing", f"宣传类短信必须以“{OPT_OUT_LINE}”结尾")]


def _relevance(text: str) -> list[Finding]:
    folded = fold(text)
    if any(term in folded for term in RELEVANCE_TERMS):
        return []
    return [Finding("warn", "not_social_insurance", "短信内容看不出与社会保险业务有关，请确认是否属于社保业务")]


def review_content(
    text: str,
    *,
    signature: str | None,
    category: str,
    forbidden_words: Iterable[str],
    variables: Iterable[VariableSpec | Mapping[str, Any]] = (),
) -> list[Finding]:
    """Every finding for a template text, blocks first, then warnings, then facts.

    ``variables`` (optional) adds the length of the longest possible message.
    """
    findings: list[Finding] = []
    if not isinstance(text, str) or not text.strip():
        return [Finding("block", "empty", "短信内容不能为空")]
    try:
        parse_template(text)
    except ValidationFailed as error:
        findings.append(Finding("block", "placeholder", error.message))
    findings += _forbidden(text, forbidden_words)
    if contains_url(text):
        findings.append(Finding("block", "url", "短信内容不能含有网址或链接"))
    findings += _length(text, signature, as_specs(variables))
    if category == "publicity":
        findings += _opt_out(text)
    if category != "system":
        findings += _relevance(text)
    order = {"block": 0, "warn": 1, "info": 2}
    return sorted(findings, key=lambda finding: order[finding.level])


def blocks(findings: Iterable[Finding]) -> bool:
    """Whether any finding stops approval."""
    return any(finding.level == "block" for finding in findings)

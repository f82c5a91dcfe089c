"""The content check while an author types (R12, R17): the same review that runs on submission
(``content.review_content`` with the reviewers' current word list and the owning office's
signature), plus the variable declarations the save will insist on, and the message's length
and parts. Nothing is stored: an author may check as often as they like.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sms_platform.foundation.errors import ContentRejected, Forbidden, ValidationFailed
from sms_platform.staff.context import Office, StaffContext
from sms_platform.templates.models import ContentCheckOut, FindingOut, LengthOut, may_author
from sms_platform.templates.signatures import signature_for
from sms_platform.templates.words import forbidden_words
from sms_platform.text.content import review_content
from sms_platform.text.sms import MAX_CHARACTERS, full_text, measure, utf16_length
from sms_platform.text.templating import check_declarations


def declaration_findings(text: str, variables: Iterable[Any]) -> list[FindingOut]:
    """Placeholders not declared, declarations not used or declared twice (block findings)."""
    try:
        check_declarations(text, variables)
    except ValidationFailed as error:
        return [FindingOut(level="block", code="declaration", message=d["message"]) for d in error.details or []]
    return []


def length_of(text: str, signature: str | None) -> LengthOut:
    """Length and parts with the signature; a text over the limit still gets its length."""
    try:
        length = measure(text, signature)
    except ContentRejected:
        characters = utf16_length(full_text(text, signature))
        return LengthOut(characters=characters, encoding=None, parts=None, per_part=None, units=None, too_long=True,
                         limit=MAX_CHARACTERS)  # fmt: skip
    return LengthOut(characters=length.characters, encoding=length.encoding, parts=length.parts,
                     per_part=length.per_part, units=length.units, too_long=False, limit=MAX_CHARACTERS)  # fmt: skip


def check(
    ctx: StaffContext, *, text: str, category: str, office: Office | str, variables: Iterable[Mapping[str, Any]]
) -> ContentCheckOut:
    """Findings (blocks first), the signature and the length of a draft text ``ctx`` may write."""
    if not may_author(ctx, category, office):
        raise Forbidden("您不能为该单位编写该类别的模板", field="office")
    variables = list(variables)
    signature = signature_for(office)
    findings = [
        FindingOut(level=f.level, code=f.code, message=f.message)
        for f in review_content(
            text,
            signature=signature,
            category=category,
            forbidden_words=forbidden_words(),
            variables=variables,
        )
    ]
    if not any(f.code in ("placeholder", "empty") for f in findings):
        findings = declaration_findings(text, variables) + findings
    order = {"block": 0, "warn": 1, "info": 2}
    return ContentCheckOut(
        findings=sorted(findings, key=lambda f: order[f.level]),
        blocks=any(f.level == "block" for f in findings),
        signature=signature,
        preview=full_text(text, signature),
        length=length_of(text, signature),
    )

"""One vocabulary: a refusal in review is 不通过 (its state 审核未通过) on every portal page and in
every Chinese message, label and summary of the API, never 驳回 or 退回. The portal's words live
in portal/js/glossary.js."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GLOSSARY = ROOT / "portal" / "js" / "glossary.js"
OTHER_WORDS = ("驳回", "退回")


def sources() -> list[Path]:
    found = [*sorted((ROOT / "portal").rglob("*.js")), *sorted((ROOT / "portal").glob("*.html"))]
    found += sorted((ROOT / "functions").rglob("*.py"))
    found += sorted((ROOT / "layers" / "shared" / "sms_platform").rglob("*.py"))
    found += sorted((ROOT / "docs").rglob("*.md"))
    return [path for path in found if path != GLOSSARY]


def uses(text: str) -> list[tuple[int, str]]:
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if any(w in line for w in OTHER_WORDS)]


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_refusal_is_one_word(path: Path) -> None:
    assert uses(path.read_text(encoding="utf-8")) == [], f"{path.relative_to(ROOT)}: a refusal is 不通过 (glossary.js)"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ('h("button", {}, "驳回")', [(1, 'h("button", {}, "驳回")')]),
        ('toast("已退回")', [(1, 'toast("已退回")')]),
        ('h("button", {}, TERMS.refuse)', []),
        ("不通过的原因\n审核未通过", []),
    ],
)
def test_the_check_finds_the_other_words(text: str, found: list[tuple[int, str]]) -> None:
    assert uses(text) == found


def test_the_glossary_names_the_refusal() -> None:
    text = GLOSSARY.read_text(encoding="utf-8")
    assert re.search(r'refuse: "不通过"', text)
    assert re.search(r'refuseReason: "不通过的原因"', text)


@pytest.mark.parametrize(
    "path",
    [p for p in sorted((ROOT / "portal" / "js").rglob("*.js")) if "/rejection" in p.read_text(encoding="utf-8")],
    ids=lambda p: p.name,
)
def test_every_page_that_refuses_takes_its_words_from_the_glossary(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert 'from "../glossary.js"' in text and "TERMS.refuse" in text

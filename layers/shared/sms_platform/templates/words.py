"""The forbidden words the content check looks for (R17): the seed list of ``text.forbidden_words``
as city reviewers amend it, adding words of their own and removing seed words. Every change is
audited, and answers with the list as it is after it."""

from __future__ import annotations

from datetime import datetime

from sms_platform.audit import trail
from sms_platform.foundation.errors import Conflict, NotFound, ValidationFailed
from sms_platform.staff.context import StaffContext
from sms_platform.templates import store
from sms_platform.templates.models import WordOut, WordsOut
from sms_platform.text.content import fold
from sms_platform.text.forbidden_words import category_of, default_words


def forbidden_words() -> list[str]:
    """The word list in force: the seed list, less the words reviewers removed, plus theirs."""
    items = store.word_items()
    removed = {item["sk"] for item in items if item.get("removed")}
    added = [item["sk"] for item in items if not item.get("removed")]
    words = [w for w in default_words() if w not in removed]
    return words + [w for w in added if w not in words]


def _word_list() -> WordsOut:
    items = {item["sk"]: item for item in store.word_items()}
    entries = []
    for word in default_words():
        if not items.get(word, {}).get("removed"):
            entries.append(WordOut(word=word, source="seed", category=category_of(word), added_by=None))
    for word, item in items.items():
        if not item.get("removed") and word not in default_words():
            entries.append(WordOut(word=word, source="reviewer", category=None, added_by=item.get("added_by")))
    return WordsOut(words=entries)


def word_list(ctx: StaffContext) -> WordsOut:
    """The list as reviewers manage it: each word, where it came from, who added it."""
    return _word_list()


def add_word(ctx: StaffContext, word: str, *, now: datetime) -> WordsOut:
    word = (word or "").strip()
    if not 1 <= len(word) <= 30 or not fold(word):
        raise ValidationFailed("禁用词须为 1 到 30 个字", field="word")
    if word in forbidden_words():
        raise Conflict("词表中已有这个词", field="word")
    store.put_added_word(word, by=ctx.real_name, at=now.isoformat())
    trail.record(ctx, "forbidden_word.add", f"forbidden_word:{word}", after={"word": word}, at=now)
    return _word_list()


def remove_word(ctx: StaffContext, word: str, *, now: datetime) -> WordsOut:
    if word not in forbidden_words():
        raise NotFound("词表中没有这个词")
    if word in default_words():
        store.put_removed_seed_word(word, by=ctx.real_name)
    else:
        store.delete_added_word(word)
    trail.record(ctx, "forbidden_word.remove", f"forbidden_word:{word}", before={"word": word}, at=now)
    return _word_list()

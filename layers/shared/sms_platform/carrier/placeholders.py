"""The platform's named template variables (``${name}``) and Tencent's positional placeholders
(``{1}``, ``{2}`` ...), both ways, as pure functions.

A template is filed with Tencent in positional form, and the names in position order are kept
with the template version (its filing with that carrier), so that a send turns its named values
into the ``TemplateParamSet`` list. Each occurrence of a variable gets a position of its own,
in the order of the text: a variable used twice fills two positions with the same value, and
variables declared in one order but written in another follow the text. So a filed template
never relies on a placeholder being allowed twice, and the positional text turns back into
exactly the named one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

NAMED = re.compile(r"\$\{(\w+)\}")
POSITIONAL = re.compile(r"\{(\d+)\}")


@dataclass(frozen=True)
class Positional:
    """A template in positional form and the variable name of each position (``names[0]`` is ``{1}``)."""

    text: str
    names: tuple[str, ...]


def to_positional(text: str) -> Positional:
    """``"${name}您好，${name}的待遇${amount}元"`` → ``"{1}您好，{2}的待遇{3}元"`` with names
    ``("name", "name", "amount")``. A text that already holds a ``{digits}`` of its own is
    refused: the carrier would take it for a placeholder."""
    if POSITIONAL.search(NAMED.sub("", text)):
        raise ValueError("the text holds a {number} of its own, which Tencent would read as a placeholder")
    names: list[str] = []

    def place(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return "{" + str(len(names)) + "}"

    return Positional(NAMED.sub(place, text), tuple(names))


def to_named(text: str, names: Sequence[str]) -> str:
    """The named form of a positional text, given the names in position order."""

    def name(match: re.Match[str]) -> str:
        position = int(match.group(1))
        if not 1 <= position <= len(names):
            raise ValueError(f"placeholder {{{position}}} has no name")
        return "${" + names[position - 1] + "}"

    return POSITIONAL.sub(name, text)


def positional_values(names: Sequence[str], values: Mapping[str, Any] | None) -> list[str]:
    """``TemplateParamSet``: the value of each position, as strings. A value missing for a
    position is refused here rather than by the carrier."""
    values = values or {}
    missing = sorted({n for n in names if n not in values})
    if missing:
        raise ValueError(f"no value for {', '.join(missing)}")
    return [str(values[n]) for n in names]

"""Operators by name, for auditors: the accounts to choose from and what a typed name means.

The trail indexes entries by account id (the username); auditors know people by their real
names. ``resolve`` turns what they typed (a username, a full real name or part of one) into the
one account it names, and refuses, listing the candidates, when it names several or none.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from sms_platform.foundation.errors import ValidationFailed
from sms_platform.staff import account_store
from sms_platform.staff.account_models import Account
from sms_platform.staff.context import OFFICE_NAMES

MAX_LISTED = 5


class Operator(BaseModel):
    username: str
    real_name: str
    office: str
    office_name: str


class Operators(BaseModel):
    operators: list[Operator] = Field(description="全部账号，按姓名排列")


def _of(account: Account) -> Operator:
    return Operator(
        username=account.username,
        real_name=account.real_name,
        office=account.office.value,
        office_name=OFFICE_NAMES[account.office],
    )


def operators() -> Operators:
    """Every account an entry may name, in name order."""
    found = sorted(account_store.list_accounts(), key=lambda a: (a.real_name, a.username))
    return Operators(operators=[_of(a) for a in found])


def _refusal(text: str, candidates: list[Account]) -> ValidationFailed:
    if not candidates:
        return ValidationFailed(f"没有姓名或用户名为“{text}”的账号", field="operator")
    listed = "、".join(f"{a.real_name}（{a.username}，{OFFICE_NAMES[a.office]}）" for a in candidates[:MAX_LISTED])
    more = f"等 {len(candidates)} 个账号" if len(candidates) > MAX_LISTED else ""
    return ValidationFailed(f"“{text}”对应多个账号：{listed}{more}，请输入其中一个的用户名", field="operator")


# An account id as the trail keeps it: one that names no account now (a removed account's
# entries stay in the trail) is still searched for, as the filter always took account ids.
_ACCOUNT_ID = re.compile(r"[A-Za-z0-9._@-]+")


def resolve(text: str) -> str:
    """The username of the one account ``text`` names: its username, else its full real name,
    else a part of its real name; an account id of no account as it is."""
    wanted = text.strip()
    accounts = account_store.list_accounts()
    for matches in (
        [a for a in accounts if a.username == wanted],
        [a for a in accounts if a.real_name == wanted],
        [a for a in accounts if wanted and wanted in a.real_name],
    ):
        if len(matches) == 1:
            return matches[0].username
        if matches:
            raise _refusal(wanted, sorted(matches, key=lambda a: (a.real_name, a.username)))
    if _ACCOUNT_ID.fullmatch(wanted):
        return wanted
    raise _refusal(wanted, [])

"""Office signatures (R13): every message shows the name of the office that owns its content.

Each office has one signature filed with the carrier, shown as 【name】 before the text. The
defaults below are the platform's starting point; a city operator may change one (audited).
Rules: 2-12 characters, Chinese characters, letters and digits only (the carrier's rule), and it
must name the office: its place (威海 or the district) and an institution word. A person's name
or an anonymous label cannot be a signature, so no message goes out under a person's name.

Stored in ``CONTROL_TABLE`` as ``pk="signature"``, ``sk=<office>``; an office without a stored
record uses its default, so there is always a signature to send with.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from sms_platform import aws
from sms_platform.audit import trail
from sms_platform.foundation.errors import Conflict, NotFound, ValidationFailed
from sms_platform.foundation.settings import settings
from sms_platform.staff.context import OFFICE_NAMES, Office, StaffContext

MIN_LENGTH, MAX_LENGTH = 2, 12
_PK = "signature"

DEFAULT_SIGNATURES: dict[Office, str] = {
    Office.city: "威海市社会保险事业中心",
    Office.huancui: "环翠区社会保险事业中心",
    Office.wendeng: "文登区社会保险事业中心",
    Office.rongcheng: "荣成市社会保险事业中心",
    Office.rushan: "乳山市社会保险事业中心",
    Office.gaoqu: "威海高区社会保险事业中心",
    Office.jingqu: "威海经区社会保险事业中心",
    Office.lingang: "威海临港区社会保险中心",
    Office.nanhai: "南海新区社会保险事业中心",
    Office.hotline: "威海市12333服务中心",
    Office.it: "威海市人社信息中心",
}

# The place each office's signature must name.
OFFICE_PLACES: dict[Office, tuple[str, ...]] = {
    Office.city: ("威海",),
    Office.huancui: ("环翠",),
    Office.wendeng: ("文登",),
    Office.rongcheng: ("荣成",),
    Office.rushan: ("乳山",),
    Office.gaoqu: ("高区", "高技术"),
    Office.jingqu: ("经区", "经济技术"),
    Office.lingang: ("临港",),
    Office.nanhai: ("南海",),
    Office.hotline: ("威海", "12333"),
    Office.it: ("威海",),
}

# Words that make a name an institution's rather than a person's.
INSTITUTION_WORDS: tuple[str, ...] = (
    "中心",
    "社保",
    "社会保险",
    "人社",
    "人力资源",
    "保障局",
    "12333",
    "办公室",
    "经办处",
    "管理处",
    "服务站",
    "服务所",
    "信息科",
)

_CHARACTERS = re.compile(r"^[\u4e00-\u9fffA-Za-z0-9]+$")


def signature_problems(office: Office | str, name: str) -> list[str]:
    """Why ``name`` cannot be ``office``'s signature (empty when it can)."""
    office = Office(office)
    text = name if isinstance(name, str) else ""
    problems = []
    if not MIN_LENGTH <= len(text) <= MAX_LENGTH:
        problems.append(f"签名须为 {MIN_LENGTH} 到 {MAX_LENGTH} 个字，当前 {len(text)} 个字")
    if text and not _CHARACTERS.match(text):
        problems.append("签名只能包含汉字、字母和数字，不能含空格、标点或【】")
    if not any(place in text for place in OFFICE_PLACES[office]):
        places = "或".join(f"“{p}”" for p in OFFICE_PLACES[office])
        problems.append(f"{OFFICE_NAMES[office]}的签名须写明所在地（{places}）")
    if not any(word in text for word in INSTITUTION_WORDS):
        problems.append("签名须为单位名称（如“…社会保险事业中心”），不能使用个人姓名或匿名")
    return problems


def check_signature(office: Office | str, name: str) -> None:
    problems = signature_problems(office, name)
    if problems:
        raise ValidationFailed(
            "；".join(problems), field="name", details=[{"field": "name", "message": p} for p in problems]
        )


def display(name: str) -> str:
    """As the carrier shows it at the start of the message."""
    return f"【{name}】"


class Signature(BaseModel):
    model_config = ConfigDict(frozen=True)

    office: Office
    office_name: str
    name: str
    display: str
    is_default: bool
    version: int = 0
    updated_at: datetime | None = None
    updated_by: str | None = None  # real name of the operator who last changed it

    @classmethod
    def of(cls, office: Office, item: Mapping[str, Any] | None) -> Signature:
        if not item:
            name = DEFAULT_SIGNATURES[office]
            return cls(
                office=office, office_name=OFFICE_NAMES[office], name=name, display=display(name), is_default=True
            )
        return cls(
            office=office,
            office_name=OFFICE_NAMES[office],
            name=item["name"],
            display=display(item["name"]),
            is_default=False,
            version=int(item.get("version", 0)),
            updated_at=item.get("updated_at"),
            updated_by=item.get("updated_by"),
        )


def _office(office: Office | str) -> Office:
    try:
        return Office(office)
    except ValueError as error:
        raise NotFound("没有这个单位") from error


def _table() -> Any:
    return aws.table(settings().control_table)


def get_signature(office: Office | str) -> Signature:
    office = _office(office)
    item = _table().get_item(Key={"pk": _PK, "sk": office.value}, ConsistentRead=True).get("Item")
    return Signature.of(office, item)


def signature_for(office: Office | str) -> str:
    """The signature (without brackets, as the carrier's ``SignName``) that messages whose content
    ``office`` owns must carry. Every office has one, so there is no way to send without."""
    return get_signature(office).name


class SignaturesOut(BaseModel):
    signatures: list[Signature]


def all_signatures() -> list[Signature]:
    items = _table().query(
        KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": _PK}, ConsistentRead=True
    )["Items"]
    stored = {item["sk"]: item for item in items}
    return [Signature.of(office, stored.get(office.value)) for office in Office]


def signature_list(ctx: StaffContext) -> SignaturesOut:
    """Every office's signature, as any signed-in staff member may read them."""
    return SignaturesOut(signatures=all_signatures())


def update_signature(
    ctx: StaffContext, office: Office | str, name: str, *, expected_version: int | None = None, now: datetime
) -> Signature:
    """Set ``office``'s signature (checked, unique among offices, audited with before and after).

    ``expected_version`` (optional) refuses the change if someone else changed it meanwhile.
    """
    office = _office(office)
    name = name.strip() if isinstance(name, str) else name
    check_signature(office, name)
    current = all_signatures()
    before = next(s for s in current if s.office == office)
    if any(s.name == name and s.office != office for s in current):
        raise Conflict("这个签名已由其他单位使用，每个单位须使用自己的签名", field="name")
    if expected_version is not None and expected_version != before.version:
        raise Conflict("签名已被他人修改，请刷新后重试", field="version")
    if before.name == name:
        return before
    item = {
        "pk": _PK,
        "sk": office.value,
        "name": name,
        "version": before.version + 1,
        "updated_at": now.isoformat(),
        "updated_by": ctx.real_name,
        "updated_by_account": ctx.account_id,
    }
    condition = "attribute_not_exists(pk)" if before.is_default else "version = :v"
    kwargs: dict[str, Any] = {"Item": item, "ConditionExpression": condition}
    if not before.is_default:
        kwargs["ExpressionAttributeValues"] = {":v": before.version}
    try:
        _table().put_item(**kwargs)
    except Exception as error:
        if aws.condition_failed(error):
            raise Conflict("签名已被他人修改，请刷新后重试", field="version") from error
        raise
    after = Signature.of(office, item)
    trail.record(
        ctx,
        "signature.update",
        f"signature:{office.value}",
        before={"name": before.name, "version": before.version},
        after={"name": after.name, "version": after.version},
        office=office.value,
        at=now,
    )
    return after

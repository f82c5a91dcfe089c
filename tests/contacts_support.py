"""Real-shaped identifiers and records for address-book tests.

ID numbers and credit codes get their check characters computed here from the standards'
definitions (GB 11643: weights 2^i mod 11; GB 32100: weights 3^i mod 31), independently of the
platform's own code.
"""

from __future__ import annotations

from typing import Any

CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def gb11643(first17: str) -> str:
    total = sum(int(digit) * pow(2, 17 - index, 11) for index, digit in enumerate(first17))
    check = (12 - total % 11) % 11
    return first17 + ("X" if check == 10 else str(check))


def gb32100(first17: str) -> str:
    total = sum(CREDIT_CHARS.index(char) * pow(3, index, 31) for index, char in enumerate(first17))
    return first17 + CREDIT_CHARS[(31 - total % 31) % 31]


def id_number(seq: int, birth: str = "19800101") -> str:
    """A valid Weihai (371002) resident ID number."""
    return gb11643(f"371002{birth}{seq % 1000:03d}")


def credit_code(seq: int) -> str:
    """A valid Weihai unified social credit code."""
    return gb32100(f"91371000MA{seq % 10_000_000:07d}")


def mobile(seq: int) -> str:
    return f"139{seq % 100_000_000:08d}"


def person(seq: int, **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "kind": "person",
        "id": id_number(seq, birth=f"19{50 + seq // 1000 % 50:02d}0101"),
        "name": f"参保人{seq}",
        "district": "wendeng",
        "phones": [{"number": mobile(seq), "source": "service_hall", "verified": True}],
        "insurance_types": ["pension"],
        "tags": [],
    }
    record.update(overrides)
    return record


def unit(seq: int, **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "kind": "unit",
        "id": credit_code(seq),
        "name": f"威海测试单位{seq}",
        "district": "huancui",
        "phones": [{"number": mobile(50_000_000 + seq), "source": "online_declaration", "contact_name": "王经办"}],
    }
    record.update(overrides)
    return record

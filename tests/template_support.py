"""Active templates made the real way, for tests that send with them.

``active_template(clock, ...)`` writes a template through the staff API (``tests.staff_calls``),
submits it, has a city reviewer who did not write it approve it (which files it with the
carrier), moves the platform's clock past the carrier's review delay and runs the filing poller,
which activates it. It needs the ``carrier_simulator`` fixture (listed after ``aws``) and a
``FixedClock`` set as the platform's clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from sms_platform.clock import BEIJING, FixedClock
from sms_platform.staff import Office, Role

from tests.staff_calls import call, member

CITY_OPERATOR = member("tpl-author-city", Office.city, Role.city_operator, real_name="周文")
IT_OPS = member("tpl-author-it", Office.it, Role.it_ops, real_name="陈涛")
HOTLINE_MANAGER = member("tpl-author-12333", Office.hotline, Role.hotline_manager, real_name="刘洋")
TEMPLATE_REVIEWER = member("tpl-reviewer", Office.city, Role.city_reviewer, real_name="郑红")

# Who writes each category's templates (templates.may_author).
AUTHOR_OF = {"system": IT_OPS, "hangup": HOTLINE_MANAGER}

# Longer than the carrier simulator's review delay (2 s on the platform's clock by default).
CARRIER_REVIEW_WAIT = timedelta(seconds=5)


def active_template(
    clock: FixedClock,
    *,
    category: str,
    office: Office | str,
    text: str,
    variables: Iterable[Mapping[str, Any]] = (),
    name: str | None = None,
    valid_days: int = 365,
) -> str:
    """A template of ``category`` owned by ``office`` with an active version; returns its id."""
    from sms_platform import templates

    author = AUTHOR_OF.get(category, CITY_OPERATOR)
    today = clock.now().astimezone(BEIJING).date()
    body = {
        "name": name or f"{templates.CATEGORY_NAMES[category]}模板",
        "category": category,
        "office": Office(office).value,
        "text": text,
        "variables": [dict(spec) for spec in variables],
        "valid_from": today.isoformat(),
        "valid_until": (today + timedelta(days=valid_days)).isoformat(),
        "remark": "社保业务短信",
    }
    created = call(author, "POST", "/v1/staff/templates", body)
    assert created.status == 201, created.body
    template_id = created.body["template_id"]
    submitted = call(author, "POST", f"/v1/staff/templates/{template_id}/versions/1/submission")
    assert submitted.status == 200, submitted.body
    approved = call(
        TEMPLATE_REVIEWER, "POST", f"/v1/staff/templates/{template_id}/versions/1/approval", {"note": "同意"}
    )
    assert approved.status == 200, approved.body
    assert approved.body["status"] == "filed", approved.body
    clock.advance(seconds=CARRIER_REVIEW_WAIT.total_seconds())
    templates.poll_filings()
    assert templates.find_template(template_id).active_version == 1
    return template_id

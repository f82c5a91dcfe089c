"""Active templates made the real way, for tests that send with them.

``active_template(clock, ...)`` goes through the templates domain (``sms_platform.templates.workflow``,
then ``filing``) as the staff routes do, with staff contexts for an author and a reviewer: the
author writes the template and submits it, a city reviewer who did not write it approves it
(which files it with the carrier), the platform's clock moves past the carrier's review delay
and the filing poller activates it. Calling the domain directly rather than the staff API keeps
it quick; the routes themselves are tested in tests/functional/templates/test_templates.py. It needs the
``carrier_simulator`` fixture (listed after ``aws``) and a ``FixedClock`` set as the platform's clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from sms_platform.foundation.clock import BEIJING, FixedClock
from sms_platform.staff.context import Office, Role

from tests.staff_calls import member

CITY_OPERATOR = member("tpl-author-city", Office.city, Role.city_operator, real_name="周文")
IT_OPS = member("tpl-author-it", Office.it, Role.it_ops, real_name="陈涛")
HOTLINE_MANAGER = member("tpl-author-12333", Office.hotline, Role.hotline_manager, real_name="刘洋")
TEMPLATE_REVIEWER = member("tpl-reviewer", Office.city, Role.city_reviewer, real_name="郑红")

# Who writes each category's templates (models.may_author).
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
    from sms_platform.templates import filing, workflow
    from sms_platform.templates.models import CATEGORY_NAMES, TemplateDraft

    author = AUTHOR_OF.get(category, CITY_OPERATOR)
    today = clock.now().astimezone(BEIJING).date()
    draft = TemplateDraft(
        name=name or f"{CATEGORY_NAMES[category]}模板",
        category=category,
        office=Office(office),
        text=text,
        variables=[dict(spec) for spec in variables],
        valid_from=today,
        valid_until=today + timedelta(days=valid_days),
        remark="社保业务短信",
    )
    template_id = workflow.create_template(author, draft, now=clock.now()).template_id
    workflow.submit(author, template_id, 1, now=clock.now())
    filed = workflow.approve(TEMPLATE_REVIEWER, template_id, 1, "同意", now=clock.now())
    assert filed.status == "filed", filed
    clock.advance(seconds=CARRIER_REVIEW_WAIT.total_seconds())
    filing.poll_filings()
    assert workflow.find_template(template_id).active_version == 1
    return template_id

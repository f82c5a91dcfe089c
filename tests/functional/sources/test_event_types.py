"""The event types rule and subscription-item authors choose from: those granted to business
systems' keys, each once with how many keys may send it; a grant withdrawn from every key
takes its type off the list."""

from __future__ import annotations

from sms_platform.staff.context import Role


def test_authors_choose_event_types_from_the_grants(staff):
    ops = staff.account(Role.it_ops)
    author, reviewer = staff.account(Role.city_operator), staff.account(Role.city_reviewer)
    assert staff.call("GET", "/v1/staff/event-types", token=author.token).json == {"event_types": []}

    grants = [
        ("key-pension", "pension.paid"),
        ("key-medical", "medical.paid"),
        ("key-medical", "pension.paid"),
        ("key-unemployment", "unemployment.approved"),
    ]
    for key, event_type in grants:
        assert staff.call("PUT", f"/v1/staff/event-grants/{key}/{event_type}", token=ops.token).status == 200

    expected = {
        "event_types": [
            {"event_type": "medical.paid", "api_keys": 1},
            {"event_type": "pension.paid", "api_keys": 2},
            {"event_type": "unemployment.approved", "api_keys": 1},
        ]
    }
    assert staff.call("GET", "/v1/staff/event-types", token=author.token).json == expected
    assert staff.call("GET", "/v1/staff/event-types", token=reviewer.token).json == expected

    staff.call("DELETE", "/v1/staff/event-grants/key-unemployment/unemployment.approved", token=ops.token)
    staff.call("DELETE", "/v1/staff/event-grants/key-medical/pension.paid", token=ops.token)
    assert staff.call("GET", "/v1/staff/event-types", token=author.token).json == {
        "event_types": [{"event_type": "medical.paid", "api_keys": 1}, {"event_type": "pension.paid", "api_keys": 1}]
    }


def test_only_rule_authors_and_reviewers_read_the_event_types(staff):
    for role in (Role.district_operator, Role.hotline_agent, Role.auditor):
        assert staff.call("GET", "/v1/staff/event-types", token=staff.account(role).token).status == 403

"""12333 hang-up answers (R6): the question bank and the calls that send its entries.

Question bank. Each entry's answer text is its own template (category ``hangup``, owned by the
12333 centre, signed with the centre's signature), so the templates module gives it versions, a
validity period, the city reviewer's approval of its text and its filing with the carrier. The
``hotline_manager`` decides which entries are in scope. An entry can be sent only when it is in
scope and its template has an active version in force.

Calls (CONTRACTS §2). A hang-up names up to 3 entries (one SMS each) or none, and then waits for
the agent, who picks within 24 hours; after that the call is expired. A landline caller gets
``not_mobile`` and nothing is sent. The first answer for a ``call_id`` is stored and returned
again for a repeated call. Messages are queued before the call is stored with source ids
``call#{call_id}#{faq_id}``, so a fault in between loses nothing and a retry sends nothing twice.

Storage: entries in CONTROL_TABLE (``pk=faq#{id}``, ``sk=entry``, ``gsi1pk=faqs``); calls in
SENDS_TABLE (``pk=call#{call_id}``, ``sk=call``; calls waiting for an agent carry
``gsi1pk=calls#waiting``, ``gsi1sk={agent_id}#{ended_at}``). The caller's number is kept
encrypted, with its keyed hash and masked form.

Staff act on the bank and the calls through this module, which audits what they change
(``hotline_entry.create``, ``hotline_entry.scope``, ``hotline_call.pick``) and answers with the
models of ``hotline_models``.

This module is imported by the hang-up webhook, which must start fast: its models (and with them
pydantic, ~50 ms) and the templating are imported where they are used, not at module level.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sms_platform import aws
from sms_platform.audit import trail
from sms_platform.foundation import crypto, identifiers, text_rules
from sms_platform.foundation.clock import parse_instant
from sms_platform.foundation.errors import Conflict, Forbidden, Gone, NotFound, ValidationFailed
from sms_platform.foundation.request_bodies import loads
from sms_platform.foundation.settings import settings
from sms_platform.sending import recipient_groups
from sms_platform.sending.lanes import SmsKind
from sms_platform.sources import channel_sends
from sms_platform.staff.context import Role, StaffContext
from sms_platform.text import sms

if TYPE_CHECKING:
    from sms_platform.sources.hotline_models import (
        ActiveEntryList,
        AnswerPreview,
        Call,
        CallList,
        Entry,
        EntryList,
        Hangup,
        HangupAnswer,
    )

MAX_ENTRIES_PER_CALL = 3
AGENT_PICK_WINDOW = timedelta(hours=24)
# \Z, not $: "$" also matches before a final newline, which would let one through.
_CALL_ID = re.compile(r"^[\x21-\x7e]{1,128}\Z")
_FAQ_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}\Z")
_AGENT_ID = re.compile(r"^[\x21-\x7e]{1,64}\Z")


# ---------------------------------------------------------------- body validation (pure)


def _problem(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


def _caller_problem(caller: object) -> str | None:
    """Why the caller's number is refused, if it is: missing, of no number's length, or holding
    an invisible character (a control or direction character is in no number a switch sends, and
    the number's separators are dropped before it is classified, so it must not slip through)."""
    if not isinstance(caller, str) or not 3 <= len(caller) <= 32:
        return "必填，主叫号码"
    if text_rules.has_invisible(caller):
        return text_rules.message("主叫号码")
    return None


def _ended_at(value: object) -> datetime | None:
    """When the call ended, as an aware instant; None when missing or not ISO 8601."""
    if not isinstance(value, str):
        return None
    try:
        return parse_instant(value)
    except ValueError:
        return None


def _faq_ids(value: object) -> tuple[list[str], list[dict[str, str]]]:
    """The entries a hang-up names, each once and in order, and what is wrong with them."""
    problems = []
    if value is None:
        value = []
    elif not isinstance(value, list) or not all(isinstance(f, str) and _FAQ_ID.match(f) for f in value):
        problems.append(_problem("faq_ids", "应为问题编号的列表"))
        value = []
    faq_ids = list(dict.fromkeys(value))
    if len(faq_ids) > MAX_ENTRIES_PER_CALL:
        problems.append(_problem("faq_ids", f"每次通话最多发送 {MAX_ENTRIES_PER_CALL} 条问答"))
    return faq_ids, problems


def parse_hangup(raw_body: bytes) -> Hangup:
    """The hang-up body, checked field by field; ``ValidationFailed`` (422) lists every fault.

    ``ended_at`` is an aware datetime. The caller's number is returned as given; whether it is a
    mobile is decided by ``classify_caller``.
    """
    body = loads(raw_body or b"")
    if not isinstance(body, dict):
        raise ValidationFailed("请求体必须是 JSON 对象", field="body")
    problems = []
    allowed = {"call_id", "caller", "agent_id", "ended_at", "faq_ids"}
    for extra in sorted(set(body) - allowed):
        problems.append(_problem(extra, "不认识的字段"))
    call_id, caller, agent_id = body.get("call_id"), body.get("caller"), body.get("agent_id")
    if not isinstance(call_id, str) or not _CALL_ID.match(call_id):
        problems.append(_problem("call_id", "必填，1-128 个可见 ASCII 字符"))
    if caller_problem := _caller_problem(caller):
        problems.append(_problem("caller", caller_problem))
    if not isinstance(agent_id, str) or not _AGENT_ID.match(agent_id):
        problems.append(_problem("agent_id", "必填，1-64 个可见 ASCII 字符"))
    ended_at = _ended_at(body.get("ended_at"))
    if ended_at is None:
        problems.append(_problem("ended_at", "必填，ISO 8601 时间"))
    faq_ids, faq_problems = _faq_ids(body.get("faq_ids"))
    problems += faq_problems
    if problems:
        first = problems[0]
        raise ValidationFailed(f"请求内容不符合要求：{first['field']}：{first['message']}", field=first["field"],
                               details=problems)  # fmt: skip
    from sms_platform.sources.hotline_models import Hangup  # deferred: pydantic (see the module's docstring)

    return Hangup(call_id=call_id, caller=caller, agent_id=agent_id, ended_at=ended_at, faq_ids=faq_ids)


def classify_caller(caller: str) -> str:
    """``mobile`` or ``landline``; anything else is refused (422) without echoing the number."""
    if identifiers.is_mobile(caller):
        return "mobile"
    if identifiers.is_landline(caller):
        return "landline"
    raise ValidationFailed("主叫号码既不是手机号码也不是固定电话号码", field="caller")


def pick_window_open(ended_at: datetime, now: datetime) -> bool:
    return now - ended_at <= AGENT_PICK_WINDOW


# ---------------------------------------------------------------- question bank


def _control() -> Any:
    return aws.table(settings().control_table)


def _calls() -> Any:
    return aws.table(settings().sends_table)


_ENTRY_KEYS = ("faq_id", "question", "template_id", "in_scope", "created_by", "created_at", "scope_by", "scope_at")


def _entry(item: dict[str, Any]) -> Entry:
    from sms_platform.sources.hotline_models import Entry  # deferred: pydantic (see the module's docstring)

    return Entry(**{key: item.get(key) for key in _ENTRY_KEYS})


def create_entry(ctx: StaffContext, question: str, template_id: str, *, now: datetime) -> Entry:
    """A new entry whose answer is the given ``hangup`` template; out of scope until chosen."""
    question = (question or "").strip()
    if not 1 <= len(question) <= 100:
        raise ValidationFailed("问题标题应为 1-100 个字", field="question")
    if channel_sends.template_category(template_id) != "hangup":
        raise ValidationFailed("挂机短信问答只能使用“挂机短信”类别的模板", field="template_id")
    faq_id = f"faq-{uuid.uuid4().hex[:10]}"
    item = {"pk": f"faq#{faq_id}", "sk": "entry", "gsi1pk": "faqs", "gsi1sk": faq_id, "faq_id": faq_id,
            "question": question, "template_id": template_id, "in_scope": False, "created_by": ctx.account_id,
            "created_at": now.isoformat()}  # fmt: skip
    _control().put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
    entry = _entry(item)
    trail.record(ctx, "hotline_entry.create", f"faq:{faq_id}", None, entry, ctx.office, at=now)
    return entry


def get_entry(faq_id: str) -> Entry:
    item = None
    if _FAQ_ID.match(faq_id or ""):
        item = _control().get_item(Key={"pk": f"faq#{faq_id}", "sk": "entry"}).get("Item")
    if not item:
        raise NotFound("没有这个问答条目")
    return _entry(item)


def list_entries() -> EntryList:
    from sms_platform.sources.hotline_models import EntryList  # deferred: pydantic (see the module's docstring)

    items = (
        _control()
        .query(IndexName="gsi1", KeyConditionExpression="gsi1pk = :pk", ExpressionAttributeValues={":pk": "faqs"})
        .get("Items", [])
    )
    return EntryList(entries=[_entry(item) for item in items])


def set_scope(ctx: StaffContext, faq_id: str, in_scope: bool, *, now: datetime) -> Entry:
    """The 12333 centre's choice of scope; returns the entry as it is now."""
    before = get_entry(faq_id)
    _control().update_item(
        Key={"pk": f"faq#{faq_id}", "sk": "entry"},
        UpdateExpression="SET in_scope = :s, scope_by = :by, scope_at = :at",
        ExpressionAttributeValues={":s": in_scope, ":by": ctx.account_id, ":at": now.isoformat()},
    )
    after = before.model_copy(update={"in_scope": in_scope, "scope_by": ctx.account_id, "scope_at": now.isoformat()})
    trail.record(ctx, "hotline_entry.scope", f"faq:{faq_id}", before, after, ctx.office, at=now)
    return after


def sendable_entries(faq_ids: list[str], now: datetime) -> list[tuple[str, Any]]:
    """(faq_id, template) for each entry, or 422 naming the first unknown or inactive one."""
    chosen = []
    for faq_id in faq_ids:
        try:
            entry = get_entry(faq_id)
        except NotFound:
            raise ValidationFailed(f"问答条目 {faq_id} 不存在", field="faq_ids") from None
        template = channel_sends.active_template(entry.template_id, now, category="hangup") if entry.in_scope else None
        if template is None:
            raise ValidationFailed(f"问答条目 {faq_id} 未启用或不在有效期内", field="faq_ids")
        chosen.append((faq_id, template))
    return chosen


def answer_preview(text: str, sign_name: str) -> AnswerPreview:
    """The SMS an entry sends, exactly as the caller's phone shows it, with its length and parts.

    Hang-up answers carry no values (nothing but the call is known), so the text is rendered
    with none, as ``channel_sends.send`` renders it.
    """
    # deferred: pydantic, the models' and the templating's (see the module's docstring)
    from sms_platform.sources.hotline_models import AnswerPreview
    from sms_platform.text import templating

    rendered = templating.render(text, {})
    length = sms.measure(rendered, sign_name)
    return AnswerPreview(message=sms.full_text(rendered, sign_name), characters=length.characters, parts=length.parts)


def active_entries(now: datetime) -> ActiveEntryList:
    """Entries an agent can pick now, each with the approved answer it sends: the active version's
    text, the 12333 centre's signature and the resulting message (``answer_preview``)."""
    # deferred: pydantic (see the module's docstring)
    from sms_platform.sources.hotline_models import ActiveEntry, ActiveEntryList

    found = []
    for entry in list_entries().entries:
        template = channel_sends.active_template(entry.template_id, now, category="hangup") if entry.in_scope else None
        if template is None:
            continue
        answer = {"template_version": template.version, "text": template.text, "signature": template.sign_name}
        preview = answer_preview(template.text, template.sign_name)
        found.append(ActiveEntry(**entry.model_dump(), **answer, **preview.model_dump()))
    return ActiveEntryList(entries=found)


# ---------------------------------------------------------------- calls


def _send_entries(call_id: str, phone: str, chosen: list[tuple[str, Any]], now: datetime) -> None:
    # Staff read the day's hang-up answers together: a caller is known only by the number.
    group = recipient_groups.hotline_group(now)
    # deferred with the message items (see the module's docstring)
    from sms_platform.sources.caller_events import call_caller

    caller = call_caller(call_id)  # the 12333 system reads the call's messages by it (CONTRACTS §7)
    for faq_id, template in chosen:
        source_id = f"call#{channel_sends.source_key(call_id)}#{channel_sends.source_key(faq_id)}"
        channel_sends.send(SmsKind.HANGUP, source_id, template, [(phone, None)], recipient_group=group, caller=caller)


def _answer(item: dict[str, Any]) -> HangupAnswer:
    """The first answer given for the call, whatever became of it since (a later pick)."""
    from sms_platform.sources.hotline_models import HangupAnswer  # deferred: pydantic (see the module's docstring)

    return HangupAnswer(call_id=item["call_id"], status=item.get("answered", item["status"]))


def get_call(call_id: str) -> dict[str, Any] | None:
    """The call's stored item (the store's own form, for the webhook and checks)."""
    return _calls().get_item(Key={"pk": f"call#{call_id}", "sk": "call"}).get("Item")


def receive_hangup(call: Hangup, now: datetime) -> HangupAnswer:
    """Handle a checked hang-up body; returns the contract's answer (the first one, if repeated)."""
    existing = get_call(call.call_id)
    if existing:
        return _answer(existing)
    kind = classify_caller(call.caller)
    item: dict[str, Any] = {
        "pk": f"call#{call.call_id}", "sk": "call", "call_id": call.call_id, "agent_id": call.agent_id,
        "ended_at": call.ended_at.isoformat(), "received_at": now.isoformat(), "faq_ids": call.faq_ids,
        "expires_at": int((now + timedelta(days=400)).timestamp()),
    }  # fmt: skip
    if kind == "landline":
        item.update(status="not_mobile", caller_masked="固定电话")
    else:
        phone = identifiers.normalize_mobile(call.caller, field="caller")
        chosen = sendable_entries(call.faq_ids, now)
        item.update(
            caller_token=crypto.encrypt(phone), caller_hash=crypto.keyed_hash(phone),
            caller_masked=identifiers.mask_mobile(phone),
        )  # fmt: skip
        if chosen:
            _send_entries(call.call_id, phone, chosen, now)
            item["status"] = "queued"
        else:
            item.update(status="awaiting_agent", gsi1pk="calls#waiting",
                        gsi1sk=f"{call.agent_id}#{item['ended_at']}")  # fmt: skip
    item["answered"] = item["status"]
    try:
        _calls().put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
    except Exception as exc:
        if not aws.condition_failed(exc):
            raise
        return _answer(get_call(call.call_id) or item)  # a concurrent copy of the same call won
    return _answer(item)


def call_status(call_id: str, now: datetime) -> str | None:
    """The call's status as the 12333 system reads it (CONTRACTS §7), or None for an unknown
    call: ``queued``, ``awaiting_agent`` (an agent is picking too), ``not_mobile`` or
    ``expired`` (no agent picked in time)."""
    item = get_call(call_id)
    if not item:
        return None
    status = item["status"]
    if status == "picking":
        return "awaiting_agent"
    if status == "awaiting_agent" and not pick_window_open(datetime.fromisoformat(item["ended_at"]), now):
        return "expired"
    return str(status)


def _call_view(item: dict[str, Any], now: datetime) -> Call:
    from sms_platform.sources.hotline_models import Call  # deferred: pydantic (see the module's docstring)

    ended_at = datetime.fromisoformat(item["ended_at"])
    status = item["status"]
    if status == "awaiting_agent" and not pick_window_open(ended_at, now):
        status = "expired"
    return Call(
        call_id=item["call_id"], agent_id=item["agent_id"], caller=item.get("caller_masked", "***"),
        ended_at=item["ended_at"], status=status, faq_ids=item.get("faq_ids", []),
        pick_before=(ended_at + AGENT_PICK_WINDOW).isoformat(), picked_by=item.get("picked_by"),
    )  # fmt: skip


def agent_of(ctx: StaffContext) -> str | None:
    """The telephony system's ``agent_id`` whose calls ``ctx`` answers: the agent's staff number
    (the username when it has none); None for a hotline manager, who answers the whole centre's."""
    return None if ctx.has(Role.hotline_manager) else (ctx.staff_number or ctx.username)


def waiting_calls(ctx: StaffContext, *, now: datetime) -> CallList:
    """Calls still waiting for a pick by ``ctx`` (an agent's own, or the whole centre's for a manager)."""
    from sms_platform.sources.hotline_models import CallList  # deferred: pydantic (see the module's docstring)

    agent_id = agent_of(ctx)
    condition = "gsi1pk = :pk"
    values: dict[str, Any] = {":pk": "calls#waiting"}
    if agent_id:
        condition += " AND begins_with(gsi1sk, :agent)"
        values[":agent"] = f"{agent_id}#"
    items = _calls().query(IndexName="gsi1", KeyConditionExpression=condition, ExpressionAttributeValues=values)
    views = [_call_view(item, now) for item in items.get("Items", [])]
    return CallList(calls=[view for view in views if view.status == "awaiting_agent"])


def _pickable(call_id: str, ctx: StaffContext, now: datetime) -> tuple[dict[str, Any], Call]:
    """The call's item and view, if ``ctx`` may pick for it now; an expired call is marked so (410)."""
    item = get_call(call_id) if _CALL_ID.match(call_id or "") else None
    if not item:
        raise NotFound("没有这个来电")
    agent_id = agent_of(ctx)
    if agent_id is not None and item["agent_id"] != agent_id:
        raise Forbidden("只能为自己接听的来电选择问答")
    view = _call_view(item, now)
    if view.status == "expired":
        _calls().update_item(
            Key={"pk": item["pk"], "sk": "call"}, UpdateExpression="SET #s = :e REMOVE gsi1pk, gsi1sk",
            ConditionExpression="#s = :w", ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":e": "expired", ":w": "awaiting_agent"},
        )  # fmt: skip
        raise Gone("来电已超过 24 小时，不能再发送挂机短信")
    return item, view


def pick(ctx: StaffContext, call_id: str, faq_ids: list[str], *, now: datetime) -> Call:
    """The agent's choice for a waiting call: one SMS per entry, then the call is ``queued``.

    A hotline manager acts for the centre; an agent only for their own calls (``agent_of``).
    """
    item, view = _pickable(call_id, ctx, now)
    faq_ids = list(dict.fromkeys(faq_ids))
    resuming = view.status == "picking" and item.get("faq_ids") == faq_ids
    if view.status != "awaiting_agent" and not resuming:
        raise Conflict("该来电已处理，不能再次发送")
    if not faq_ids or len(faq_ids) > MAX_ENTRIES_PER_CALL:
        raise ValidationFailed(f"请选择 1-{MAX_ENTRIES_PER_CALL} 条问答", field="faq_ids")
    chosen = sendable_entries(faq_ids, now)
    # Claim the call with its choice first, so two agents never send two choices; a fault after
    # the claim is finished by repeating the same pick (the messages' ids make it send once).
    _conditional_update(
        item, "SET #s = :p, faq_ids = :f, picked_by = :by, picked_at = :at",
        "#s = :w OR (#s = :p AND faq_ids = :f)",
        {":p": "picking", ":f": faq_ids, ":by": ctx.account_id, ":at": now.isoformat(), ":w": "awaiting_agent"},
    )  # fmt: skip
    _send_entries(call_id, crypto.decrypt(item["caller_token"]), chosen, now)
    _conditional_update(item, "SET #s = :q REMOVE gsi1pk, gsi1sk", "#s = :p", {":q": "queued", ":p": "picking"})
    picked = _call_view({**item, "status": "queued", "faq_ids": faq_ids, "picked_by": ctx.account_id}, now)
    trail.record(ctx, "hotline_call.pick", f"call:{call_id}", {"status": "awaiting_agent"},
                 {"status": picked.status, "faq_ids": picked.faq_ids}, ctx.office, at=now)  # fmt: skip
    return picked


def _conditional_update(item: dict[str, Any], update: str, condition: str, values: dict[str, Any]) -> None:
    try:
        _calls().update_item(
            Key={"pk": item["pk"], "sk": "call"}, UpdateExpression=update, ConditionExpression=condition,
            ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues=values,
        )  # fmt: skip
    except Exception as exc:
        if aws.condition_failed(exc):
            raise Conflict("该来电已处理，不能再次发送") from exc
        raise

"""Audit actions and targets as auditors read them: in Chinese, every action the platform
records (literal ones found in the code, and those composed at run time), unknown codes shown
as they are."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sms_platform.audit.vocabulary import OFFICE_NAMES, action_name, target_name
from sms_platform.staff.context import OFFICE_NAMES as STAFF_OFFICE_NAMES

ROOT = Path(__file__).resolve().parents[3]
CJK = re.compile(r"[\u4e00-\u9fff]")

# Actions whose code is composed at run time (f"trigger_rule.{action}", f"template.{status}" ...).
COMPOSED = [
    "template.filed", "template.carrier_approved", "template.carrier_rejected", "template.active",
    "template.carrier_review", "template.file",
    "trigger_rule.create", "trigger_rule.revise", "trigger_rule.submit", "trigger_rule.approve",
    "trigger_rule.reject", "trigger_rule.retire",
    "subscription_item.create", "subscription_item.revise", "subscription_item.submit",
    "subscription_item.approve", "subscription_item.reject", "subscription_item.withdraw",
    "event_grant.add", "event_grant.remove", "contact_grant.add", "contact_grant.remove",
    "number_check.confirmed", "number_check.replaced", "contacts.opt_out", "contacts.opt_in",
    "account.suspend", "account.reinstate", "account.reset_totp", "account.grant_role", "account.withdraw_role",
    "send_request.approve", "send_request.reject", "send_request.cancel", "send_request.stop",
    "send_request.release", "carrier.return", "carrier.take_out", "send.queued",
]  # fmt: skip

# The action is the call's second argument; the first is the actor (a name or a call).
_LITERAL = re.compile(
    r"""(?:record|record_change|_audited|_move|_save|_done)\(\s*[\w.]+(?:\([^()]*\))?,\s*"([a-z_]+(?:\.[a-z_]+)+)\""""
)


def _recorded_literally() -> set[str]:
    found: set[str] = set()
    for folder in ("layers/shared/sms_platform", "functions", "infra"):
        for path in (ROOT / folder).rglob("*.py"):
            found.update(_LITERAL.findall(path.read_text(encoding="utf-8")))
    return found


def test_the_scan_finds_the_actions_the_code_records():
    found = _recorded_literally()
    assert {"template.approve", "account.create", "contact.reveal", "session.sign_in"} <= found


@pytest.mark.parametrize("action", sorted(_recorded_literally() | set(COMPOSED)))
def test_every_recorded_action_reads_in_chinese(action):
    name = action_name(action)
    assert name != action and CJK.search(name), name


@pytest.mark.parametrize(
    ("action", "name"),
    [
        ("template.approve", "模板：审核通过"),
        ("template.reject", "模板：审核不通过"),
        ("send_request.submit", "发送申请：提交审核"),
        ("account.create", "账号：新建"),
        ("account.locked", "账号因多次登录失败被锁定"),
        ("session.sign_in", "登录"),
        ("event_grant.add", "授予事件类型"),
        ("contacts.import.start", "通讯录导入：开始"),
        ("audience.list.create", "发送名单：新建"),
        ("send.queued", "短信批次排队发送"),
        ("x.do", "x.do"),  # unknown: shown as recorded, not guessed
        ("template.frobnicate", "template.frobnicate"),
        ("plain", "plain"),
    ],
)
def test_actions_by_name(action, name):
    assert action_name(action) == name


@pytest.mark.parametrize(
    ("target", "name"),
    [
        ("template:tpl-1a2b:v2", "模板 tpl-1a2b 第 2 版"),
        ("template:odd", "模板 odd"),
        ("send_request:R1", "发送申请 R1"),
        ("account:wangfang", "账号 wangfang"),
        ("office:huancui", "单位 环翠区"),
        ("signature:city", "签名 市社保中心"),
        ("carrier:tencent", "运营商 腾讯云"),
        ("queue:bulk", "队列 批量队列"),
        ("carrier_route:high", "运营商分配 高优先级队列"),
        ("phone:138****1234", "号码 138****1234"),
        ("forbidden_word:代办", "禁用词 “代办”"),
        ("faq:pension-date", "问答条目 pension-date"),
        ("batch:b-1", "发送批次 b-1"),
        ("contacts:batch", "通讯录（批量采集）"),
        ("subscription_settings", "订阅渠道设置"),
        ("send#R1", "发送申请的收件人 R1"),
        ("rule#R2#2026-06-03", "触发规则的收件人 R2 2026-06-03"),
        ("hotline#2026-06-03", "12333挂机短信的收件人 2026-06-03"),
        ("thing:1", "thing:1"),  # unknown kind: as recorded
        ("whatever", "whatever"),
    ],
)
def test_targets_by_name(target, name):
    assert target_name(target) == name


def test_office_names_are_the_staff_packages():
    assert {office.value: name for office, name in STAFF_OFFICE_NAMES.items()} == OFFICE_NAMES

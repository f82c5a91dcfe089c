"""What auditors read instead of the trail's codes: each action and each target in Chinese.

The trail keeps its codes (``template.approve``, ``template:T1:v2``): they are hashed into the
chain and never change. People read ``action_name`` and ``target_name``. An action is named as a
whole where a verb alone would mislead (``account.locked``), else by its object and its verb
(``trigger_rule.revise``: 触发规则：修改), so an action added later still reads in Chinese;
a code nothing here knows is shown as it is rather than guessed.
"""

from __future__ import annotations

OFFICE_NAMES: dict[str, str] = {
    "city": "市社保中心", "hotline": "12333服务中心", "it": "信息技术科",
    "huancui": "环翠区", "wendeng": "文登区", "rongcheng": "荣成市", "rushan": "乳山市",
    "gaoqu": "高区", "jingqu": "经区", "lingang": "临港区", "nanhai": "南海新区",
}  # fmt: skip

CARRIER_NAMES: dict[str, str] = {"alibaba": "阿里云", "tencent": "腾讯云"}

LANE_NAMES: dict[str, str] = {"high": "高优先级队列", "normal": "普通队列", "bulk": "批量队列", "callbacks": "回调队列"}

# The object of an action (its code's part before the last dot), and of a target (before ":").
OBJECTS: dict[str, str] = {
    "account": "账号",
    "account_settings": "临时密码短信设置",
    "api_key": "API 密钥",
    "audience.list": "发送名单",
    "audit": "审计记录",
    "audit-day": "审计日",
    "audience-list": "发送名单",
    "batch": "发送批次",
    "call": "12333来电",
    "carrier": "运营商",
    "carrier_route": "运营商分配",
    "contact": "通讯录记录",
    "contact_grant": "号码来源授权",
    "contacts": "通讯录",
    "contacts.import": "通讯录导入",
    "contacts-import": "通讯录导入",
    "dead_letters": "死信",
    "event_grant": "事件类型授权",
    "faq": "问答条目",
    "forbidden_word": "禁用词",
    "hotline_call": "12333来电",
    "hotline_entry": "问答条目",
    "messages": "短信",
    "number": "号码",
    "number_check": "待核实号码",
    "office": "单位",
    "phone": "号码",
    "queue": "队列",
    "recipients": "收件人明细",
    "send": "短信",
    "send_request": "发送申请",
    "session": "登录",
    "signature": "签名",
    "subscription_item": "订阅项目",
    "subscription_settings": "订阅渠道设置",
    "template": "模板",
    "trigger_rule": "触发规则",
    "value_sheet": "个性化名单",
}

VERBS: dict[str, str] = {
    "activate": "启用",
    "add": "添加",
    "approve": "审核通过",
    "block": "列入黑名单",
    "callback": "设置回调地址",
    "cancel": "取消",
    "carrier_review": "运营商审核进展",
    "carry_over": "沿用授权",
    "check": "检查",
    "complete": "校验完成",
    "confirmed": "核实有效",
    "create": "新建",
    "drain": "人工停用",
    "expire": "过期",
    "export": "导出",
    "export_download": "下载导出文件",
    "file": "报备运营商",
    "grant_role": "授予角色",
    "issue": "签发",
    "lookup": "查询发送状态",
    "new_version": "新建版本",
    "opt_in": "恢复接收宣传短信",
    "opt_out": "退订宣传短信",
    "pick": "选择问答并发送",
    "queued": "排队发送",
    "redrive": "重新投递",
    "reinstate": "恢复",
    "reject": "审核不通过",
    "release": "开始发送",
    "remove": "删除",
    "replaced": "录入新号码",
    "reset_password": "重置密码",
    "reset_totp": "重置动态口令",
    "restore": "恢复轮换",
    "retire": "停用",
    "return": "自动恢复",
    "reveal": "查看完整号码",
    "revise": "修改",
    "scope": "调整问答库范围",
    "start": "开始",
    "stop": "停止发送",
    "submit": "提交审核",
    "suspend": "暂停",
    "take_out": "自动停用",
    "unblock": "解除黑名单",
    "update": "修改",
    "upsert": "采集",
    "view": "查看",
    "wave_schedule": "安排下一轮提醒",
    "weights": "调整权重",
    "withdraw": "下架",
    "withdraw_role": "撤销角色",
}

# Whole actions whose object and verb alone would read wrong.
ACTIONS: dict[str, str] = {
    "account.locked": "账号因多次登录失败被锁定",
    "account.password_changed": "修改本人密码",
    "account.totp_enrolled": "绑定动态口令",
    "contact_grant.add": "授予号码来源渠道",
    "contact_grant.remove": "收回号码来源渠道",
    "event_grant.add": "授予事件类型",
    "event_grant.remove": "收回事件类型",
    "session.sign_in": "登录",
    "session.sign_in_failed": "登录失败",
    "session.sign_out": "退出登录",
    "template.active": "模板启用",
    "template.carrier_approved": "运营商审核通过",
    "template.carrier_rejected": "运营商审核未通过",
    "template.filed": "已报备运营商",
    "api_key.issue": "签发 API 密钥",
    "send.queued": "短信批次排队发送",
}


def action_name(action: str) -> str:
    """``template.approve`` as 模板：审核通过; an unknown code as it is."""
    if action in ACTIONS:
        return ACTIONS[action]
    subject, _, verb = action.rpartition(".")
    if subject in OBJECTS and verb in VERBS:
        return f"{OBJECTS[subject]}：{VERBS[verb]}"
    return action


def _named(kind: str, rest: str) -> str:
    if kind == "template":
        template_id, _, version = rest.partition(":v")
        return f"{template_id} 第 {version} 版" if version.isdigit() else rest
    if kind in ("office", "signature"):
        return OFFICE_NAMES.get(rest, rest)
    if kind == "carrier":
        return CARRIER_NAMES.get(rest, rest)
    if kind in ("queue", "carrier_route"):
        return LANE_NAMES.get(rest, rest)
    if kind == "forbidden_word":
        return f"“{rest}”"
    return rest


# Recipients' groups (read or exported) are named by their source: ``send#R1``,
# ``rule#R2#2026-06-03``, ``item#P1#2026-06``, ``hotline#2026-06-03``.
RECIPIENT_GROUPS: dict[str, str] = {
    "send": "发送申请的收件人",
    "rule": "触发规则的收件人",
    "item": "订阅项目的收件人",
    "hotline": "12333挂机短信的收件人",
}


def target_name(target: str) -> str:
    """``template:T1:v2`` as 模板 T1 第 2 版, ``office:huancui`` as 单位 环翠区; a target of no
    known kind as it is. Targets carry no personal data in clear (phones are masked)."""
    if target == "contacts:batch":
        return "通讯录（批量采集）"
    kind, found, rest = target.partition(":")
    if found and kind in OBJECTS:
        return f"{OBJECTS[kind]} {_named(kind, rest)}"
    group, hashed, ident = target.partition("#")
    if hashed and group in RECIPIENT_GROUPS:
        return f"{RECIPIENT_GROUPS[group]} {ident.replace('#', ' ')}"
    return OBJECTS.get(target, target)

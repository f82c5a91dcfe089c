"""Examples of each contract route's request and answer, as CONTRACTS.md words them: shown in the
OpenAPI document and checked against both the document's schemas and the handlers' own checks.

Numbers are made up: the phone numbers are the contract's own (``13800000000``), the ID number
and the unified social credit code carry valid check characters and belong to nobody.
"""

from __future__ import annotations

PERSON_ID = "371002198001011232"
UNIT_CODE = "91371000MA3C00001Q"
PHONE = "13800000000"

HANGUP = {
    "call_id": "20240603-0001",
    "caller": PHONE,
    "agent_id": "A1024",
    "ended_at": "2024-06-03T09:30:00+08:00",
    "faq_ids": ["pension-payment-date"],
}
HANGUP_WAITING = {key: value for key, value in HANGUP.items() if key != "faq_ids"}
HANGUP_ANSWER = {"call_id": "20240603-0001", "status": "queued"}

EVENT = {
    "event_id": "pension-2024-06-0001",
    "event_type": "pension.paid",
    "occurred_at": "2024-06-03T09:00:00+08:00",
    "subject": {"kind": "person", "id": PERSON_ID},
    "data": {"amount": "3250.00", "month": "2024-06"},
}
EVENT_ANSWER = {"event_id": "pension-2024-06-0001", "matched_rules": 1, "messages": 1}
EVENT_STATUS = {
    "event_id": "pension-2024-06-0001",
    "received_at": "2024-06-03T10:15:02.120000+08:00",
    "matched_rules": 1,
    "messages": [
        {
            "message_id": "5f1c0d6e9a8b4c2d8e7f6a5b4c3d2e1f",
            "phone": "138****1234",
            "state": "delivered",
            "reason": None,
            "updated_at": "2024-06-03T10:15:09.512+08:00",
        },
        {
            "message_id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
            "phone": "139****5678",
            "state": "failed",
            "reason": "空号",
            "updated_at": "2024-06-03T10:15:11.004+08:00",
        },
    ],
}
TEST_EVENT_STATUS = {**EVENT_STATUS, "test": True}
CALL_STATUS = {
    "call_id": "20240603-0001",
    "status": "queued",
    "messages": [
        {
            "message_id": "7e6d5c4b3a2910f8e7d6c5b4a3928170",
            "phone": "138****0000",
            "state": "sent",
            "reason": None,
            "updated_at": "2024-06-03T09:30:04.250+08:00",
        }
    ],
}
STATUS_CALLBACK = {"event_id": "pension-2024-06-0001", "message": EVENT_STATUS["messages"][0]}

PRODUCTS = {
    "products": [
        {
            "product_id": "pension-monthly",
            "name": "养老金到账提醒",
            "description": "每月养老金发放后短信提醒",
            "price_fen": 300,
            "period_months": 12,
        }
    ]
}
OTP = {"phone": PHONE}
OTP_ANSWER = {"expires_in": 300}
ORDER = {
    "product_id": "pension-monthly",
    "subscriber": {"kind": "person", "id": PERSON_ID, "name": "张三"},
    "phone": PHONE,
    "otp": "123456",
    "channel_order_id": "HALL-20240603-0001",
}
ORDER_ANSWER = {
    "subscription_id": "s5f0c6d2e8a1b4c7d9e0f1a2",
    "order_id": "o1a2b3c4d5e6f7a8b9c0d1e2",
    "status": "pending_payment",
    "amount_fen": 300,
    "pay_before": "2024-06-03T10:00:00+08:00",
}
RENEWAL_ANSWER = {"order_id": "o2b3c4d5e6f7a8b9c0d1e2f3", "amount_fen": 300, "pay_before": "2025-05-20T10:00:00+08:00"}
LOOKUP = {"subscriber": {"kind": "person", "id": PERSON_ID}}
LOOKUP_ANSWER = {
    "subscriptions": [
        {
            "subscription_id": "s5f0c6d2e8a1b4c7d9e0f1a2",
            "product_id": "pension-monthly",
            "product_name": "养老金到账提醒",
            "status": "active",
            "subscriber": {"kind": "person", "id": "371002***********2", "name": "张三"},
            "phone": "138****0000",
            "period_start": "2024-06-03T09:35:00+08:00",
            "period_end": "2025-06-03T09:35:00+08:00",
            "created_at": "2024-06-03T09:30:00+08:00",
        }
    ]
}
CANCEL_ANSWER = {"subscription_id": "s5f0c6d2e8a1b4c7d9e0f1a2", "status": "cancelled"}
PAYMENT = {
    "transaction_id": "T202406030001",
    "order_id": "o1a2b3c4d5e6f7a8b9c0d1e2",
    "amount_fen": 300,
    "paid_at": "2024-06-03T09:35:00+08:00",
}
PAYMENT_ANSWER = {"order_id": "o1a2b3c4d5e6f7a8b9c0d1e2", "status": "paid"}

RECEIPTS = [
    {
        "phone_number": PHONE,
        "send_time": "2024-06-03 09:30:01",
        "report_time": "2024-06-03 09:30:05",
        "success": True,
        "err_code": "DELIVERED",
        "err_msg": "用户接收成功",
        "sms_size": "1",
        "biz_id": "932702304080415357^0",
        "out_id": "m-1a2b3c",
    }
]
REPLIES = [
    {
        "phone_number": PHONE,
        "send_time": "2024-06-03 10:00:00",
        "content": "TD",
        "sign_name": "威海社保",
        "dest_code": "1234",
        "sequence_id": 1234567890,
    }
]
PUSH_ANSWER = {"code": 0, "msg": "成功"}
TENCENT_RECEIPTS = [
    {
        "user_receive_time": "2024-06-03 09:30:05",
        "nationcode": "86",
        "mobile": PHONE,
        "report_status": "SUCCESS",
        "errmsg": "DELIVRD",
        "description": "用户短信送达成功",
        "sid": "2433:327843921913300006",
    }
]
TENCENT_REPLIES = [
    {"extend": "", "mobile": PHONE, "nationcode": "86", "sign": "威海社保", "text": "退订", "time": 1717380000}
]
TENCENT_PUSH_ANSWER = {"result": 0, "errmsg": "OK"}

CONTACTS = {
    "contacts": [
        {
            "kind": "person",
            "id": PERSON_ID,
            "name": "张三",
            "district": "huancui",
            "phones": [{"number": PHONE, "source": "kiosk", "verified": True}],
            "insurance_types": ["pension", "medical"],
        },
        {
            "kind": "unit",
            "id": UNIT_CODE,
            "name": "威海市某某有限公司",
            "district": "wendeng",
            "phones": [{"number": "13900000000", "contact_name": "李四"}],
        },
    ]
}
CONTACTS_ANSWER = {
    "created": 1,
    "updated": 0,
    "unchanged": 1,
    "rejected": 0,
    "results": [
        {"index": 0, "status": "created", "ref": "person-3f2a", "errors": []},
        {"index": 1, "status": "unchanged", "ref": "unit-9c1d", "errors": []},
    ],
}

ERROR = {
    "error": {"code": "validation_failed", "message": "请求内容不符合要求：caller：必填，主叫号码", "field": "caller"}
}

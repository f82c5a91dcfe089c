"""The official Tencent Cloud SMS SDK (tencentcloud-sdk-python-sms) against the project's Tencent
simulator, as against Tencent: send, file and query a template, pull statuses; and the
simulator's refusals of what Tencent refuses (wrong key, stale timestamp)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from tests.tencent_fixtures import TEST_SDK_APP_ID, TEST_SECRET_ID, TEST_SECRET_KEY

PHONE, OTHER = "13800138000", "13900139000"


def sdk(simulator, secret_key: str = TEST_SECRET_KEY) -> sms_client.SmsClient:
    profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=simulator.endpoint))
    return sms_client.SmsClient(credential.Credential(TEST_SECRET_ID, secret_key), "ap-guangzhou", profile)


def request(model, **fields):
    made = model()
    for name, value in fields.items():
        setattr(made, name, value)
    return made


def wait_for(predicate, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@pytest.fixture
def simulator(tencent_simulator):
    tencent_simulator.review_delay = 0.3  # seconds a filed template stays under review
    tencent_simulator.receipt_delay = 0.05
    return tencent_simulator


def test_a_filed_template_is_reviewed_then_sends_to_each_number_with_its_serial_and_fee(simulator):
    client = sdk(simulator)
    filed = client.AddSmsTemplate(request(
        models.AddSmsTemplateRequest, TemplateName="缴费提醒", TemplateContent="{1}您好，请于{2}前缴纳社保费。",
        SmsType=0, International=0, Remark="社保缴费提醒",
    ))  # fmt: skip
    template_id = filed.AddTemplateStatus.TemplateId
    describe = request(models.DescribeSmsTemplateListRequest, TemplateIdSet=[int(template_id)], International=0)
    [reviewing] = client.DescribeSmsTemplateList(describe).DescribeTemplateStatusSet
    assert (reviewing.TemplateId, reviewing.StatusCode) == (int(template_id), 1)

    assert wait_for(lambda: client.DescribeSmsTemplateList(describe).DescribeTemplateStatusSet[0].StatusCode == 0)
    sent = client.SendSms(request(
        models.SendSmsRequest, PhoneNumberSet=[f"+86{PHONE}", OTHER], SmsSdkAppId=TEST_SDK_APP_ID,
        SignName="威海人社", TemplateId=template_id, TemplateParamSet=["张三", "6月30日"], SessionContext="evt#sdk-1",
    ))  # fmt: skip
    statuses = sent.SendStatusSet
    assert [(s.PhoneNumber, s.Code, s.Fee, s.SessionContext) for s in statuses] == [
        (f"+86{PHONE}", "Ok", 1, "evt#sdk-1"),
        (f"+86{OTHER}", "Ok", 1, "evt#sdk-1"),
    ]
    assert len({s.SerialNo for s in statuses}) == 2
    assert simulator.sent_to(PHONE)[0].content == "【威海人社】张三您好，请于6月30日前缴纳社保费。"


def test_a_rejected_template_says_why(simulator):
    client = sdk(simulator)
    filed = client.AddSmsTemplate(request(
        models.AddSmsTemplateRequest, TemplateName="推广", TemplateContent="点击领取违规补贴{1}", SmsType=1,
        International=0, Remark="推广",
    ))  # fmt: skip
    describe = request(
        models.DescribeSmsTemplateListRequest, TemplateIdSet=[int(filed.AddTemplateStatus.TemplateId)], International=0
    )
    assert wait_for(lambda: client.DescribeSmsTemplateList(describe).DescribeTemplateStatusSet[0].StatusCode == -1)
    assert client.DescribeSmsTemplateList(describe).DescribeTemplateStatusSet[0].ReviewReply == "模板内容含有违规词语"


def test_statuses_are_pulled_by_number_once_reported(simulator):
    simulator.file_template("1001", "{1}，您的待遇已发放。")
    simulator.set_undelivered({OTHER: "DB:0101"})
    client = sdk(simulator)
    for phone, context in ((PHONE, "evt#a"), (OTHER, "evt#b")):
        client.SendSms(request(
            models.SendSmsRequest, PhoneNumberSet=[phone], SmsSdkAppId=TEST_SDK_APP_ID, SignName="威海人社",
            TemplateId="1001", TemplateParamSet=["张三"], SessionContext=context,
        ))  # fmt: skip
    begin = int(time.time()) - 60

    def pulled(phone):
        pull = request(models.PullSmsSendStatusByPhoneNumberRequest, BeginTime=begin, EndTime=int(time.time()) + 5,
                       Offset=0, Limit=100, PhoneNumber=f"+86{phone}", SmsSdkAppId=TEST_SDK_APP_ID)  # fmt: skip
        return client.PullSmsSendStatusByPhoneNumber(pull).PullSmsSendStatusSet

    assert wait_for(lambda: len(pulled(OTHER)) == 1)
    [delivered], [failed] = pulled(PHONE), pulled(OTHER)
    assert (delivered.ReportStatus, delivered.SessionContext, delivered.SubscriberNumber) == ("SUCCESS", "evt#a", PHONE)
    assert (failed.ReportStatus, failed.Description, failed.SessionContext) == ("FAIL", "DB:0101", "evt#b")
    assert delivered.SerialNo == simulator.sent_to(PHONE)[0].serial_no


@pytest.mark.parametrize(
    ("key", "clock_offset", "code"),
    [
        ("wrong-key", timedelta(0), "AuthFailure.SignatureFailure"),
        (TEST_SECRET_KEY, timedelta(seconds=301), "AuthFailure.SignatureExpire"),
        (TEST_SECRET_KEY, timedelta(seconds=-400), "AuthFailure.SignatureExpire"),
    ],
)
def test_a_wrong_or_stale_signature_is_refused_and_sends_nothing(simulator, key, clock_offset, code):
    from datetime import UTC, datetime

    class Shifted:
        def now(self):
            return datetime.now(UTC) + clock_offset

    simulator._clock = Shifted()
    send = request(models.SendSmsRequest, PhoneNumberSet=[PHONE], SmsSdkAppId=TEST_SDK_APP_ID, SignName="威海人社",
                   TemplateId="1001", TemplateParamSet=["张三"])  # fmt: skip
    with pytest.raises(TencentCloudSDKException) as refused:
        sdk(simulator, key).SendSms(send)
    assert refused.value.code == code
    assert simulator.sent == []


def test_a_template_that_is_not_approved_is_refused_by_its_code(simulator):
    simulator.file_template("1002", "{1}您好。", status=1)
    send = request(models.SendSmsRequest, PhoneNumberSet=[PHONE], SmsSdkAppId=TEST_SDK_APP_ID, SignName="威海人社",
                   TemplateId="1002", TemplateParamSet=["张三"])  # fmt: skip
    with pytest.raises(TencentCloudSDKException) as refused:
        sdk(simulator).SendSms(send)
    assert refused.value.code == "FailedOperation.TemplateIncorrectOrUnapproved"

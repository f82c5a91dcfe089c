"""The content check a reviewer sees when a template is submitted."""

import pytest
from sms_platform.text.content import OPT_OUT_LINE, Finding, blocks, fold, review_content
from sms_platform.text.forbidden_words import FORBIDDEN_CATEGORIES, category_of, default_words
from sms_platform.text.templating import VariableSpec

SIGNATURE = "威海市社会保险事业中心"
WORDS = default_words()


def review(text, *, category="notice", signature=SIGNATURE, words=WORDS, variables=()):
    return review_content(text, signature=signature, category=category, forbidden_words=words, variables=variables)


def codes(findings, level=None):
    return [finding.code for finding in findings if level is None or finding.level == level]


# Notices as the bureau really sends them: none may trip a block or a warning.
LEGITIMATE = [
    ("triggered", "您好${name}，您${month}月养老金${amount}元已发放至社保卡，详询12333。"),
    ("notice", "尊敬的参保单位：请于${deadline}前完成2024年度社会保险缴费基数申报，逾期将影响职工待遇。"),
    ("notice", "您的失业保险金申领已受理，经办机构将在5个工作日内审核，请留意短信通知。"),
    ("hotline", "感谢致电12333。办理退休手续请携带身份证和社保卡到就近经办大厅，可委托他人代办。"),
    ("subscription", "您本月个人账户缴费记录已更新，单位缴纳${unit_amount}元，个人缴纳${own_amount}元。"),
    ("notice", "创业担保贷款申请已受理，人社部门将于3日内联系您，请保持电话畅通。"),
    ("publicity", "养老保险待遇资格认证可通过手机办理，足不出户即可完成。拒收请回复R"),
    ("system", "您的验证码为${code}，5分钟内有效，请勿告诉他人。"),
]


@pytest.mark.parametrize(("category", "text"), LEGITIMATE)
def test_ordinary_social_insurance_notices_pass(category, text):
    findings = review(text, category=category)
    assert codes(findings, "block") == []
    assert codes(findings, "warn") == []
    assert "length" in codes(findings, "info")
    assert not blocks(findings)


# --- forbidden words ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("社保卡可参与赌博活动", "赌博"),
        ("社保 赌 博 活动", "赌博"),
        ("社保赌\u3000博活动", "赌博"),  # full-width space
        ("社保赌.博·活动", "赌博"),
        ("社保赌*博", "赌博"),
        ("社保赌\u200b博", "赌博"),  # zero-width space
        ("社保转账至安全账户", "安全账户"),
        ("社保卡中奖通知", "中奖"),
        ("社保免费看成人视频", "成人视频"),
        ("社保 六合彩", "六合彩"),
        ("社保 法 轮 功", "法轮功"),
    ],
)
def test_forbidden_words_block_even_when_disguised(text, word):
    findings = review(text)
    forbidden = [finding for finding in findings if finding.code == "forbidden_word"]
    assert forbidden == [
        Finding("block", "forbidden_word", f"含有禁止发送的内容“{word}”（《电信条例》第五十七条），不能通过审核")
    ]
    assert blocks(findings)


@pytest.mark.parametrize(
    ("text", "words", "found"),
    [
        ("社保 CASINO 活动", ["casino"], ["casino"]),
        ("社保 ｃａｓｉｎｏ 活动", ["casino"], ["casino"]),  # full-width letters
        ("社保 C a S i N o", ["Casino"], ["Casino"]),
        ("社保 casino", ["ＣＡＳＩＮＯ"], ["ＣＡＳＩＮＯ"]),  # a full-width word in the list
        ("社保赌博和博彩", ["赌博", "博彩", "赌博"], ["赌博", "博彩"]),  # one finding per word
        ("社保 赌局", ["赌博"], []),
        ("社保博物馆开放", ["赌博"], []),
        ("社保", ["", "  "], []),  # empty list entries never match
        ("社保 赌博", [], []),  # the list is the caller's: nothing given, nothing found
    ],
)
def test_forbidden_words_come_from_the_given_list(text, words, found):
    findings = review(text, words=words)
    assert [f.message.split("“")[1].split("”")[0] for f in findings if f.code == "forbidden_word"] == found


@pytest.mark.parametrize(
    ("text", "folded"),
    [("ＡＢＣ　１２３", "abc123"), ("赌 . 博", "赌博"), ("Ａ-Ｂ_Ｃ", "abc"), ("社保，缴费。", "社保,缴费。")],
)
def test_fold(text, folded):
    assert fold(text) == folded


def test_default_word_list_covers_article_57_categories():
    assert set(FORBIDDEN_CATEGORIES) >= {
        "subversion",
        "separatism",
        "terror",
        "obscenity",
        "gambling",
        "fraud",
        "rumours",
    }
    for label, words in FORBIDDEN_CATEGORIES.values():
        assert label and len(words) >= 4
    assert len(WORDS) == len(set(WORDS)) >= 40
    assert category_of("赌博") == "gambling"
    assert category_of("台独") == "separatism"
    assert category_of("审核员新加的词") is None


# --- URLs, placeholders, emptiness --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "blocked"),
    [
        ("社保查询请访问 https://si.weihai.gov.cn", True),
        ("社保查询请访问www.whhrss.gov.cn", True),
        ("社保查询：t.cn/AbCd", True),
        ("社保查询：ｗｗｗ．ａｂｃ．ｃｏｍ", True),
        ("社保查询请拨打12333或到经办大厅。", False),
        ("社保缴费比例为8.5%", False),
    ],
)
def test_urls_block(text, blocked):
    assert ("url" in codes(review(text), "block")) is blocked


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "empty"), ("   ", "empty"), ("社保${name|upper}", "placeholder"), ("社保${a.b}", "placeholder")],
)
def test_empty_text_and_bad_placeholders_block(text, code):
    assert code in codes(review(text), "block")


# --- length -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "signature", "message"),
    [
        ("社保" * 29, SIGNATURE, "含签名共 71 字，按 2 条计费（UCS-2）"),  # 13 + 58
        ("社保" * 28, SIGNATURE, "含签名共 69 字，按 1 条计费（UCS-2）"),
        ("社保" + "a" * 100, None, "含签名共 102 字，按 2 条计费（UCS-2）"),
        ("12333 shebao", None, "含签名共 12 字，按 1 条计费（GSM-7）"),
    ],
)
def test_length_and_parts_are_reported_with_the_signature(text, signature, message):
    findings = review(text, signature=signature)
    assert Finding("info", "length", message) in findings


def test_over_500_characters_with_the_signature_blocks():
    findings = review("社" * 487, signature=SIGNATURE)  # 13 + 487 = 500
    assert "too_long" not in codes(findings)
    findings = review("社" * 488, signature=SIGNATURE)
    assert Finding("block", "too_long", "短信内容（含签名）最多 500 字，当前 501 字") in findings


@pytest.mark.parametrize(
    ("max_length", "expected"),
    [
        (10, Finding("info", "longest_length", "变量取最大长度时含签名共 36 字，按 1 条计费")),
        (60, Finding("info", "longest_length", "变量取最大长度时含签名共 86 字，按 2 条计费")),
        (
            500,
            Finding("warn", "may_be_too_long", "变量取最大长度时超出上限：短信内容（含签名）最多 500 字，当前 526 字"),
        ),
    ],
)
def test_longest_message_counts_variables_at_their_declared_length(max_length, expected):
    # 13 characters of signature and 13 around the placeholder: 26 + the declared length
    text = "您好${name}，您的社保缴费已到账。"
    findings = review(text, variables=[VariableSpec(name="name", type="text", max_length=max_length)])
    assert expected in findings
    assert "length" in codes(findings, "info")


# --- publicity opt-out --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category", "missing"),
    [
        ("社保卡新功能上线，欢迎体验。拒收请回复R", "publicity", False),
        ("社保卡新功能上线，欢迎体验。拒收请回复R。", "publicity", False),
        ("社保卡新功能上线，欢迎体验。拒收请回复R \n", "publicity", False),
        ("社保卡新功能上线，欢迎体验。拒收请回复Ｒ", "publicity", False),  # full-width R
        ("社保卡新功能上线，欢迎体验。", "publicity", True),
        ("拒收请回复R。社保卡新功能上线，欢迎体验。", "publicity", True),  # not at the end
        ("社保卡新功能上线，欢迎体验。拒收请回复T", "publicity", True),
        ("社保卡新功能上线，欢迎体验。回复R拒收", "publicity", True),
        ("您的社保卡已制作完成。", "notice", False),  # only publicity needs the line
        ("您的社保卡已制作完成。", "triggered", False),
    ],
)
def test_publicity_must_end_with_the_opt_out_line(text, category, missing):
    findings = review(text, category=category)
    expected = Finding("block", "opt_out_missing", f"宣传类短信必须以“{OPT_OUT_LINE}”结尾")
    assert (expected in findings) is missing


# --- relevance ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category", "warned"),
    [
        ("明天天气晴，注意防晒。", "notice", True),
        ("您的住房公积金已到账。", "notice", True),  # the housing fund is not social insurance
        ("周末商场打折，欢迎选购。拒收请回复R", "publicity", True),
        ("您的医保账户已到账。", "notice", False),
        ("工伤认定结果已出，请查收。", "notice", False),
        ("详询12333。", "hotline", False),
        ("生育津贴已发放。", "triggered", False),
        ("您的验证码为${code}。", "system", False),  # the platform's own messages
    ],
)
def test_text_unrelated_to_social_insurance_warns(text, category, warned):
    expected = Finding("warn", "not_social_insurance", "短信内容看不出与社会保险业务有关，请确认是否属于社保业务")
    assert (expected in review(text, category=category)) is warned


def test_signature_does_not_make_a_text_relevant():
    assert "not_social_insurance" in codes(review("周末商场打折。", signature="威海市社会保险事业中心"))


# --- order ---------------------------------------------------------------------------------------


def test_findings_come_blocks_first_then_warnings_then_facts():
    findings = review("周末赌博优惠，详见www.x.cn", category="publicity")
    levels = [finding.level for finding in findings]
    assert levels == sorted(levels, key=["block", "warn", "info"].index)
    assert codes(findings) == ["forbidden_word", "url", "opt_out_missing", "not_social_insurance", "length"]

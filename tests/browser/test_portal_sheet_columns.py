"""Before uploading a personalised list, staff read which columns the file needs and how each
is written, a date variable in the exact format its template declares; a row whose date is
written any other way is rejected with that format in its reason."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot, sign_in
from tests.contacts_support import person

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]

TEXT = "${name}您好，您的社保卡将于${due}到期，请及时到服务网点办理换卡。"
VARIABLES = [
    {"name": "name", "type": "name", "max_length": 10},
    {"name": "due", "type": "date", "max_length": 11, "format": "chinese"},
]


def test_the_upload_form_tells_each_columns_format_and_a_wrong_date_is_refused_with_it(
    portal_platform, staff_api, browser, tmp_path
):
    district = staff_api.account("cols-op-", "rushan", ["district_operator"], "钱名单")
    reviewer = staff_api.account("cols-rev-", "city", ["city_reviewer"], "冯审核")
    people = [person(8700 + n, district="rushan") for n in range(3)]
    staff_api.add_people(district, people)
    template = staff_api.targeted_template(
        district, reviewer, "社保卡到期提醒", "rushan", TEXT, variables=VARIABLES, remark="社保卡到期逐人提醒"
    )
    ids = [p["id"] for p in people]
    file = tmp_path / "到期名单.csv"
    rows = [
        "身份证号,手机号,name,due",
        f"{ids[0]},,王芳,2026年12月31日",
        f"{ids[1]},,李强,2026/12/31",
        f"{ids[2]},,张伟,2026-12-31",
    ]
    file.write_text("\r\n".join(rows) + "\r\n", encoding="utf-8-sig")

    page = browser.new_page()
    sign_in(page, portal_platform, district["username"], district["password"])
    page.get_by_role("link", name="发送申请").click()
    page.get_by_role("link", name="新建发送申请").click()
    page.get_by_label("模板").select_option(template["template_id"])
    page.get_by_label("按名单逐人填写（上传 Excel 或 CSV）").check()
    notes = page.get_by_role("list", name="各列的填写要求").locator("li")
    expect(notes).to_have_text(
        [
            "身份证号：必填，每行一个，不能重复",
            "手机号：可不填（通讯录中没有该对象的号码时才使用）",
            "name：姓名，中文或英文，最多 10 个字",
            "due：日期，写作 2026年12月31日，最多 11 个字",
        ]
    )
    shot(page, "value-sheet-columns")

    page.get_by_label("名单文件（Excel .xlsx 或 CSV）").set_input_files(str(file))
    page.get_by_role("button", name="上传并检查名单").click()
    expect(page.locator("#sheet-state")).to_contain_text("检查完成", timeout=60_000)
    expect(page.locator('[data-stat="accepted"] b')).to_have_text("2")
    expect(page.locator('[data-stat="rejected"] b')).to_have_text("1")
    rejected = page.locator("#sheet-rejected tbody tr")
    expect(rejected).to_have_count(1)
    expect(rejected.locator("td").first).to_have_text("3")
    expect(rejected).to_contain_text("应为有效日期，写作 2026年12月31日")
    # A date written the other accepted way is sent in the declared one.
    expect(page.locator("#sheet-summary table").first).to_contain_text("张伟您好，您的社保卡将于2026年12月31日到期")
    shot(page, "value-sheet-wrong-date")

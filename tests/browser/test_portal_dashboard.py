"""The dashboard's statistics in the portal: a date range and an office chosen, the numbers beside
each chart, distinct colours with red only for failure, whole ticks (no 0/1/1 on an empty axis),
each chart's table downloaded as CSV and XLSX, and tables sorted by a click on a heading."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("local_platform")]

RED = "#c0392b"
# Days far enough back that no other test's sends count on them.
BACK = (20, 19, 18)


@pytest.fixture(scope="module")
def days(staff_api) -> list[str]:
    """Messages of two offices counted on three past days (once for this module), as the message
    store counts them; the days, oldest first."""
    from sms_platform.foundation.clock import BEIJING
    from sms_platform.sending import daily_stats

    today = staff_api.platform_now().astimezone(BEIJING)
    days = [today - timedelta(days=back) for back in BACK]
    plan = [  # (day, kind, office, state, times, error code)
        (0, "publicity", "nanhai", "delivered", 12, None),
        (0, "publicity", "nanhai", "failed", 3, "DB:0101"),
        (1, "targeted", "nanhai", "delivered", 5, None),
        (1, "hangup", "nanhai", "delivered", 5, None),
        (2, "triggered", "nanhai", "delivered", 7, None),
        (2, "triggered", "nanhai", "failed", 1, "UNDELIV"),
        (1, "publicity", "wendeng", "delivered", 40, None),
    ]
    with staff_api.platform.functions_environment():
        for n, (day, kind, office, state, times, code) in enumerate(plan):
            at = days[day].replace(hour=11).isoformat()
            item = {"message_id": f"{n:04x}", "kind": kind, "office": office, "state": state, "parts": 1,
                    "biz_id": f"B{n}", "created_at": at, "sending_at": at}  # fmt: skip
            if code:
                item["error_code"] = code
            daily_stats.count(None, item, times)
    return [d.date().isoformat() for d in days]


def choose(page, start: str, end: str, office: str) -> None:
    form = page.get_by_role("form", name="统计范围")
    form.get_by_label("开始日期").fill(start)
    form.get_by_label("结束日期").fill(end)
    form.get_by_label("单位").select_option(label=office)
    form.get_by_role("button", name="查询").click()


def test_a_city_operator_filters_the_dashboard_reads_the_numbers_and_exports_them(
    portal_platform, staff_api, browser, tmp_path, days
):
    operator = staff_api.account("dash", "city", ["city_operator"], "统计员")
    page = browser.new_page()
    sign_in(page, portal_platform, operator["username"], operator["password"])
    page.get_by_role("link", name="统计与运维").click()
    expect(page.get_by_role("form", name="统计范围")).to_be_visible()

    choose(page, days[0], days[2], "南海新区")
    stats = page.locator("#statistics")
    expect(page.get_by_role("heading", name=f"{days[0]} 至 {days[2]} 各类短信的发送与送达（南海新区）")).to_be_visible()
    expect(stats.locator('[data-stat="sent"] b')).to_have_text("33")  # every message here reached the carrier
    expect(stats.locator('[data-stat="delivered"] b')).to_have_text("29")
    expect(stats.locator('[data-stat="failed"] b')).to_have_text("4")

    daily = stats.locator('[data-chart="每日发送、送达与失败"]')
    numbers = daily.get_by_role("table", name="每日发送、送达与失败（数据）")
    expect(numbers.locator("tbody tr")).to_have_count(3)
    expect(numbers.locator("tbody tr").nth(1)).to_have_text(f"{days[1]}10100")
    # Red is failure's colour alone, and each line is drawn differently, so equal lines both show.
    lines = daily.locator("polyline")
    assert [lines.nth(i).get_attribute("stroke") for i in range(3)] == ["#1f6fb2", "#2e7d32", RED]
    assert len({lines.nth(i).get_attribute("stroke-dasharray") for i in range(3)}) == 3
    ticks = daily.locator('text.axis[text-anchor="end"]').all_text_contents()
    assert ticks == ["0", "5", "10", "15"], ticks
    kinds = stats.locator('[data-chart="按类别：发送条数"] rect')
    expect(kinds).to_have_count(4)
    assert RED not in [kinds.nth(i).get_attribute("fill") for i in range(4)]
    failures = stats.locator('[data-chart="失败原因"] rect')
    expect(failures).to_have_count(2)
    assert {failures.nth(i).get_attribute("fill") for i in range(2)} == {RED}
    shot(page, "dashboard-filtered")

    with page.expect_download() as download:
        daily.get_by_role("button", name="每日发送、送达与失败：导出 CSV").click()
    text = download.value.path().read_bytes().decode("utf-8-sig")
    assert re.fullmatch(r"每日发送、送达与失败_\d{4}-\d\d-\d\d\.csv", download.value.suggested_filename)
    assert list(csv.reader(io.StringIO(text))) == [
        ["日期", "已发送", "已送达", "失败"],
        [days[0], "15", "12", "3"],
        [days[1], "10", "10", "0"],
        [days[2], "8", "7", "1"],
    ]

    with page.expect_download() as download:
        stats.get_by_role("button", name="按类别：发送条数：导出 XLSX").click()
    saved = tmp_path / "kinds.xlsx"
    download.value.save_as(saved)
    from openpyxl import load_workbook

    sheet = load_workbook(saved).active
    rows = sorted(tuple(row) for row in sheet.iter_rows(min_row=2, values_only=True))
    assert next(sheet.iter_rows(max_row=1, values_only=True)) == ("类别", "发送条数")
    assert rows == [("12333挂机短信", 5), ("业务触发类", 8), ("定向通知类", 5), ("宣传公告类", 15)]

    # Exported cells that a spreadsheet would run as formulas are written as text, as the server's
    # sms_platform.foundation.spreadsheets writes them.
    written = page.evaluate("""async () => {
        const { csvText } = await import(new URL("js/exports.js", location.href).href);
        return csvText([["=HYPERLINK(\\"http://x\\")", "+1", "-2", "@SUM(A1)", "正常, 有逗号"]]);
    }""")
    assert list(csv.reader(io.StringIO(written))) == [
        ['\'=HYPERLINK("http://x")', "'+1", "'-2", "'@SUM(A1)", "正常, 有逗号"]
    ]

    # A range with nothing sent: one tick, 0, and the chart says so.
    choose(page, days[2], days[2], "文登区")
    expect(page.get_by_role("heading", name=re.compile("（文登区）$"))).to_be_visible()
    expect(daily.locator("text.axis").first).to_have_text("0")
    expect(daily).to_contain_text("这段时间没有数据")
    expect(stats.get_by_role("button", name="失败原因：导出 CSV")).to_be_disabled()  # nothing to download
    assert daily.locator("text.axis").all_text_contents().count("1") == 0
    shot(page, "dashboard-empty-range")

    # A range the API refuses: its reason beside the field, in Chinese; the charts stay.
    choose(page, days[2], days[0], "全部单位")
    expect(page.locator('[data-error-for="from"]')).to_have_text("开始日期不能晚于结束日期")

    # At 768 px the numbers go under their chart instead of beside it.
    choose(page, days[0], days[2], "南海新区")
    expect(stats.locator('[data-stat="sent"] b')).to_have_text("33")
    page.set_viewport_size({"width": 768, "height": 1000})
    chart_box = daily.locator("svg.chart").bounding_box()
    numbers_box = numbers.bounding_box()
    assert numbers_box["y"] >= chart_box["y"] + chart_box["height"] - 1
    shot(page, "dashboard-narrow")


def test_tables_sort_by_a_heading_and_tell_their_totals(portal_platform, staff_api, browser, days):
    operator = staff_api.account("sort", "city", ["city_operator"], "排序员")
    page = browser.new_page()
    sign_in(page, portal_platform, operator["username"], operator["password"])
    page.get_by_role("link", name="统计与运维").click()
    choose(page, days[0], days[2], "全部单位")

    detail = page.locator('[data-chart="每日明细"]')
    table = detail.get_by_role("table", name="每日明细")
    first_cells = table.locator("tbody tr td:first-child")
    sent_cells = table.locator("tbody tr td:nth-child(4)")
    # Default order: the latest day first.
    expect(table.get_by_role("columnheader", name=re.compile("^日期"))).to_have_attribute("aria-sort", "descending")
    expect(first_cells.first).to_have_text(days[2])
    expect(detail.locator(".table-total")).to_have_text("共 5 条")

    sent = table.get_by_role("columnheader", name=re.compile("^已发送"))
    sent.click()
    expect(sent).to_have_attribute("aria-sort", "ascending")
    expect(sent_cells).to_have_text(["5", "5", "8", "15", "40"])
    sent.press("Enter")  # the keyboard sorts too, and the second time reverses
    expect(table.get_by_role("columnheader", name=re.compile("^已发送"))).to_have_attribute("aria-sort", "descending")
    expect(sent_cells).to_have_text(["40", "15", "8", "5", "5"])
    office = table.get_by_role("columnheader", name=re.compile("^单位"))
    office.click()
    # Chinese names in pinyin order (南海新区 nan, 文登区 wen); equal rows keep the default order,
    # the latest day first.
    expect(table.locator("tbody tr td:nth-child(3)")).to_have_text(["南海新区"] * 4 + ["文登区"])
    expect(sent_cells).to_have_text(["8", "5", "5", "15", "40"])
    shot(page, "tables-sorted")

"""Personalised lists (个性化名单) as values: a spreadsheet of one row per recipient, the person's
ID number or the unit's credit code, optionally a phone number, and one column per variable of a
targeted-notice template, so every recipient's message carries their own values (R5, R7).

    uploading → queued → checking → checked | failed        (``value_sheets`` moves them)
    checked → removed                                      (retention over: rows deleted)

Nothing here reads or writes a table: ``value_sheet_store`` keeps sheets, ``value_sheets``
moves them, ``value_sheet_rows`` checks rows and ``value_sheet_files`` reads the files.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SheetStatus = Literal["uploading", "queued", "checking", "checked", "failed", "removed"]
SheetKind = Literal["person", "unit"]
SheetFormat = Literal["csv", "xlsx"]

STATUS_NAMES: dict[str, str] = {
    "uploading": "等待上传",
    "queued": "排队检查中",
    "checking": "检查中",
    "checked": "已检查",
    "failed": "检查失败",
    "removed": "已按保留期限删除",
}
KIND_NAMES = {"person": "参保人员", "unit": "参保单位"}

MAX_ROWS = 200_000  # data rows of one sheet; larger lists are split by the office
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_FILE_TEXT = "50 MB"
PREVIEW_ROWS = 10  # rendered messages shown before proposing and to the reviewer
REJECT_SAMPLE = 100  # rejected rows shown on screen; the CSV report holds them all
CHUNK_ROWS = 1_000  # accepted rows per stored (encrypted) chunk: the fan-out's page
UPLOAD_SECONDS = 900
REPORT_SECONDS = 900
CHECK_JOB = "value_sheet.check"
SHEET_ID = r"^[0-9a-f]{32}$"


class SheetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template_id: str = Field(min_length=1, max_length=64, description="定向通知类模板的编号")
    kind: SheetKind = Field(description="名单对象：person 参保人员（身份证号）/ unit 参保单位（统一社会信用代码）")


# The answers below have no docstrings: pydantic would put them into the OpenAPI document.


class SheetCreated(BaseModel):
    sheet_id: str
    upload_url: str = Field(description="用 PUT 上传 CSV 或 XLSX 文件到此地址")
    method: str
    headers: dict[str, str]
    expires_in: int
    max_rows: int
    max_bytes: int
    columns: list[str] = Field(description="表头样例：证件号码列、手机号列（可选）、每个变量一列")


class MessagePreview(BaseModel):
    row: int = Field(description="文件中的行号（表头为第 1 行）")
    id_masked: str
    phone_masked: str | None = Field(description="名单中填写的手机号（脱敏）；未填写为空")
    text: str = Field(description="手机上显示的内容（含签名）")
    characters: int
    parts: int


class RejectedRow(BaseModel):
    row: int
    id_masked: str
    phone_masked: str
    reason: str


class PartsCount(BaseModel):
    parts: int = Field(description="每条短信的计费条数")
    messages: int = Field(description="这样的短信有多少人")


class SheetRef(BaseModel):
    # What a send request keeps of its sheet: the file's digest and counts, never its contents.
    sheet_id: str = Field(pattern=SHEET_ID)
    sha256: str
    format: SheetFormat
    rows: int
    accepted: int
    rejected: int
    total_parts: int
    max_parts: int


class SheetView(BaseModel):
    sheet_id: str
    kind: SheetKind
    kind_name: str
    office: str
    template_id: str
    template_version: int
    template_name: str
    status: SheetStatus
    status_name: str
    format: SheetFormat | None = None
    bytes: int | None = None
    sha256: str | None = None
    rows_total: int | None = Field(default=None, description="估计的总行数（检查进度用）")
    rows_done: int = 0
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    error: str | None = None
    columns: list[str] = Field(default_factory=list, description="使用的列")
    unused_columns: list[str] = Field(default_factory=list, description="未使用的列")
    preview: list[MessagePreview] = Field(default_factory=list)
    longest: MessagePreview | None = None
    parts: list[PartsCount] = Field(default_factory=list)
    total_parts: int = 0
    rejected_rows: list[RejectedRow] = Field(default_factory=list, description=f"前 {REJECT_SAMPLE} 个被拒行")
    request_id: str | None = None
    created_at: datetime
    checked_at: datetime | None = None
    removed_at: datetime | None = None


class SheetReport(BaseModel):
    sheet_id: str
    url: str = Field(description="被拒行报告（CSV，证件号码和手机号已脱敏）的下载地址")
    expires_in: int
    rejected: int


class CleanupOut(BaseModel):
    removed: list[str] = Field(default_factory=list)
    kept: int = 0

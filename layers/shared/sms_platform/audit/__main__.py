"""Command line of the audit trail, for operations:

``python -m sms_platform.audit verify --day YYYY-MM-DD`` checks a day's chains (exit 1 when one
is broken); ``python -m sms_platform.audit export --day YYYY-MM-DD`` archives the day as the
nightly job does (exit 1 when the archived day has a break)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import date

from sms_platform.audit import archive, trail


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sms_platform.audit", description="审计记录校验与归档")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("verify", "校验一天的审计链"), ("export", "将一天的审计记录归档到存档桶")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--day", required=True, type=date.fromisoformat, help="YYYY-MM-DD（北京时间）")
    args = parser.parse_args(argv)
    if args.command == "verify":
        link = trail.verify(args.day)
        if link is None:
            print(f"{args.day}: 审计链完整")
            return 0
        print(f"{args.day}: 审计链断裂于 {link.chain} 第 {link.seq} 条（{link.reason}）：{link.message}")
        return 1
    result = archive.export_day(args.day)
    state = "已写入" if result.written else "内容未变，未重复写入"
    print(f"{args.day}: {result.entries} 条，s3://{result.bucket}/{result.key}，{state}")
    return 0 if result.broken is None else 1


if __name__ == "__main__":
    raise SystemExit(main())

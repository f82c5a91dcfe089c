"""Give each address-book record its current place in the name index (pinyin order).

    python -m infra.contacts_index backfill --stack weihai-sms [--segments 4]

Staff browse a district's records in pinyin order of the name through the contacts table's
``gsi3``, whose keys every write of a record writes (``sms_platform.contacts.record_items.
name_keys``). A record written before that index was deployed has no keys there and would be
missing from the list until its next change; one written while the index ordered by the
names' code points has keys of that order and would stand out of place. Run this once after
deploying the index or a change of its order. It scans the table for records whose stored keys
differ from the ones a write would give them now (``repository.misplaced_records``; records
in place are skipped) and rewrites their keys, each conditioned on the version read, so a
record changed meanwhile is left to the write that changed it (which wrote its keys). Running
it again finds nothing left and writes nothing. The local platform and the tests start from
empty tables: nothing there predates the index.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor


def backfill_segment(segment: int, segments: int) -> tuple[int, int]:
    """(records given their keys, records skipped because they changed meanwhile) in one segment."""
    from sms_platform.contacts import repository

    written = skipped = 0
    for contact in repository.misplaced_records(segment=segment, segments=segments):
        if repository.index_names(contact):
            written += 1
        else:
            skipped += 1
    return written, skipped


def backfill(segments: int = 1) -> tuple[int, int]:
    """Every record without its current name-index keys given them, ``segments`` scan segments
    at once."""
    with ThreadPoolExecutor(max_workers=segments) as pool:
        counts = list(pool.map(lambda segment: backfill_segment(segment, segments), range(segments)))
    return sum(c[0] for c in counts), sum(c[1] for c in counts)


def _use_stack(stack: str) -> None:
    """Point the platform's own code at the stack's tables, as its functions see them."""
    import os

    import boto3
    from sms_platform.foundation import settings

    from infra import template_model
    from infra.keys import functions_environment, stack_resources

    resources = stack_resources(boto3.client("cloudformation"), stack)
    os.environ.update(functions_environment(resources, template_model.load().globals_env))
    settings.reset()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m infra.contacts_index", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    fill = commands.add_parser("backfill", help="(re)write the name-index keys of records not in their place")
    fill.add_argument("--stack", required=True)
    fill.add_argument("--segments", type=int, default=4, choices=range(1, 33), metavar="1-32",
                      help="parallel scan segments (default 4)")  # fmt: skip
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    _use_stack(args.stack)
    written, skipped = backfill(args.segments)
    print(f"{written} records given their place in the name index; {skipped} changed meanwhile (placed then).")
    return 0


if __name__ == "__main__":
    sys.exit(main())

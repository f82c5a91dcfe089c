"""The catalogue of DynamoDB items (sms_platform.aws.keys) stays true to the code."""

import importlib
import re
from pathlib import Path

from sms_platform.aws import keys

LAYER = Path(__file__).resolve().parents[3] / "layers" / "shared" / "sms_platform"
# A key prefix as the code writes it: "msg#" or f"msg#{...}".
PREFIX = re.compile(r"""(?<![A-Za-z0-9_])f?["']([a-z_]+#)""")
WHOLE_KEYS = {item.pk for item in keys.ITEMS if not item.pk.endswith("#")}


def _written_prefixes() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in LAYER.rglob("*.py"):
        if path.name == "keys.py" and path.parent.name == "aws":
            continue
        text = path.read_text(encoding="utf-8")
        for prefix in PREFIX.findall(text):
            found.setdefault(prefix, set()).add(str(path.relative_to(LAYER)))
        # A partition of one fixed key ("carrierroute") is written as that whole string.
        for whole in WHOLE_KEYS:
            if f'"{whole}"' in text:
                found.setdefault(whole, set()).add(str(path.relative_to(LAYER)))
    return found


def _catalogued() -> set[str]:
    names = set(keys.SOURCE_IDS)
    for item in keys.ITEMS:
        names |= {item.pk, *item.sk, *item.indexes}
    return names


def test_every_key_prefix_the_layer_writes_is_catalogued():
    missing = {p: sorted(where) for p, where in _written_prefixes().items() if p not in _catalogued()}
    assert not missing, f"add these to sms_platform/aws/keys.py: {missing}"


def test_every_catalogued_prefix_is_still_written_somewhere():
    written = _written_prefixes()
    assert sorted(p for p in _catalogued() if p not in written) == []


def test_each_item_names_a_store_module_that_exists_and_a_known_table():
    tables = {keys.CONTROL, keys.CONTACTS, keys.SENDS, keys.MESSAGES, keys.SUBSCRIPTIONS, keys.AUDIT, keys.LIMITS}
    for item in keys.ITEMS:
        assert item.table in tables
        importlib.import_module(f"sms_platform.{item.store}")


def test_one_prefix_belongs_to_one_table():
    tables: dict[str, set[str]] = {}
    for item in keys.ITEMS:
        tables.setdefault(item.pk, set()).add(item.table)
    assert {p: t for p, t in tables.items() if len(t) > 1} == {}
    assert [i.store for i in keys.owners("apikey#")] == ["sources.trigger_rule_store", "contacts.channels"]

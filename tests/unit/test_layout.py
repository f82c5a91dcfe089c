"""The shared layer's layout rules that a linter does not hold: modules small enough to read
at a sitting, and AWS error codes read in one place.

(import-linter holds the direction of imports, ruff's C901 the complexity of functions.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

LAYER = Path(__file__).resolve().parents[2] / "layers" / "shared" / "sms_platform"
MAX_LINES = 500
MODULES = sorted(LAYER.rglob("*.py"))


@pytest.mark.parametrize("module", MODULES, ids=lambda path: str(path.relative_to(LAYER)))
def test_no_module_is_over_500_lines(module: Path) -> None:
    lines = len(module.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module.relative_to(LAYER)} has {lines} lines: split it by role"


# A refused call's error read out of its answer by hand, outside aws/ (``aws.error_code`` and
# ``aws.condition_failed`` read it; callers compare the code they return).
ERROR_CODE_READ = re.compile(r"""response(?:\[["']Error["']\]|\.get\(["']Error["'])""")


ABOVE_AWS = [module for module in MODULES if "aws" not in module.relative_to(LAYER).parts]


@pytest.mark.parametrize("module", ABOVE_AWS, ids=lambda path: str(path.relative_to(LAYER)))
def test_aws_error_codes_are_read_only_through_aws(module: Path) -> None:
    found = ERROR_CODE_READ.findall(module.read_text(encoding="utf-8"))
    assert not found, f"{module.relative_to(LAYER)} reads AWS error codes itself ({found}): use aws.error_code"

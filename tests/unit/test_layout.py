"""The shared layer's layout rules that a linter does not hold: modules small enough to read
at a sitting, AWS error codes read in one place, and imports at the top of their module unless
a comment says why not.

(import-linter holds the direction of imports, ruff's C901 the complexity of functions.)"""

from __future__ import annotations

import ast
import io
import re
import tokenize
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


# An import inside a function stays there only where the cold-import benchmark needs it (it
# defers a heavy library, or a module that brings one, out of a handler's cold import) or where
# it breaks an import cycle, and a comment says which: on the import, or in the function at or
# above the first one. Linters' pragmas (noqa, fmt: skip) say nothing of the kind.
PRAGMA = re.compile(r"#\s*(?:noqa|fmt:|type:|pragma)")


def _comment_lines(source: str) -> set[int]:
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return {t.start[0] for t in tokens if t.type == tokenize.COMMENT and not PRAGMA.match(t.string)}


def unexplained_imports(source: str) -> list[str]:
    """Each function of ``source`` with imports in its body and no comment saying why."""
    comments = _comment_lines(source)
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        imports = [s for s in ast.walk(node) if isinstance(s, ast.Import | ast.ImportFrom)]
        if not imports:
            continue
        first = min(s.lineno for s in imports)
        lines = set(range(node.lineno, first + 1))
        lines.update(line for s in imports for line in range(s.lineno, (s.end_lineno or s.lineno) + 1))
        if not lines & comments:
            found.append(f"{node.name} (line {first})")
    return found


@pytest.mark.parametrize("module", MODULES, ids=lambda path: str(path.relative_to(LAYER)))
def test_imports_inside_functions_say_why(module: Path) -> None:
    found = unexplained_imports(module.read_text(encoding="utf-8"))
    assert not found, (
        f"{module.relative_to(LAYER)} imports inside {', '.join(found)} with no comment saying why: import at the "
        "top of the module, or say what the import keeps out of a handler's cold import (or which cycle it breaks)"
    )


def test_an_import_inside_a_function_needs_a_comment_not_a_pragma() -> None:
    source = '''
def bare():
    import json  # noqa: PLC0415
    key = f"call#{1}"
    from sms_platform import aws


def explained():
    # deferred: jinja2 stays out of the intake's cold import
    from jinja2 import nodes


def on_the_line():
    x = 1
    import boto3  # deferred: boto3 loads on first use


def at_the_top():
    return 1
'''
    assert unexplained_imports(source) == ["bare (line 3)"]

"""The patches of moto and botocore (infra/patches/): one switch turns them all off, each
installs only on the versions it was written for and refuses loudly on any other, their pins
are the project's, and nothing else in infra/ patches moto, botocore or werkzeug."""

from __future__ import annotations

import ast
import importlib
import re
import tomllib
import types
import warnings
from importlib import metadata
from pathlib import Path

import pytest

from infra import patches

ROOT = Path(__file__).resolve().parents[3]
PATCHES = sorted(
    path.stem for path in (ROOT / "infra" / "patches").glob("*.py") if path.stem not in ("__init__", "measure")
)


@pytest.mark.parametrize(
    ("value", "expected"), [(None, True), ("", True), ("on", True), ("ON ", True), ("off", False), ("Off", False)]
)
def test_the_switch_is_on_unless_set_off(value: str | None, expected: bool) -> None:
    env = {} if value is None else {patches.SWITCH: value}
    assert patches.switched_on(env) is expected


def test_a_mistyped_switch_is_refused() -> None:
    with pytest.raises(ValueError, match="PLATFORM_MOTO_PATCHES"):
        patches.switched_on({patches.SWITCH: "no"})


def test_the_local_platform_stops_at_a_mistyped_switch() -> None:
    from infra.local import settings

    with pytest.raises(SystemExit, match="PLATFORM_MOTO_PATCHES"):
        settings.load({patches.SWITCH: "false", "MOTO_PORT": "4566"})


def _stand_in(name: str, written_for: dict[str, str]) -> types.ModuleType:
    """A patch that only counts how often it was applied."""
    module = types.ModuleType(f"infra.patches.{name}")
    module.WRITTEN_FOR = written_for  # type: ignore[attr-defined]
    module.applied = 0  # type: ignore[attr-defined]

    def apply() -> None:
        module.applied += 1  # type: ignore[attr-defined]

    module.apply = apply  # type: ignore[attr-defined]
    return module


def test_switched_off_nothing_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(patches.SWITCH, "off")
    patch = _stand_in("stand_in_off", {"moto": "==" + metadata.version("moto")})
    assert patches.install(patch) == []
    assert patch.applied == 0  # type: ignore[attr-defined]


def test_a_patch_installs_on_the_version_it_was_written_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(patches.SWITCH, "on")
    patch = _stand_in("stand_in_same", {"moto": "==" + metadata.version("moto")})
    assert patches.install(patch) == ["stand_in_same"]
    assert patch.applied == 1  # type: ignore[attr-defined]


def test_on_another_version_a_patch_refuses_loudly_once_and_leaves_the_library_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(patches.SWITCH, "on")
    patch = _stand_in("stand_in_other", {"moto": "==4.0.0"})
    with pytest.warns(patches.PatchRefused, match=r"stand_in_other not installed: .*moto==4\.0\.0.*moto 5"):
        assert patches.install(patch) == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert patches.install(patch) == []  # refused again, without a second warning
    assert patch.applied == 0  # type: ignore[attr-defined]


def test_a_library_that_is_not_installed_is_another_version() -> None:
    assert patches.version_mismatch({"no-such-distribution-here": "==1.0"}) == (
        "no-such-distribution-here is not installed"
    )


@pytest.mark.parametrize(
    ("version", "spec", "expected"),
    [
        ("5.2.5", "==5.2.5", True),
        ("5.2.6", "==5.2.5", False),
        ("5.2.5.dev0", "==5.2.5", False),
        ("1.44.8", ">=1.44.8,<1.45.0", True),
        ("1.44.18", ">=1.44.8,<1.45.0", True),
        ("1.44.7", ">=1.44.8,<1.45.0", False),
        ("1.45.0", ">=1.44.8,<1.45.0", False),
        ("1.45.0rc1", ">=1.44.8,<1.45.0", False),
    ],
)
def test_versions_are_compared_by_their_release_numbers(version: str, spec: str, expected: bool) -> None:
    assert patches._satisfies(version, spec) is expected


def _pins() -> dict[str, str]:
    """The project's pins: moto's from the dev dependencies, botocore's as the pinned boto3 requires it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["dev"]
    pinned = dict(re.fullmatch(r"([\w-]+)(?:\[[\w,]+\])?==(\S+)", r).groups() for r in requirements)  # type: ignore[union-attr]
    assert metadata.version("boto3") == pinned["boto3"]
    botocore = next(r for r in metadata.requires("boto3") or [] if re.match(r"botocore\s*[(<>=]", r))
    clauses = sorted(c.strip() for c in re.sub(r"[()\s]|;.*|^botocore", "", botocore).split(","))
    return {"moto": f"=={pinned['moto']}", "botocore": ",".join(clauses)}


@pytest.mark.parametrize("name", PATCHES)
def test_each_patch_is_written_for_the_projects_pins_and_says_what_it_buys(name: str) -> None:
    patch = importlib.import_module(f"infra.patches.{name}")
    pins = _pins()
    assert patch.WRITTEN_FOR, name
    for distribution, spec in patch.WRITTEN_FOR.items():
        assert ",".join(sorted(spec.split(","))) == pins[distribution], (name, distribution)
    assert patches.version_mismatch(patch.WRITTEN_FOR) is None  # so here they are installed
    assert callable(patch.apply)
    assert "Measured" in (patch.__doc__ or "") and "python -m infra.patches.measure" in patch.__doc__, name


def test_every_patch_can_be_measured() -> None:
    from infra.patches import measure

    assert set(PATCHES) - {"urgent_calls"} == set(measure.WORKLOADS)  # the urgent mark is measured with urgent_first


PATCHED_LIBRARIES = ("moto", "botocore", "werkzeug")
MUTATORS = {"append", "extend", "insert", "update", "setdefault", "__setitem__"}


def _patched_names(tree: ast.AST) -> set[str]:
    """Names bound by imports from moto, botocore or werkzeug."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.asname or a.name.split(".")[0] for a in node.names if a.name.startswith(PATCHED_LIBRARIES)}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PATCHED_LIBRARIES):
            names |= {a.asname or a.name for a in node.names}
    return names


def _root(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _changes(tree: ast.AST, names: set[str]) -> list[int]:
    """Lines that assign to or mutate something imported from a patched library, and every
    ``setattr`` or ``delattr``: what they change is seldom known before the code runs."""
    lines = set()
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            targets = [t for t in targets if isinstance(t, ast.Attribute | ast.Subscript)]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr"):
            lines.add(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
            targets = [node.func.value] if isinstance(node.func.value, ast.Attribute) else []
        if any(_root(t) in names for t in targets):
            lines.add(node.lineno)
    return sorted(lines)


def test_nothing_outside_infra_patches_patches_moto_botocore_or_werkzeug() -> None:
    found = {}
    for path in sorted((ROOT / "infra").rglob("*.py")):
        if "patches" in path.relative_to(ROOT / "infra").parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        lines = _changes(tree, _patched_names(tree))
        if lines:
            found[str(path.relative_to(ROOT))] = lines
    assert found == {}


def test_the_fence_check_sees_a_patch() -> None:
    source = (
        "from botocore import handlers\n"
        "import moto.core\n"
        "handlers.BUILTIN_HANDLERS.append(1)\n"
        "moto.core.x = 1\n"
        "setattr(handlers, 'y', 2)\n"
        "safe = handlers.BUILTIN_HANDLERS\n"
        "for owner in (handlers,):\n"
        "    setattr(owner, 'z', 3)\n"
    )
    tree = ast.parse(source)
    assert _changes(tree, _patched_names(tree)) == [3, 4, 5, 8]

"""Every change this project makes to moto's, werkzeug's serving or botocore's internals, and
to the moto server's interpreter, in one place: one module per patch.

They are speed-ups only. moto and botocore answer the same with or without them; the
platform and every test run unpatched too, only slower (at scale much slower: unpatched, a bulk
batch among a few thousand messages outlasts the dispatch function's timeout, see
``transactions``):

- ``PLATFORM_MOTO_PATCHES=off`` in the environment turns them all off (``switched_on``, the
  one place that reads it). The local platform passes it on to moto's server and to every
  function environment it starts.
- Each patch names the versions it was written and measured for (``WRITTEN_FOR``, the pins of
  ``pyproject.toml``: moto==5.2.5, and botocore as boto3==1.44.8 requires it). On any other
  version it refuses to install, with a ``PatchRefused`` warning on standard error, and what
  it would patch stays as its library wrote it.

Where they are installed: ``install_for_tests`` (the ``aws`` fixture, moto in the test
process), ``install_in_moto_server`` (``infra/local/moto_process.py``) and
``install_in_urgent_process`` (an environment on the urgent path, ``infra/local/priority.py``).
Each module's docstring says what it buys, measured on the machine it was written on, and
the command that measures it again (``python -m infra.patches.measure <patch>``).
"""

from __future__ import annotations

import os
import re
import warnings
from importlib import metadata
from types import ModuleType
from typing import Any

SWITCH = "PLATFORM_MOTO_PATCHES"
_refused: set[str] = set()  # patches already refused in this process: one warning each


class PatchRefused(RuntimeWarning):
    """A patch was not installed: the library it changes is not the version it was written for."""


def switched_on(env: dict[str, str] | None = None) -> bool:
    """Whether the patches may be installed: ``PLATFORM_MOTO_PATCHES`` is ``on`` (the default)
    or ``off``; any other value is a mistake worth stopping for."""
    value = (os.environ if env is None else env).get(SWITCH, "").strip().lower()
    if value in ("", "on"):
        return True
    if value == "off":
        return False
    raise ValueError(f"{SWITCH} is 'on' or 'off', not {value!r}")


def _release(version: str) -> tuple[int, ...]:
    """A version's release numbers (``1.44.18`` -> (1, 44, 18); a suffix such as ``rc1`` or
    ``.dev0`` ends them)."""
    numbers = []
    for part in version.split("."):
        digits = re.match(r"\d+", part)
        if digits is None:
            break
        numbers.append(int(digits.group()))
        if digits.group() != part:
            break
    return tuple(numbers)


def _satisfies(version: str, spec: str) -> bool:
    """Whether ``version`` meets ``spec``: comma-separated ``==``, ``>=`` and ``<`` clauses."""
    for clause in spec.split(","):
        operator, wanted = re.fullmatch(r"\s*(==|>=|<)\s*(\S+)\s*", clause).groups()  # type: ignore[union-attr]
        if operator == "==" and version != wanted:
            return False
        if operator == ">=" and _release(version) < _release(wanted):
            return False
        if operator == "<" and _release(version) >= _release(wanted):
            return False
    return True


def version_mismatch(written_for: dict[str, str]) -> str | None:
    """What differs from the versions a patch was written for, or None when nothing does."""
    for distribution, spec in written_for.items():
        try:
            installed = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            return f"{distribution} is not installed"
        if not _satisfies(installed, spec):
            return f"it was written for {distribution}{spec}, and {distribution} {installed} is installed"
    return None


def install(*patches: ModuleType) -> list[str]:
    """Install each patch whose library is the version it was written for, unless the switch
    is off; the names of those installed (already installed ones included)."""
    if not switched_on():
        return []
    installed = []
    for patch in patches:
        name = patch.__name__.rsplit(".", 1)[-1]
        mismatch = version_mismatch(patch.WRITTEN_FOR)
        if mismatch is None:
            patch.apply()
            installed.append(name)
        elif name not in _refused:
            _refused.add(name)
            warnings.warn(
                f"infra.patches.{name} not installed: {mismatch}. It runs unpatched (slower, the same "
                f"answers); check the patch against that version and measure it again before changing "
                f"its WRITTEN_FOR.",
                PatchRefused,
                stacklevel=2,
            )
    return installed


def _moto_and_botocore() -> list[ModuleType]:
    """The patches of moto's and botocore's code, wherever moto runs."""
    from infra.patches import botocore_loader, serializer, transactions

    return [transactions, serializer, botocore_loader]


def install_for_tests() -> list[str]:
    """The patches for moto running inside the test process (``mock_aws``)."""
    return install(*_moto_and_botocore())


def install_in_moto_server(app: Any) -> tuple[Any, list[str]]:
    """The patches for moto's own server process: those of moto's and botocore's code, the
    interpreter's settings, and urgent calls served first (``app`` wrapped when that one is
    installed). Answers the application to serve and the names of the patches installed."""
    from infra.patches import frozen_state, switch_interval, urgent_first

    installed = install(*_moto_and_botocore(), switch_interval, frozen_state)
    if install(urgent_first):
        app = urgent_first.serve(app)
        installed.append("urgent_first")
    return app, installed


def install_in_urgent_process() -> list[str]:
    """Every AWS call this process makes from now on is marked urgent, for ``urgent_first``."""
    from infra.patches import urgent_calls

    return install(urgent_calls)

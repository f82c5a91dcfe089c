"""``python -m infra.local``: make sure the project's virtual environment exists and has what
the platform needs, then run the platform in it.

Only the standard library is used before the environment is known to be complete, so this
works from a fresh clone with nothing but ``python3``.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv"
NEEDED = ("boto3", "moto", "werkzeug", "croniter", "aws_lambda_powertools", "sms_platform", "samtranslator")


def _complete() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in NEEDED)


def _bootstrap() -> None:
    """Create ``.venv`` if it is missing, install the project into it, and run there."""
    python = VENV / "bin" / "python"
    if os.environ.get("LOCAL_PLATFORM_BOOTSTRAPPED"):
        missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
        raise SystemExit(f"the virtual environment still lacks {', '.join(missing)}: run `make clean run`")
    if not python.exists():
        print(f"creating the virtual environment in {VENV}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)  # noqa: S603
    print("installing the project and its development dependencies", flush=True)
    subprocess.run(  # noqa: S603 - the project's own interpreter
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", ".[dev]"],
        cwd=ROOT,
        check=True,
    )
    os.environ["LOCAL_PLATFORM_BOOTSTRAPPED"] = "1"
    os.chdir(ROOT)
    os.execv(str(python), [str(python), "-m", "infra.local", *sys.argv[1:]])  # noqa: S606


if __name__ == "__main__":
    if not _complete():
        _bootstrap()
    from infra.local.platform import main

    sys.exit(main())

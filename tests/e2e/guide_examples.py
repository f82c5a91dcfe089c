"""The examples of the integration guide (``docs/``) as a test reads and runs them.

A page marks each runnable example and the answer it documents in the fence's info string:

    ```bash example="hangup"            a shell example (curl), run with bash
    ```python example="hangup"          a Python example (requests), run with this interpreter
    ```http answer="hangup"             the answer both give: status line, then the JSON body
    ```text answer="alibaba-signature"  or the exact text an example prints
    ```json answer="callback-receiver"  or the JSON it prints

Examples read what differs between platforms from the environment (``$SMS_API_BASE``,
``$SMS_API_KEY``, ``$HOTLINE_SECRET``...), as the guide tells integrators to set it. In a
documented JSON answer a string written ``"<...>"`` stands for a value that differs from call to
call (an order's id, a time): it matches any non-empty string, and a time when its words name one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[2] / "docs"
RUNNERS = {"bash": ["bash", "-eu", "-o", "pipefail", "-c"], "python": [sys.executable, "-c"]}
_FENCE = re.compile(r"^```(?P<language>[\w-]+)(?P<attributes>[^\n]*)\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)
_ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')
_STATUS = re.compile(r"^(?:HTTP/[\d.]+\s+)?(\d{3})\b")
_TIME_WORDS = ("时间", "时刻")


@dataclass(frozen=True)
class Example:
    page: str
    name: str
    language: str
    code: str


@dataclass(frozen=True)
class Answer:
    page: str
    name: str
    language: str
    text: str


@dataclass(frozen=True)
class Outcome:
    """What an example printed: an HTTP status and a JSON body, or only text."""

    status: int | None
    body: Any
    text: str


def pages() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def read(paths: list[Path] | None = None) -> tuple[list[Example], dict[str, Answer]]:
    """Every marked example, in page order, and every documented answer by its name."""
    examples: list[Example] = []
    answers: dict[str, Answer] = {}
    for path in paths if paths is not None else pages():
        for fence in _FENCE.finditer(path.read_text(encoding="utf-8")):
            attributes = dict(_ATTRIBUTE.findall(fence["attributes"]))
            language, body = fence["language"], fence["body"]
            if "example" in attributes:
                examples.append(Example(path.name, attributes["example"], language, body))
            if "answer" in attributes:
                if attributes["answer"] in answers:
                    raise ValueError(f"{path.name}: a second answer named {attributes['answer']!r}")
                answers[attributes["answer"]] = Answer(path.name, attributes["answer"], language, body)
    return examples, answers


def parse_output(text: str) -> Outcome:
    """An HTTP exchange as printed: a status (``HTTP/1.1 202 Accepted`` as curl -i shows it, or
    the bare code a Python example prints) and the JSON body after it; else only text."""
    lines = text.strip().splitlines()
    status = None
    for number, line in enumerate(lines):
        found = _STATUS.match(line.strip())
        if found:
            status = int(found[1])
            rest = "\n".join(lines[number + 1 :])
            break
    else:
        return Outcome(None, None, text.strip())
    start = next((i for i, char in enumerate(rest) if char in "{[" and (i == 0 or rest[i - 1] == "\n")), None)
    body = json.JSONDecoder().raw_decode(rest[start:])[0] if start is not None else None
    return Outcome(status, body, text.strip())


def _is_placeholder(value: Any) -> bool:
    return isinstance(value, str) and len(value) > 2 and value.startswith("<") and value.endswith(">")


def _is_time(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def differences(documented: Any, actual: Any, where: str = "$") -> list[str]:
    """Where ``actual`` differs from the documented value (empty when it matches)."""
    if _is_placeholder(documented):
        if not isinstance(actual, str) or not actual:
            return [f"{where}: expected a value for {documented}, got {actual!r}"]
        if any(word in documented for word in _TIME_WORDS) and not _is_time(actual):
            return [f"{where}: expected a time for {documented}, got {actual!r}"]
        return []
    if isinstance(documented, dict) and isinstance(actual, dict):
        found = [f"{where}: documented {key!r} missing" for key in documented if key not in actual]
        found += [f"{where}: {key!r} not documented" for key in actual if key not in documented]
        for key in documented.keys() & actual.keys():
            found += differences(documented[key], actual[key], f"{where}.{key}")
        return found
    if isinstance(documented, list) and isinstance(actual, list):
        if len(documented) != len(actual):
            return [f"{where}: documented {len(documented)} items, got {len(actual)}: {actual!r}"]
        return [d for i, (doc, act) in enumerate(zip(documented, actual, strict=True))
                for d in differences(doc, act, f"{where}[{i}]")]  # fmt: skip
    if documented != actual or type(documented) is not type(actual):
        return [f"{where}: documented {documented!r}, got {actual!r}"]
    return []


def check(answer: Answer, printed: str) -> list[str]:
    """Whether what an example printed is the answer the guide documents."""
    if answer.language == "text":
        return [] if printed.strip() == answer.text.strip() else [f"printed {printed.strip()!r}"]
    if answer.language == "json":
        try:
            return differences(json.loads(answer.text), json.loads(printed))
        except ValueError:
            return [f"printed no JSON: {printed[-600:]!r}"]
    documented, actual = parse_output(answer.text), parse_output(printed)
    if actual.status is None:
        return [f"no HTTP status in what it printed: {printed[-600:]!r}"]
    found = []
    if documented.status != actual.status:
        found.append(f"status: documented {documented.status}, got {actual.status}")
    return found + differences(documented.body, actual.body)


def missing_tools() -> list[str]:
    """What the shell examples call that this machine lacks (Debian: apt-get install curl openssl)."""
    return [tool for tool in ("bash", "curl", "openssl") if shutil.which(tool) is None]


def run(example: Example, environment: dict[str, str], timeout: float = 180.0) -> str:
    """Run an example as an integrator would (bash, or this Python with requests); its output."""
    env = {**os.environ, **environment}
    done = subprocess.run([*RUNNERS[example.language], example.code], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)  # fmt: skip
    if done.returncode != 0:
        raise AssertionError(f"{example.page} {example.name} ({example.language}) exited {done.returncode}:\n"
                             f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}")  # fmt: skip
    return done.stdout


def start(example: Example, environment: dict[str, str]) -> subprocess.Popen[str]:
    """Start an example that waits for something (a callback receiver); read it with communicate()."""
    return subprocess.Popen([*RUNNERS[example.language], example.code], env={**os.environ, **environment},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip

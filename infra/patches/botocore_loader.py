"""One botocore loader for every session of the process.

Every test starts a fresh moto, so the platform's boto3 clients are made anew, and each new
botocore session reads and parses the same service-model JSON files again. Here every session
shares one loader, which keeps what it read (the files never change during a run).

Measured (``python -m infra.patches.measure botocore_loader``, two runs on a two-core
machine): a DynamoDB client made in a new session takes 41-42 ms without it, 10-15 ms with it
(medians).
"""

from __future__ import annotations

from typing import Any

# botocore.session.create_loader; botocore as boto3==1.44.8 (pyproject.toml) requires it.
WRITTEN_FOR = {"botocore": ">=1.44.8,<1.45.0"}


def apply() -> None:
    """Once per process; later calls do nothing."""
    import botocore.loaders
    import botocore.session

    if getattr(botocore.session.create_loader, "shared", False):
        return
    loaders: dict[Any, Any] = {}

    def create_loader(search_path_string: Any = None) -> Any:
        if search_path_string not in loaders:
            loaders[search_path_string] = botocore.loaders.create_loader(search_path_string)
        return loaders[search_path_string]

    create_loader.shared = True  # type: ignore[attr-defined]
    botocore.session.create_loader = create_loader

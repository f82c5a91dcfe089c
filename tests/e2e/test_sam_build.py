"""`sam build` must succeed for the Lambda runtime (python3.12, arm64): the deployable artefacts."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.xdist_group("sam_build")
def test_sam_build_produces_every_function_and_the_shared_layer(tmp_path):
    result = subprocess.run(
        ["make", "--no-print-directory", "build", f"BUILD_DIR={tmp_path}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Build Succeeded" in result.stdout

    from infra import template_model

    built = {entry.name for entry in tmp_path.iterdir()}
    assert set(template_model.load().functions) <= built
    layer = tmp_path / "SharedLayer" / "python"
    assert (layer / "sms_platform" / "__init__.py").exists()
    # Wheels for the Lambda architecture, not this machine's.
    native = next(layer.glob("pydantic_core/_pydantic_core*.so"))
    assert "aarch64" in native.name

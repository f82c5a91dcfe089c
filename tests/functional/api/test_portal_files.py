"""The portal function serves the portal's files from the portal bucket, as API Gateway calls it
for GET /portal and GET /portal/{proxy+}."""

from __future__ import annotations

from pathlib import Path

import pytest
from sms_platform.foundation import settings as platform_settings

from tests.events import api_event

PORTAL = Path(__file__).resolve().parents[3] / "portal"


@pytest.fixture
def published(aws, monkeypatch):
    """The portal copied to its bucket, as publishing it does."""
    from sms_platform import aws as platform_aws

    bucket = aws.physical["PortalBucket"]
    monkeypatch.setenv("PORTAL_BUCKET", bucket)
    platform_settings.reset()  # read the changed environment
    s3 = platform_aws.client("s3")
    for path in PORTAL.rglob("*"):
        if path.is_file():
            s3.put_object(Bucket=bucket, Key=f"portal/{path.relative_to(PORTAL).as_posix()}", Body=path.read_bytes())
    return bucket


@pytest.mark.parametrize(
    ("proxy", "status", "content_type", "file"),
    [
        ("index.html", 200, "text/html; charset=utf-8", "index.html"),
        ("js/app.js", 200, "text/javascript; charset=utf-8", "js/app.js"),
        ("portal.css", 200, "text/css; charset=utf-8", "portal.css"),
        ("js/", 404, "application/json; charset=utf-8", None),
        ("js/nothing.js", 404, "application/json; charset=utf-8", None),
        ("../template.yaml", 404, "application/json; charset=utf-8", None),
        ("js/../../template.yaml", 404, "application/json; charset=utf-8", None),
    ],
)
def test_portal_files_are_served_from_the_bucket(published, lambda_context, proxy, status, content_type, file):
    import portal_files

    event = api_event("GET", f"/portal/{proxy}", resource="/portal/{proxy+}", path_parameters={"proxy": proxy})
    answer = portal_files.handler(event, lambda_context)
    assert answer["statusCode"] == status
    assert answer["headers"]["Content-Type"] == content_type
    if file:
        assert answer["body"] == (PORTAL / file).read_text(encoding="utf-8")
    else:
        assert answer["body"].startswith('{"error": {"code": "not_found"')


def test_the_portal_root_redirects_to_its_index(published, lambda_context):
    import portal_files

    answer = portal_files.handler(api_event("GET", "/portal", resource="/portal"), lambda_context)
    assert (answer["statusCode"], answer["headers"]["Location"]) == (302, "/portal/")

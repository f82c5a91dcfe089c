"""Audit entries as auditors read them: a page of the trail with each entry's action and target in
Chinese (``audit.vocabulary``) and the name of the template it concerns, read once per page."""

from __future__ import annotations

from sms_platform.audit import views
from sms_platform.audit.search import AuditQuery
from sms_platform.foundation.errors import NotFound
from sms_platform.templates import store as template_store


def _template_name(template_id: str) -> str | None:
    try:
        return template_store.load(template_id).name
    except NotFound:
        return None


def entries(query: AuditQuery) -> views.Entries:
    """A page of the entries ``query`` asks for, each with its template's name."""
    page = views.entries(query)
    wanted = {entry.template_id for entry in page.entries if entry.template_id}
    names = {template_id: _template_name(template_id) for template_id in sorted(wanted)}
    for entry in page.entries:
        entry.template_name = names.get(entry.template_id) if entry.template_id else None
    return page

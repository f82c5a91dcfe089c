"""Filing templates with every configured carrier (R19) and the filing poller.

An approved version is filed at once with each carrier the deployment is configured for
(``carrier.configured``: Alibaba always, Tencent when its settings are there), and each
filing is kept in ``carrier_filings[carrier]``: the carrier's template id, the review's state
and reason, its times and, for Tencent, the variable names in position order. The Alibaba
filing is mirrored in the version's ``carrier_*`` fields, which the rest of the platform reads.

The version follows its filings (``models.settled_status``): usable once one carrier approved
it, rejected once every carrier did. ``carriers_for`` names the carriers that may carry it.

The poller (``poll_filings``, every five minutes) files again what a carrier did not take (and
files versions with a carrier configured after they were approved), asks each carrier about
its filings under review, activates carrier-approved versions once their validity begins
(retiring the version they replace) and expires active ones when it ends. Every move is
audited, with no staff member as its actor, at the ``now`` of the approval or of the round.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta

from sms_platform.audit import trail
from sms_platform.carrier.base import Carrier, CarrierTemplate, FilingState, Outcome, TemplateKind
from sms_platform.carrier.configured import ORDER, carrier_named, configured_names
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.errors import Conflict, NotFound
from sms_platform.templates import store
from sms_platform.templates.models import (
    CARRIER_TEMPLATE_TYPES,
    FILING_REFUSED,
    POLLED,
    CarrierFiling,
    TemplateVersion,
    day_of,
    ended,
    moved,
    settled_status,
)

# The approval files its version itself, at once. The poller leaves a version approved less
# than this long ago to that filing: were both to file it, the carrier would hold the text
# twice and the approval would be answered with a conflict.
APPROVAL_FILES_ITSELF = timedelta(minutes=1)

_KINDS = {"system": TemplateKind.CODE, "publicity": TemplateKind.PUBLICITY}

Carriers = Mapping[str, Carrier]


# ---------------------------------------------------------------------------- which carriers


def carriers_for(version: TemplateVersion) -> list[str]:
    """The carriers that may carry messages of ``version``: those that approved its filing,
    first carrier first. Empty for a version no carrier approved."""
    approved = {name for name, f in version.carrier_filings.items() if f.state == "approved"}
    return [name for name in ORDER if name in approved] + sorted(approved - set(ORDER))


def carrier_template(version: TemplateVersion, carrier: str) -> CarrierTemplate:
    """``version`` as ``carrier`` knows it (its id there and positional names) for a send;
    ``ValueError`` when that carrier has not approved it."""
    filing = version.carrier_filings.get(carrier)
    if filing is None or filing.state != "approved" or not filing.template_id:
        raise ValueError(f"template {version.template_id} v{version.version} is not approved at {carrier}")
    return CarrierTemplate(filing.template_id, tuple(filing.placeholders))


def approved_templates(template_id: str, version: int) -> dict[str, CarrierTemplate] | None:
    """Each carrier that approved a template version, with the version as it knows it (what the
    dispatcher routes a batch by); None for a version the platform does not hold."""
    try:
        found = store.load(template_id).numbered(version)
    except NotFound:
        return None
    return {name: carrier_template(found, name) for name in carriers_for(found)}


def _configured(carriers: Carriers | None) -> Carriers:
    if carriers is not None:
        return carriers
    return _Lazy(configured_names())


class _Lazy(Mapping[str, Carrier]):
    """The configured carriers by name, each client made when a call first needs it (a round
    that finds nothing to file or ask makes none)."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self._names = names
        self._made: dict[str, Carrier] = {}

    def __getitem__(self, name: str) -> Carrier:
        if name not in self._names:
            raise KeyError(name)
        if name not in self._made:
            self._made[name] = carrier_named(name)
        return self._made[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


# ---------------------------------------------------------------------------- one carrier


def _file_one(version: TemplateVersion, name: str, carrier: Carrier, now: datetime) -> CarrierFiling:
    """File ``version`` with one carrier: under review with its id, rejected with the carrier's
    reason, or still ``filing`` when the carrier did not take it (the poller tries again)."""
    kind = _KINDS.get(version.category, TemplateKind.NOTICE)
    try:
        answer = carrier.file_template(kind, f"{version.name}-v{version.version}"[:30], version.text, version.remark)
    except ValueError:  # a text the carrier's placeholder form cannot hold (Tencent: a {1} of its own)
        return CarrierFiling(carrier=name, state="rejected", checked_at=now,
                             reason="短信内容含有“{数字}”，该运营商会当作变量，请改写")  # fmt: skip
    if answer.template_id:
        return CarrierFiling(carrier=name, template_id=answer.template_id, state="under_review",
                             placeholders=list(answer.placeholders), filed_at=now)  # fmt: skip
    if answer.result.outcome is Outcome.REJECTED:
        reason = answer.reason or answer.result.message or answer.result.code
        return CarrierFiling(carrier=name, state="rejected", reason=reason, checked_at=now)
    return version.carrier_filings.get(name) or CarrierFiling(carrier=name)


def _ask_one(filing: CarrierFiling, carrier: Carrier, now: datetime) -> CarrierFiling:
    """The carrier's verdict on a filing under review, if it has one."""
    answer = carrier.filing_status(filing.template_id or "")
    if answer.result.outcome is not Outcome.OK or answer.state in (None, FilingState.UNDER_REVIEW):
        return filing
    if answer.state is FilingState.APPROVED:
        return filing.model_copy(update={"state": "approved", "reason": None, "checked_at": now})
    return filing.model_copy(update={"state": "rejected", "reason": answer.reason or "运营商未说明原因",
                                     "checked_at": now})  # fmt: skip


def _alibaba_fields(version: TemplateVersion, filing: CarrierFiling | None) -> dict[str, object]:
    """The Alibaba filing as the version's ``carrier_*`` fields (as they were kept before: a
    refusal of the filing itself reads "报备被拒：...", a rejection after review the reason alone)."""
    if filing is None or filing.state == "filing":
        return {}
    reason = filing.reason if filing.state == "rejected" else None
    if reason is not None and filing.template_id is None:
        reason = f"{FILING_REFUSED}{reason}"
    return {
        "carrier_template_type": CARRIER_TEMPLATE_TYPES[version.category],
        "carrier_code": filing.template_id,
        "filed_at": filing.filed_at,
        "carrier_reason": reason,
        "carrier_checked_at": filing.checked_at,
    }


def _with_filings(version: TemplateVersion, filings: dict[str, CarrierFiling], names: list[str],
                  now: datetime) -> TemplateVersion:  # fmt: skip
    status = settled_status(version.status, (filings[n].state for n in names if n in filings))
    if any(n not in filings for n in names) and status == "carrier_rejected":
        status = version.status  # a configured carrier has not been asked yet
    changes = {"carrier_filings": filings, **_alibaba_fields(version, filings.get("alibaba"))}
    return moved(version, status, now, **changes)


# ---------------------------------------------------------------------------- steps


def _save(before: TemplateVersion, after: TemplateVersion, action: str, now: datetime) -> TemplateVersion:
    store.save_version(before, after)
    trail.record_change(None, action, before, after, at=now)
    return after


def _file(version: TemplateVersion, carriers: Carriers, now: datetime) -> TemplateVersion:
    """File with each configured carrier that has no filing the carrier took."""
    names = list(carriers)
    filings = dict(version.carrier_filings)
    for name in names:
        if name not in filings or filings[name].state == "filing":
            filings[name] = _file_one(version, name, carriers[name], now)
    if filings == version.carrier_filings:
        return version  # nothing taken this time; the poller tries again
    return _save(version, _with_filings(version, filings, names, now), "template.file", now)


def _ask(version: TemplateVersion, carriers: Carriers, now: datetime) -> TemplateVersion:
    """Ask each carrier about its filing under review."""
    names = list(carriers)
    filings = dict(version.carrier_filings)
    for name in names:
        filing = filings.get(name)
        if filing is not None and filing.state == "under_review":
            filings[name] = _ask_one(filing, carriers[name], now)
    if filings == version.carrier_filings:
        return version
    after = _with_filings(version, filings, names, now)
    action = f"template.{after.status}" if after.status != version.status else "template.carrier_review"
    return _save(version, after, action, now)


def file_with_carrier(version: TemplateVersion, carriers: Carriers | None = None, *, now: datetime) -> TemplateVersion:
    """File an approved version with every configured carrier (``carriers``: by name, by
    default the configured ones). A carrier's refusal is kept with its reason; the version is
    ``carrier_rejected`` only when every carrier refused it. A carrier that did not take it
    leaves its filing to the poller (the version stays ``approved`` if none took it)."""
    if version.status != "approved":
        return version
    try:
        return _file(version, _configured(carriers), now)
    except Conflict:
        # Someone else moved the version meanwhile (a poller's round): theirs is the state.
        return store.load(version.template_id).numbered(version.version)


def _activate(version: TemplateVersion, now: datetime) -> TemplateVersion:
    """Make a carrier-approved version the template's active one (its validity has begun);
    the version it replaces is retired."""
    template = store.load(version.template_id)
    after = moved(version, "active", now, activated_at=now)
    replaced = retired = None
    if template.active_version and template.active_version != version.version:
        replaced = template.numbered(template.active_version)
        retired = ended(replaced, "retired", f"已由第 {version.version} 版取代", now)
    template.active_version = version.version
    store.save_activation(version, after, template, retired)
    trail.record_change(None, "template.activate", version, after, at=now)
    if replaced is not None:
        trail.record_change(None, "template.retire", replaced, retired, at=now)
    return after


def _expire(version: TemplateVersion, now: datetime) -> TemplateVersion:
    """End a version whose validity is over; an active one leaves its template with none."""
    after = ended(version, "expired", f"有效期已于 {version.valid_until.isoformat()} 结束", now)
    template = store.load(version.template_id)
    if template.active_version == version.version:
        template.active_version = None
        store.save_version(version, after, template)
    else:
        store.save_version(version, after)
    trail.record_change(None, "template.expire", version, after, at=now)
    return after


def _advance(version: TemplateVersion, now: datetime, carriers: Carriers) -> TemplateVersion:
    day = day_of(now)
    if version.valid_until < day:
        return _expire(version, now)
    if version.status == "approved" and now - version.updated_at < APPROVAL_FILES_ITSELF:
        return version
    version = _file(version, carriers, now)
    version = _ask(version, carriers, now)
    if version.status == "carrier_approved" and version.valid_from <= day:
        return _activate(version, now)
    return version


def poll_filings(carriers: Carriers | None = None, *, now: datetime | None = None) -> dict[str, int]:
    """One round of the filing poller at ``now`` (by default the clock's): file what a carrier
    has not taken, ask the carriers about what is under review, activate what a carrier approved
    once valid, expire what is past its validity. Returns how many versions moved to each status."""
    moves: dict[str, int] = {}
    now = now or get_clock().now()
    carriers = _configured(carriers)
    for status in POLLED:
        for version in store.versions_in(status):
            try:
                after = _advance(version, now, carriers)
            except Conflict:
                continue  # another poller moved it first
            if after.status != version.status:
                moves[after.status] = moves.get(after.status, 0) + 1
    return moves

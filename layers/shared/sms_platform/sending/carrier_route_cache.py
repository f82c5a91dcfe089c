"""What the dispatcher routes by, kept in the container for a few seconds so that a batch costs
no read of its own: a lane's weights and the carriers' states (``carrier_rotation``, read every
``ROUTE_SECONDS``), the carriers that approved a template version (read through the lookup
the dispatch function gives, every ``TEMPLATE_SECONDS``), and the carriers that refused a
request here moments ago (``REFUSAL_SECONDS``). Freshness is by the platform's clock;
a cache made under other settings (a test's fresh moto) is never used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sms_platform.carrier.base import CarrierTemplate
from sms_platform.carrier.configured import ORDER
from sms_platform.foundation.settings import settings
from sms_platform.sending import carrier_rotation
from sms_platform.sending.carrier_routing import CarrierState, RouteSettings

ROUTE_SECONDS = 5  # an operator's change or the health watch's reaches every sender within this
TEMPLATE_SECONDS = 30  # a carrier's approval of a version reaches every sender within this
REFUSAL_SECONDS = 5  # a carrier that refused a request comes last in routes for this long

_ROUTE_SPAN = timedelta(seconds=ROUTE_SECONDS)
_TEMPLATE_SPAN = timedelta(seconds=TEMPLATE_SECONDS)
_REFUSAL_SPAN = timedelta(seconds=REFUSAL_SECONDS)

TemplateLookup = Callable[[str, int], Mapping[str, CarrierTemplate] | None]

# key -> (the settings object it was read under, read at, value)
_routes: dict[str, tuple[Any, datetime, RouteSettings]] = {}
_templates: dict[tuple[str, int], tuple[Any, datetime, Mapping[str, CarrierTemplate] | None]] = {}
_refusals: dict[str, tuple[Any, datetime]] = {}


def forget() -> None:
    """Read everything again on next use."""
    _routes.clear()
    _templates.clear()
    _refusals.clear()


def _fresh(cached: tuple[Any, datetime, Any] | None, now: datetime, span: timedelta) -> bool:
    if cached is None or cached[0] is not settings():
        return False
    return cached[1] <= now < cached[1] + span


def route_settings(lane: str, *, now: datetime) -> RouteSettings:
    """The lane's weights and the carriers' states as of at most ``ROUTE_SECONDS`` ago."""
    cached = _routes.get(lane)
    if cached is not None and _fresh(cached, now, _ROUTE_SPAN):
        return cached[2]
    weights = carrier_rotation.lane_weights(lane).weights
    states = {
        name: CarrierState(found.state, found.until, found.reason)
        for name, found in carrier_rotation.carrier_states(ORDER).items()
    }
    read = RouteSettings(dict(weights), states)
    _routes[lane] = (settings(), now, read)
    return read


def approved_templates(
    lookup: TemplateLookup, template_id: str, version: int, *, now: datetime
) -> Mapping[str, CarrierTemplate] | None:
    """``lookup``'s answer for a template version (each carrier that approved it, with the
    version as that carrier knows it; None for a version it does not know), as of at most
    ``TEMPLATE_SECONDS`` ago."""
    key = (template_id, version)
    cached = _templates.get(key)
    if cached is not None and _fresh(cached, now, _TEMPLATE_SPAN):
        return cached[2]
    found = lookup(template_id, version)
    _templates[key] = (settings(), now, found)
    return found


def note_refusal(carrier: str, *, now: datetime) -> None:
    """``carrier`` refused a request now (it did not take it: no connection, 5xx, throttling)."""
    _refusals[carrier] = (settings(), now)


def refusing(*, now: datetime) -> set[str]:
    """The carriers that refused a request in this container in the last ``REFUSAL_SECONDS``."""
    if not _refusals:  # the usual case, asked for every batch
        return set()
    return {name for name, noted in _refusals.items() if _fresh((*noted, None), now, _REFUSAL_SPAN)}

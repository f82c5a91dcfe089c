"""What one dispatch counts for its metrics, flushed once at the end of its invocation."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from aws_lambda_powertools.metrics import MetricUnit

from sms_platform.foundation.observability import metrics


@dataclass
class Tally:
    """Counts for the EMF metrics, by (metric, kind, office)."""

    counts: Counter = field(default_factory=Counter)

    def add(self, metric: str, kind: str, office: str, value: int = 1) -> None:
        if value:
            self.counts[(metric, str(kind), office)] += value

    def get(self, metric: str) -> int:
        return sum(v for (m, _, _), v in self.counts.items() if m == metric)

    def emit(self) -> None:
        """One EMF document per (kind, office), each holding that group's counts, through the
        process's Metrics (``observability.metrics()``). A document's dimensions hold for all
        its metrics, so each group is flushed on its own; the template's metric filters read
        ``sent`` and ``failed`` from these documents."""
        if not self.counts:
            return
        groups: dict[tuple[str, str], dict[str, int]] = {}
        for (metric, kind, office), value in self.counts.items():
            groups.setdefault((kind, office), {})[metric] = value
        shared = metrics()
        for (kind, office), values in groups.items():
            shared.add_dimension(name="kind", value=kind)
            shared.add_dimension(name="office", value=office)
            for metric, value in values.items():
                shared.add_metric(name=metric, unit=MetricUnit.Count, value=value)
            shared.flush_metrics()
        self.counts.clear()

"""The template's schedules, fired against the platform's clock.

``rate(n unit)`` and ``cron(minutes hours day-of-month month day-of-week year)`` as EventBridge
writes them. A cron is evaluated with croniter after translating AWS's dialect (``?`` for
"any", days of the week numbered 1-7 from Sunday, a year field); EventBridge rules run in UTC,
Scheduler schedules in their ``ScheduleExpressionTimezone``. Times come from the platform's
clock, so a platform started with ``PLATFORM_CLOCK`` at 08:59 fires a 09:00 schedule a minute
later.

A few schedules run far more often here than in AWS (``LOCAL_EVERY_SECONDS``): the carrier
simulator decides a filed template within seconds, where the real carrier's people take hours,
so a person trying the platform locally should not wait five minutes for the filing poller to
ask; and a send approved to go at once goes within seconds, not at the next minute's release.
AWS keeps the template's own rate. A run of such a schedule that did nothing is not logged.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from infra.local import logs
from infra.template_model import Schedule, TemplateModel

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}

# Functions whose schedules fire every so many seconds of the platform's clock locally.
LOCAL_EVERY_SECONDS: dict[str, int] = {"TemplateFilingFunction": 2, "ReleaseFunction": 5}


def _aws_weekday(field: str) -> str:
    """AWS numbers days 1 (Sunday) to 7; croniter 0 (Sunday) to 6. Names are the same."""
    return re.sub(r"(?<![#/\d])([1-7])(?!\d)", lambda m: str(int(m.group(1)) - 1), field)


def to_croniter(expression: str) -> str:
    """An AWS ``cron(...)`` as croniter's seven-field form (seconds fixed at 0, then year)."""
    found = _CRON.match(expression.strip())
    if not found:
        raise ValueError(f"not a cron expression: {expression!r}")
    fields = found.group(1).split()
    if len(fields) != 6:
        raise ValueError(f"an AWS cron has six fields: {expression!r}")
    minutes, hours, day, month, weekday, year = fields
    if (day == "?") == (weekday == "?"):
        raise ValueError(f"exactly one of day-of-month and day-of-week must be '?': {expression!r}")
    day = "*" if day == "?" else day
    weekday = "*" if weekday == "?" else _aws_weekday(weekday)
    return f"{minutes} {hours} {day} {month} {weekday} 0 {year}"


def next_fire(expression: str, after: datetime, *, started: datetime, zone: str = "UTC") -> datetime | None:
    """The first firing strictly after ``after`` (timezone-aware), in UTC; None when there is none.

    A rate counts from when the schedule started; a cron follows the wall clock of ``zone``;
    a one-time ``at(...)`` is read in ``zone`` too.
    """
    text = expression.strip()
    rate = _RATE.match(text)
    if rate:
        period = int(rate.group(1)) * _UNITS[rate.group(2).rstrip("s")]
        if period <= 0:
            raise ValueError(f"a rate must be positive: {expression!r}")
        return every(period, after, started=started)
    if text.startswith("at("):
        moment = datetime.fromisoformat(text[3:-1]).replace(tzinfo=ZoneInfo(zone))
        return moment.astimezone(UTC) if moment > after else None
    from croniter import croniter

    local = after.astimezone(ZoneInfo(zone))
    return croniter(to_croniter(text), local).get_next(datetime).astimezone(UTC)


def every(period: float, after: datetime, *, started: datetime) -> datetime:
    """The first of the instants ``started + n * period`` (n >= 1) strictly after ``after``, in UTC."""
    elapsed = (after - started).total_seconds()
    periods = int(elapsed // period) + 1 if elapsed >= 0 else 1
    return (started + timedelta(seconds=periods * period)).astimezone(UTC)


def did_nothing(result: Any) -> bool:
    """Whether a scheduled run's answer reports nothing done (``{"moved": {}}``, ``{"sent": 0}``)."""
    return isinstance(result, dict) and not any(result.values())


def schedule_event(rule_arn: str, at: datetime, region: str) -> dict[str, Any]:
    """The event an EventBridge scheduled rule delivers."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


def scheduler_input(template: str | None, schedule_arn: str, at: datetime) -> Any:
    """What an EventBridge Scheduler schedule delivers: its input with the context attributes
    filled in, or an empty object."""
    if not template:
        return {}
    text = (
        template.replace("<aws.scheduler.schedule-arn>", schedule_arn)
        .replace("<aws.scheduler.scheduled-time>", at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        .replace("<aws.scheduler.execution-id>", str(uuid.uuid4()))
        .replace("<aws.scheduler.attempt-number>", "1")
    )
    try:
        return json.loads(text)
    except ValueError:
        return text


@dataclass
class Planned:
    schedule: Schedule
    zone: str
    scheduler: bool  # an AWS::Scheduler::Schedule rather than an AWS::Events::Rule
    arn: str
    next_at: datetime | None
    local_every: int | None = None  # seconds, where the local platform fires it more often
    running: threading.Thread | None = None  # its last firing


class Scheduler:
    """Fires each schedule of the template at its time, one thread for all of them."""

    def __init__(
        self,
        model: TemplateModel,
        functions: Any,
        clock: Any,
        region: str,
        stage: str,
        local_every: dict[str, int] | None = None,
    ) -> None:
        self.functions = functions
        self.clock = clock
        self.region = region
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._pools: dict[str, Any] = {}
        self._fired: list[threading.Thread] = []
        now = clock.now()
        self.planned: list[Planned] = []
        for schedule in model.schedules:
            props = model.resources.get(schedule.logical_id, {}).get("Properties", {})
            is_scheduler = model.resources.get(schedule.logical_id, {}).get("Type") == "AWS::Scheduler::Schedule"
            zone = props.get("ScheduleExpressionTimezone", "UTC") if is_scheduler else "UTC"
            service, kind = ("scheduler", "schedule/default") if is_scheduler else ("events", "rule")
            arn = f"arn:aws:{service}:{region}:123456789012:{kind}/{schedule.logical_id}"
            plan = Planned(schedule, zone if isinstance(zone, str) else "UTC", is_scheduler, arn, None)
            plan.local_every = (LOCAL_EVERY_SECONDS if local_every is None else local_every).get(schedule.function)
            plan.next_at = self._next(plan, now, now)
            self.planned.append(plan)
        self._started = now

    @staticmethod
    def _next(plan: Planned, after: datetime, started: datetime) -> datetime | None:
        if plan.local_every:
            return every(plan.local_every, after, started=started)
        try:
            return next_fire(plan.schedule.expression, after, started=started, zone=plan.zone)
        except (ValueError, KeyError) as error:
            logs.emit("schedule_invalid", "ERROR", schedule=plan.schedule.logical_id, error=str(error))
            return None

    def start(self) -> None:
        for plan in self.planned:
            logs.emit(
                "schedule",
                schedule=plan.schedule.logical_id,
                function=plan.schedule.function,
                expression=plan.schedule.expression,
                locally_every_seconds=plan.local_every,
                next=plan.next_at.isoformat() if plan.next_at else None,
            )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)
        for thread in self._fired:
            thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            now = self.clock.now()
            for plan in self.planned:
                if plan.next_at is not None and plan.next_at <= now:
                    self._fire(plan, plan.next_at)
                    plan.next_at = self._next(plan, now, self._started)

    def _fire(self, plan: Planned, at: datetime) -> None:
        if plan.local_every and plan.running is not None and plan.running.is_alive():
            return  # the last round is still at work: another would only queue behind it
        if plan.scheduler:
            event = scheduler_input(plan.schedule.input, plan.arn, at)
        elif plan.schedule.input:
            event = json.loads(plan.schedule.input)
        else:
            event = schedule_event(plan.arn, at, self.region)
        function = plan.schedule.function
        if function not in self._pools:
            self._pools[function] = self.functions.pool(function, 1)
        thread = threading.Thread(target=self._invoke, args=(plan, function, event), daemon=True)
        self._fired = [t for t in self._fired if t.is_alive()] + [thread]
        plan.running = thread
        thread.start()

    def _invoke(self, plan: Planned, function: str, event: Any) -> None:
        from infra.local.lambdas import InvocationError

        try:
            invocation = self._pools[function].invoke(event)
            if not (plan.local_every and did_nothing(invocation.result)):
                logs.emit("scheduled", schedule=plan.schedule.logical_id, duration_ms=invocation.duration_ms)
        except InvocationError as error:
            logs.emit("scheduled_failed", "ERROR", schedule=plan.schedule.logical_id, error=error.error_type)

"""Many conditional writes in few DynamoDB calls, each group standing or falling on its own.

A group is the writes that must happen together for one message (for example its counter
reservations and its ``queued → sending`` move). Groups are packed into ``TransactWriteItems``
calls of up to 100 actions. DynamoDB cancels a whole transaction when one condition fails, and
says which one in its cancellation reasons: that group is refused (one recipient already sent
cannot block the others) and the rest are written again without it. Groups cancelled for another
reason (a conflict with a concurrent transaction) are tried again, finally each on its own; those
still not written are returned as such, so the caller can leave them for a later attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

MAX_ACTIONS = 100  # DynamoDB's limit per TransactWriteItems call
ROUNDS = 3  # the last round writes each group alone
_REFUSED = "ConditionalCheckFailed"


@dataclass(frozen=True)
class Refusal:
    """Why a group was not written: each of its actions that found its condition false (by index
    in the group), with that item as it was when the action asked for it, else None."""

    failed: dict[int, dict[str, Any] | None]

    @property
    def action(self) -> int:
        """The first action that found its condition false."""
        return min(self.failed)

    @property
    def item(self) -> dict[str, Any] | None:
        return self.failed[self.action]


@dataclass
class Outcome:
    refused: dict[int, Refusal] = field(default_factory=dict)  # by group index
    unwritten: list[int] = field(default_factory=list)  # neither written nor refused


def _packs(indexes: list[int], groups: Sequence[Sequence[dict[str, Any]]], alone: bool) -> list[list[int]]:
    """``indexes`` cut into runs whose writes fit one transaction, in order (each alone when
    ``alone``)."""
    if alone:
        return [[index] for index in indexes]
    sizes = list(map(len, map(groups.__getitem__, indexes)))
    if not sizes:
        return []
    largest = max(sizes)
    if largest > MAX_ACTIONS:
        raise ValueError(f"a group of {largest} writes does not fit one transaction")
    if sizes.count(largest) == len(sizes):  # groups alike (a batch's messages): plain slices
        step = MAX_ACTIONS // max(largest, 1)
        return [indexes[start : start + step] for start in range(0, len(indexes), step)]
    packs: list[list[int]] = []
    pack: list[int] = []
    size = 0
    for index, length in zip(indexes, sizes, strict=True):
        if pack and size + length > MAX_ACTIONS:
            packs.append(pack)
            pack, size = [], 0
        pack.append(index)
        size += length
    packs.append(pack)
    return packs


def _cancelled_reasons(error: Exception) -> list[dict[str, Any]] | None:
    response = getattr(error, "response", None) or {}
    if response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return None
    return list(response.get("CancellationReasons") or [])


def _plain(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """Cancellation reasons carry raw attribute values (``{"S": ...}``): make them plain."""
    if not item:
        return None
    # deferred: this imports boto3 (~17 ms), which the authorizer's cold import leaves to first use
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {name: deserializer.deserialize(value) for name, value in item.items()}


def _refusal(reasons: list[dict[str, Any]]) -> Refusal | None:
    """The refusal of a group from its actions' cancellation reasons; None if none of its
    conditions failed (the transaction was cancelled for another group, or a conflict)."""
    failed = {n: _plain(r.get("Item")) for n, r in enumerate(reasons) if r.get("Code") == _REFUSED}
    return Refusal(failed) if failed else None


def write_groups(client: Any, groups: Sequence[Sequence[dict[str, Any]]], *, rounds: int = ROUNDS) -> Outcome:
    """Write every group that can be written; report the refused and the unwritten ones.

    ``client`` is a DynamoDB client taking the actions as they are (typed values for the
    low-level client). No two groups may name the same item (DynamoDB refuses such a
    transaction outright).
    """
    outcome = Outcome()
    pending = list(range(len(groups)))
    for round_number in range(rounds):
        again: list[int] = []
        for pack in _packs(pending, groups, alone=round_number == rounds - 1):
            try:
                client.transact_write_items(TransactItems=list(chain.from_iterable(map(groups.__getitem__, pack))))
            except Exception as error:
                reasons = _cancelled_reasons(error)
                if reasons is None:
                    raise
                offset = 0
                for index in pack:
                    size = len(groups[index])
                    refusal = _refusal(reasons[offset : offset + size])
                    offset += size
                    if refusal is None:
                        again.append(index)
                    else:
                        outcome.refused[index] = refusal
        if not again:
            return outcome
        pending = again
    outcome.unwritten = pending
    return outcome


def write_runs(client: Any, actions: list[dict[str, Any]], run: int = 1) -> Outcome:
    """``write_groups`` for groups of one size given as one flat list: each ``run`` consecutive
    actions are a group (group ``g`` is ``actions[g * run : (g + 1) * run]``).

    A batch's messages make such groups. The list is cut straight into transactions, with
    nothing to gather first; the groups of a cancelled transaction are sorted out as
    ``write_groups`` does, and its other rounds are left to it.
    """
    if not 1 <= run <= MAX_ACTIONS:
        raise ValueError(f"a group of {run} writes does not fit one transaction")
    if len(actions) % run:
        raise ValueError("the actions are not whole groups")
    outcome, again = Outcome(), []
    step = MAX_ACTIONS // run * run
    for start in range(0, len(actions), step):
        pack = actions[start : start + step]
        try:
            client.transact_write_items(TransactItems=pack)
        except Exception as error:
            reasons = _cancelled_reasons(error)
            if reasons is None:
                raise
            for offset in range(0, len(pack), run):
                refusal = _refusal(reasons[offset : offset + run])
                if refusal is None:
                    again.append((start + offset) // run)
                else:
                    outcome.refused[(start + offset) // run] = refusal
    if again:
        rest = write_groups(client, [actions[g * run : (g + 1) * run] for g in again], rounds=ROUNDS - 1)
        outcome.refused.update({again[index]: refusal for index, refusal in rest.refused.items()})
        outcome.unwritten = [again[index] for index in rest.unwritten]
    return outcome

"""Packing many conditional writes into transactions: a refused group never blocks the others."""

from __future__ import annotations

import pytest
from sms_platform.aws import transactions


class CancelledError(Exception):
    """Shaped like botocore's ClientError for a cancelled transaction."""

    def __init__(self, reasons: list[dict]) -> None:
        super().__init__("TransactionCanceledException")
        self.response = {"Error": {"Code": "TransactionCanceledException"}, "CancellationReasons": reasons}


class FakeClient:
    """Cancels a transaction holding any action named in ``refuse`` (condition false) or, for its
    first ``conflicts`` calls, holding any action named in ``conflicted``; records each call."""

    def __init__(self, refuse=(), conflicted=(), conflicts=0):
        self.refuse, self.conflicted, self.conflicts = set(refuse), set(conflicted), conflicts
        self.calls: list[list[str]] = []
        self.written: list[str] = []

    def transact_write_items(self, TransactItems):  # noqa: N803 - boto3's name
        names = [action["Put"]["Item"]["pk"]["S"] for action in TransactItems]
        self.calls.append(names)
        reasons = []
        for name in names:
            if name in self.refuse:
                reasons.append({"Code": "ConditionalCheckFailed", "Item": {"pk": {"S": name}, "state": {"S": "sent"}}})
            elif name in self.conflicted and self.conflicts:
                reasons.append({"Code": "TransactionConflict"})
            else:
                reasons.append({"Code": "None"})
        if any(r["Code"] != "None" for r in reasons):
            if any(r["Code"] == "TransactionConflict" for r in reasons):
                self.conflicts -= 1
            raise CancelledError(reasons)
        self.written.extend(names)
        return {}


def put(name: str) -> dict:
    return {"Put": {"TableName": "t", "Item": {"pk": {"S": name}}}}


def groups_of(sizes: list[int]) -> list[list[dict]]:
    return [[put(f"g{g}a{a}") for a in range(size)] for g, size in enumerate(sizes)]


@pytest.mark.parametrize(
    ("sizes", "calls"),
    [([1] * 100, [100]), ([1] * 250, [100, 100, 50]), ([3] * 40, [99, 21]), ([60, 50], [60, 50]), ([], [])],
)
def test_groups_are_packed_into_transactions_of_at_most_a_hundred_writes(sizes, calls):
    client = FakeClient()
    outcome = transactions.write_groups(client, groups_of(sizes))
    assert [len(c) for c in client.calls] == calls
    assert outcome.refused == {} and outcome.unwritten == []
    assert len(client.written) == sum(sizes)


@pytest.mark.parametrize(
    ("sizes", "refuse", "refused"),
    [
        ([1, 1, 1], {"g1a0"}, {1: 0}),  # one message already sent: the others are written
        ([3, 3, 3], {"g0a1", "g2a2"}, {0: 1, 2: 2}),  # the first failing write of each group
        ([2, 2], {"g0a0", "g0a1"}, {0: 0}),
        ([3, 1], {"g0a0", "g0a2"}, {0: 0}),
    ],
)
def test_a_refused_group_is_reported_and_the_others_are_written(sizes, refuse, refused):
    client = FakeClient(refuse=refuse)
    outcome = transactions.write_groups(client, groups_of(sizes))
    assert {index: r.action for index, r in outcome.refused.items()} == refused
    assert {index: sorted(r.failed) for index, r in outcome.refused.items()} == {
        g: sorted(a for a in range(sizes[g]) if f"g{g}a{a}" in refuse) for g in refused
    }  # every failing write of the group, the first one first
    assert all(r.item == {"pk": r.item["pk"], "state": "sent"} for r in outcome.refused.values())  # plain values
    kept = [g for g in range(len(sizes)) if g not in refused]
    assert sorted(client.written) == sorted(f"g{g}a{a}" for g in kept for a in range(sizes[g]))
    assert outcome.unwritten == []


@pytest.mark.parametrize(("conflicts", "unwritten"), [(1, []), (2, []), (3, [0])])
def test_conflicts_are_tried_again_finally_one_group_at_a_time_then_left_unwritten(conflicts, unwritten):
    client = FakeClient(conflicted={"g0a0"}, conflicts=conflicts)
    outcome = transactions.write_groups(client, groups_of([1, 1, 1]))
    assert outcome.unwritten == unwritten and outcome.refused == {}
    assert {"g1a0", "g2a0"} <= set(client.written)
    assert ("g0a0" in client.written) is (not unwritten)


def test_other_errors_are_raised():
    class Broken:
        def transact_write_items(self, TransactItems):  # noqa: N803
            raise RuntimeError("network down")

    with pytest.raises(RuntimeError):
        transactions.write_groups(Broken(), groups_of([1]))


def test_a_group_too_big_for_one_transaction_is_refused_before_any_write():
    client = FakeClient()
    with pytest.raises(ValueError):
        transactions.write_groups(client, groups_of([101]))
    assert client.calls == []


def alone(count: int) -> list[dict]:
    return [put(f"g{g}a0") for g in range(count)]


def flat(groups: int, run: int) -> list[dict]:
    return [put(f"g{g}a{a}") for g in range(groups) for a in range(run)]


@pytest.mark.parametrize(
    ("actions", "run", "refuse", "conflicts", "calls", "refused"),
    [
        (alone(250), 1, set(), 0, [100, 100, 50], {}),  # cut straight into transactions
        (alone(150), 1, {"g120a0"}, 0, [100, 50, 49], {120: 0}),  # the cancelled pack again, without the refused
        (alone(3), 1, set(), 2, [3, 3, 1, 1, 1], {}),  # conflicts: tried again, the last time one by one
        (flat(60, 2), 2, {"g10a1"}, 0, [100, 20, 98], {10: 1}),  # whole groups to a transaction
        (flat(40, 3), 3, {"g5a0", "g5a2"}, 0, [99, 21, 96], {5: 0}),
    ],
)
def test_groups_given_flat_are_packed_whole_and_report_as_groups_do(actions, run, refuse, conflicts, calls, refused):
    client = FakeClient(refuse=refuse, conflicted={"g1a0"}, conflicts=conflicts)
    outcome = transactions.write_runs(client, actions, run)
    assert [len(c) for c in client.calls] == calls
    assert {index: r.action for index, r in outcome.refused.items()} == refused
    groups = {name[: name.index("a")] for name in refuse}
    assert sorted(client.written) == sorted(
        a["Put"]["Item"]["pk"]["S"] for a in actions if a["Put"]["Item"]["pk"]["S"].split("a")[0] not in groups
    )
    assert outcome.unwritten == []


def test_a_group_given_flat_still_in_conflict_after_every_round_is_left_unwritten():
    client = FakeClient(conflicted={"g1a0"}, conflicts=3)
    outcome = transactions.write_runs(client, alone(3))
    assert outcome.unwritten == [1] and outcome.refused == {}
    assert sorted(client.written) == ["g0a0", "g2a0"]


@pytest.mark.parametrize(("count", "run"), [(3, 2), (101, 101), (0, 0)])
def test_actions_that_are_not_whole_groups_that_fit_are_refused_before_any_write(count, run):
    client = FakeClient()
    with pytest.raises(ValueError):
        transactions.write_runs(client, alone(count), run)
    assert client.calls == []

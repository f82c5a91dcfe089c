"""What each patch buys, measured on this machine: ``python -m infra.patches.measure [patch ...]``.

Each figure comes from two fresh interpreters doing the same work, one without any patch and
one with only the patch measured (installed directly, whatever ``PLATFORM_MOTO_PATCHES`` says),
so one patch's figure never includes another's:

- ``transactions``: a transaction of two updates on a table of 3,000 items (moto in process);
- ``serializer``: a ``BatchGetItem`` of 100 items of eight attributes (moto in process);
- ``botocore_loader``: a DynamoDB client made in a new session, after the first;
- ``frozen_state``: a full garbage collection with 10,000 items in moto (in process);
- ``switch_interval``, ``urgent_first``: a ``GetItem`` marked urgent, every 50 ms for 15 s,
  to moto's server in a process of its own (a table of 2,000 items) while three processes at
  the lowest OS priority, as the bulk lane's, keep it busy with scans and writes of 25 items
  (the mark is ``urgent_calls``'s header).

Figures are the median and the 90th percentile, in milliseconds. Those of calls contending
for moto's server move by a few tens of percent from one run to the next on a busy machine.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

REGION = "us-east-1"
LOAD_PROCESSES = 3
KEY_SCHEMA = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
ATTRIBUTES = [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}]


def _item(n: int) -> dict[str, Any]:
    return {
        "pk": {"S": f"msg#{n // 10}"},
        "sk": {"S": f"r#{n % 10:02d}"},
        "state": {"S": "queued"},
        "attempts": {"N": str(n % 3)},
        "phone": {"B": os.urandom(24)},
        "tags": {"SS": ["bulk", "publicity"]},
        "meta": {"M": {"source": {"S": "pub-1"}, "lane": {"S": "bulk"}}},
        "sent_at": {"NULL": True},
    }


def _fill(client: Any, table: str, count: int) -> None:
    client.create_table(
        TableName=table, KeySchema=KEY_SCHEMA, AttributeDefinitions=ATTRIBUTES, BillingMode="PAY_PER_REQUEST"
    )
    for start in range(0, count, 25):
        requests = [{"PutRequest": {"Item": _item(n)}} for n in range(start, min(start + 25, count))]
        client.batch_write_item(RequestItems={table: requests})


def _timed(work: Callable[[], Any], times: int) -> list[float]:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        work()
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def _in_process_moto(work: Callable[[Any], list[float]]) -> list[float]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        return work(boto3.client("dynamodb", region_name=REGION))


def _transactions() -> list[float]:
    def work(client: Any) -> list[float]:
        _fill(client, "t", 3_000)
        update = {"TableName": "t", "UpdateExpression": "ADD attempts :one"}
        values = {":one": {"N": "1"}}

        def transaction() -> None:
            keys = [{"pk": {"S": f"msg#{n}"}, "sk": {"S": "r#01"}} for n in (7, 8)]
            items = [{"Update": {**update, "Key": key, "ExpressionAttributeValues": values}} for key in keys]
            client.transact_write_items(TransactItems=items)

        return _timed(transaction, 10)

    return _in_process_moto(work)


def _serializer() -> list[float]:
    def work(client: Any) -> list[float]:
        _fill(client, "t", 100)
        keys = [{"pk": {"S": f"msg#{n // 10}"}, "sk": {"S": f"r#{n % 10:02d}"}} for n in range(100)]
        return _timed(lambda: client.batch_get_item(RequestItems={"t": {"Keys": keys}}), 30)

    return _in_process_moto(work)


def _botocore_loader() -> list[float]:
    import boto3

    boto3.session.Session(region_name=REGION).client("dynamodb")  # the first reads the files anyway
    return _timed(lambda: boto3.session.Session(region_name=REGION).client("dynamodb"), 15)


def _frozen_state() -> list[float]:
    def work(client: Any) -> list[float]:
        _fill(client, "t", 10_000)
        gc.collect()  # with the patch, what survives is frozen right after
        deadline = time.monotonic() + 5
        while "frozen_state" in _patches_wanted() and not gc.get_freeze_count() and time.monotonic() < deadline:
            time.sleep(0.01)
        return _timed(gc.collect, 5)

    return _in_process_moto(work)


def _contended() -> list[float]:
    """Urgent GetItems while three background processes keep moto's server busy."""
    import boto3

    server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "infra.patches.measure", "--serve", *_patches_wanted()],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = server.stdout.readline().strip()  # type: ignore[union-attr]
        fake = {"AWS_ACCESS_KEY_ID": "measure", "AWS_SECRET_ACCESS_KEY": "measure"}  # moto takes any
        os.environ.update(fake, AWS_ENDPOINT_URL=url)
        client = boto3.client("dynamodb", region_name=REGION)
        _fill(client, "t", 2_000)
        load = [
            subprocess.Popen([sys.executable, "-m", "infra.patches.measure", "--load"])  # noqa: S603
            for _ in range(LOAD_PROCESSES)
        ]
        client.meta.events.register("before-send", _urgent)
        time.sleep(2)  # the load under way
        spent = []
        until = time.monotonic() + 15
        while time.monotonic() < until:
            started = time.perf_counter()
            client.get_item(TableName="t", Key={"pk": {"S": "msg#7"}, "sk": {"S": "r#01"}})
            spent.append((time.perf_counter() - started) * 1000)
            time.sleep(0.05)
        for process in load:
            process.terminate()
            process.wait()
        return spent
    finally:
        server.terminate()
        server.wait()


def _urgent(request: Any, **_: Any) -> None:
    from infra.patches.urgent_calls import HEADER, URGENT

    request.headers[HEADER] = URGENT


def _load() -> None:
    """A bulk lane's environment at the lowest OS priority, keeping moto busy: a scan through
    every item for the few that match (moto's work, little of the caller's), and writes of 25 over
    items already there."""
    import boto3

    os.nice(19)
    client = boto3.client("dynamodb", region_name=REGION)
    n = 0
    while True:
        client.scan(
            TableName="t",
            FilterExpression="attempts = :a AND #s = :s",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={":a": {"N": "1"}, ":s": {"S": "sent"}},
        )
        items = [{"PutRequest": {"Item": _item((n % 80) * 25 + i)}} for i in range(25)]  # the same 2,000
        client.batch_write_item(RequestItems={"t": items})
        n += 1


def _serve(names: list[str]) -> None:
    """moto's server as ``infra/local/moto_process.py`` serves it, with only ``names`` patched."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    app: Any = DomainDispatcherApplication(create_backend_app)
    for name in names:
        patch = importlib.import_module(f"infra.patches.{name}")
        patch.apply()
        if name == "urgent_first":
            app = patch.serve(app)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


WORKLOADS: dict[str, Callable[[], list[float]]] = {
    "transactions": _transactions,
    "serializer": _serializer,
    "botocore_loader": _botocore_loader,
    "frozen_state": _frozen_state,
    "switch_interval": _contended,
    "urgent_first": _contended,
}


def _patches_wanted() -> list[str]:
    return [name for name in os.environ.get("MEASURE_PATCHES", "").split(",") if name]


def _run(patch: str) -> None:
    """One interpreter's figures, as JSON on standard output."""
    wanted = _patches_wanted()
    if WORKLOADS[patch] is not _contended:
        for name in wanted:
            importlib.import_module(f"infra.patches.{name}").apply()
    spent = WORKLOADS[patch]()
    quantiles = statistics.quantiles(spent, n=10)
    print(json.dumps({"median": statistics.median(spent), "p90": quantiles[-1], "calls": len(spent)}))


def measure(patch: str) -> dict[str, dict[str, float]]:
    figures = {}
    for variant, wanted in (("without", ""), ("with", patch)):
        env = {**os.environ, "MEASURE_PATCHES": wanted}
        for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
            env.pop(name, None)
        answer = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "infra.patches.measure", "--run", patch],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        figures[variant] = json.loads(answer.stdout.strip().splitlines()[-1])
    return figures


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("patches", nargs="*", help=f"among {', '.join(WORKLOADS)} (default: all)")
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--load", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _serve(args.patches)
        return 0
    if args.load:
        _load()
        return 0
    if args.run:
        _run(args.run)
        return 0
    for patch in args.patches or list(WORKLOADS):
        if patch not in WORKLOADS:
            parser.error(f"no measurement of {patch!r}")
        figures = measure(patch)
        line = ", ".join(
            f"{variant} {f['median']:.2f} ms (p90 {f['p90']:.2f} ms, {f['calls']} calls)"
            for variant, f in figures.items()
        )
        print(f"{patch}: {line}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

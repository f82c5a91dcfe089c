"""The whole platform on one machine: ``make run`` / ``python -m infra.local``.

Starts moto's server, creates what ``template.yaml`` declares, fills the secrets and API keys,
seeds the first permission administrator, starts the carrier simulators (Alibaba and Tencent,
unless CARRIER_ENDPOINT or TENCENT_SMS_ENDPOINT name real ones), serves the API and the
portal, polls the queues, routes EventBridge events and fires the schedules. Ctrl-C (SIGINT)
or SIGTERM stops everything in the reverse order and leaves no process behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from typing import Any

from infra import patches
from infra.local import logs
from infra.local.settings import API_KEY_PLANS, HOST, REGION, STAGE, TEST_KEY_TWINS, Settings, port_is_free
from infra.template_model import ROOT, Function, TemplateModel

# The only variables of the developer's shell a function sees, besides what Lambda sets; the
# patches' switch too, as an environment on the urgent path patches botocore (infra/patches/).
_PASSED_THROUGH = (
    *("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV", "SYSTEMROOT"),
    patches.SWITCH,
)


def aws_environment(settings: Settings) -> dict[str, str]:
    """Fake credentials and moto's endpoint: nothing started by the platform can reach AWS."""
    return {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",  # noqa: S105 - moto accepts any credentials
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": settings.moto_url,
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon locally
    }


class Platform:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stopping = threading.Event()
        self._teardown = contextlib.ExitStack()
        self.model: TemplateModel | None = None
        self.provisioner: Any = None
        self.clock: Any = None
        self.seeded = ""
        self.tencent = ""  # where the platform sends to Tencent: the simulator or TENCENT_SMS_ENDPOINT
        self.api_keys: list[dict[str, Any]] = []  # the development keys: their ids, names and plans

    # ---------------------------------------------------------------- start
    def start(self) -> None:
        settings = self.settings
        for name, port, needed in (
            ("API_PORT", settings.api_port, True),
            ("CARRIER_PORT", settings.carrier_port, settings.carrier_endpoint is None),
            ("TENCENT_PORT", settings.tencent_port, settings.tencent_endpoint is None),
        ):
            if needed and not port_is_free(port):
                raise SystemExit(f"port {port} ({name}) is in use: stop what holds it or set {name}")

        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            os.environ.pop(name, None)
        os.environ.update(aws_environment(settings))

        from sms_platform.foundation.clock import get_clock

        self.clock = get_clock()
        logs.emit("starting", clock=self.clock.now().isoformat(), platform_clock=settings.platform_clock)

        from infra.local.moto_process import MotoServer

        moto = MotoServer(HOST, settings.moto_port)
        moto.start()
        self._teardown.callback(moto.stop)
        self._provision()
        self._seed_admin()
        carrier = self._start_simulator()
        self.tencent = self._start_tencent_simulator()
        self._serve()
        self._poll()
        self._print_banner(carrier)

    def _provision(self) -> None:
        import boto3

        from infra import template_model
        from infra.provision import Provisioner

        self.model = template_model.load()
        session = boto3.Session(region_name=REGION)
        self.provisioner = Provisioner(self.model, session, stage=STAGE, secrets=self.settings.secrets())
        provisioned = self.provisioner.run()
        self.session = session
        apigateway = session.client("apigateway")
        from infra.keys import KIND_TAG

        for env_name, plan in API_KEY_PLANS.items():
            if plan not in provisioned.usage_plans:
                continue
            kind = "test" if env_name in TEST_KEY_TWINS else "live"
            key = apigateway.create_api_key(
                name=f"local-{env_name.lower().replace('_', '-')}", value=self.settings.values[env_name], enabled=True,
                tags={KIND_TAG: kind},
            )  # fmt: skip
            apigateway.create_usage_plan_key(
                usagePlanId=provisioned.usage_plans[plan], keyId=key["id"], keyType="API_KEY"
            )
            self.api_keys.append({"env": env_name, "id": key["id"], "name": key["name"], "plan": plan, "kind": kind})
        # The platform process itself (seeding, the simulator) sees what the functions see.
        os.environ.update(self.function_environment_base())
        from sms_platform.foundation import settings as platform_settings

        platform_settings.reset()  # read once already (the clock): read the functions' variables now
        self._register_test_keys()
        logs.emit(
            "provisioned",
            tables=len(self.model.of_type("AWS::DynamoDB::Table")),
            queues=len(self.model.of_type("AWS::SQS::Queue")),
            functions=len(self.model.functions),
            routes=len(self.model.routes),
        )

    def _register_test_keys(self) -> None:
        """Record each development test key with its live twin, as ``infra.keys issue --kind test``
        does in AWS (audited as IT operations' act)."""
        from sms_platform.sources import caller_keys
        from sms_platform.staff.context import Office, Role, StaffContext

        ids = {key["env"]: key["id"] for key in self.api_keys}
        ops = StaffContext(account_id="ops:local-platform", username="local-platform", real_name="本地平台",
                           staff_number="", office=Office.it, roles=frozenset({Role.it_ops}))  # fmt: skip
        for env_name, twin in TEST_KEY_TWINS.items():
            if env_name in ids and twin in ids:
                caller_keys.register(ops, ids[env_name], kind="test", name=f"local-{env_name.lower()}",
                                     twin=ids[twin], now=self.clock.now())  # fmt: skip
                for key in self.api_keys:
                    if key["env"] == env_name:
                        key["twin"] = ids[twin]

    def function_environment_base(self) -> dict[str, str]:
        env = dict(self.provisioner.out.environment)
        env["CARRIER_ENDPOINT"] = self.settings.carrier_endpoint or self.settings.simulator_url
        env["TENCENT_SMS_ENDPOINT"] = self.settings.tencent_endpoint or self.settings.tencent_simulator_url
        env["TENCENT_SMS_SDK_APP_ID"] = self.settings.values["TENCENT_SMS_SDK_APP_ID"]
        pool = self.provisioner.out.user_pool_id
        if pool:
            # moto serves the pool's signing keys here (server mode); the issuer stays Cognito's.
            env["OIDC_JWKS_URL"] = f"{self.settings.moto_url}/{pool}/.well-known/jwks.json"
        return env

    def function_environment(self, function: Function) -> dict[str, str]:
        """What Lambda would give ``function``: the template's variables (Globals merged in),
        fake credentials pointing at moto, and the platform's clock as it stands now."""
        props = self.model.resources[function.logical_id]["Properties"] if self.model else {}
        variables = props.get("Environment", {}).get("Variables", {})
        env = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
        env.update({name: str(self.provisioner.resolve(value)) for name, value in variables.items()})
        env.update(self.function_environment_base())
        env.update(aws_environment(self.settings))
        if self.settings.platform_clock:
            # The platform's clock as it stands at a wall-clock moment: every environment runs on
            # from there, so all agree however long each takes to start.
            env["PLATFORM_CLOCK_AT"] = repr(time.time())
            env["PLATFORM_CLOCK"] = self.clock.now().isoformat()
        return env

    def _seed_admin(self) -> None:
        values = self.settings.values
        username, password = values["ADMIN_USERNAME"], values["ADMIN_PASSWORD"]
        try:
            from sms_platform.staff.accounts import seed_permission_admin
        except ImportError:
            seed_permission_admin = None
        if seed_permission_admin is not None:
            seed_permission_admin(username, "平台管理员", password)
            how = "account"  # the password is the account's own: no change asked at first sign-in
        else:  # no account records yet: the sign-in identity alone
            idp = self.session.client("cognito-idp")
            idp.admin_create_user(
                UserPoolId=self.provisioner.out.user_pool_id,
                Username=username,
                TemporaryPassword=password,
                MessageAction="SUPPRESS",
            )
            how = "cognito_user_only"  # a temporary password: the first sign-in sets a new one
        self.seeded = how
        logs.emit("seeded_admin", username=username, seeded=how)

    def _start_simulator(self) -> str:
        if self.settings.carrier_endpoint:
            logs.emit("carrier", endpoint=self.settings.carrier_endpoint, simulator=False)
            return self.settings.carrier_endpoint
        from infra.carrier_simulator import CarrierSimulator

        values = self.settings.values
        simulator = CarrierSimulator(
            host=HOST,
            port=self.settings.carrier_port,
            access_keys={values["CARRIER_ACCESS_KEY_ID"]: values["CARRIER_ACCESS_KEY_SECRET"]},
            receipt_url=self.settings.receipt_url(),
            inbound_url=self.settings.inbound_url(),
            receipt_delay=0.5,
            clock=self.clock,
        )
        simulator.start()
        self._teardown.callback(simulator.stop)
        return self.settings.simulator_url

    def _start_tencent_simulator(self) -> str:
        if self.settings.tencent_endpoint:
            logs.emit("tencent", endpoint=self.settings.tencent_endpoint, simulator=False)
            return self.settings.tencent_endpoint
        from infra.tencent_simulator import TencentSimulator

        values = self.settings.values
        simulator = TencentSimulator(
            host=HOST,
            port=self.settings.tencent_port,
            secret_keys={values["TENCENT_SECRET_ID"]: values["TENCENT_SECRET_KEY"]},
            sdk_app_id=values["TENCENT_SMS_SDK_APP_ID"],
            receipt_url=self.settings.tencent_receipt_url(),
            inbound_url=self.settings.tencent_inbound_url(),
            receipt_delay=0.5,
            clock=self.clock,
        )
        simulator.start()
        self._teardown.callback(simulator.stop)
        return self.settings.tencent_simulator_url

    def _serve(self) -> None:
        import logging

        from werkzeug.serving import make_server

        from infra.local.gateway import ApiKeys, Gateway
        from infra.local.lambdas import Functions

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one JSON line per request instead
        self.functions = Functions(self.model.functions, self.function_environment)
        self._teardown.callback(self.functions.close)
        api_keys = ApiKeys(self.session.client("apigateway"), self.provisioner.out.usage_plans.values())
        gateway = Gateway(
            self.model,
            self.functions,
            api_keys,
            region=REGION,
            stage=STAGE,
            portal=ROOT / "portal",
            concurrency=self.settings.api_concurrency,
        )
        server = make_server(HOST, self.settings.api_port, gateway, threaded=True)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, name="api", daemon=True)
        thread.start()

        def stop_server() -> None:
            server.shutdown()
            server.server_close()
            thread.join(5)

        self._teardown.callback(stop_server)

    def _poll(self) -> None:
        from infra.local import priority
        from infra.local.eventbridge import EventRoute
        from infra.local.pollers import Poller
        from infra.local.schedules import Scheduler

        out = self.provisioner.out
        sqs = self.session.client("sqs")
        stoppable: list[Any] = []
        for source in self.model.queue_sources:
            size = self.settings.lane_concurrency
            if source.max_concurrency:  # a capped lane: the template's cap or the machine's, the lower
                size = min(source.max_concurrency, self.settings.bulk_concurrency)
            pool = self.functions.pool(source.function, size, priority.of_queue(source.queue))
            poller = Poller(source, out.physical[source.queue], out.arns[source.queue], pool, sqs, REGION, size)
            stoppable.append(poller)
        events = self.session.client("events")
        for rule in self.model.event_rules:
            stoppable.append(EventRoute(rule, events, sqs, self.functions.pool(rule.function, 2), STAGE))
        stoppable.append(Scheduler(self.model, self.functions, self.clock, REGION, STAGE))

        def stop_all() -> None:
            for item in stoppable:
                item.stop()
            # Invocations still running are ended as when Lambda reclaims an environment (their
            # messages stay queued): moto's state ends with the platform, so waiting for them to
            # finish would only keep Ctrl-C waiting, up to a function's timeout.
            self.functions.close()
            for item in stoppable:
                item.join(35)

        self._teardown.callback(stop_all)
        for item in stoppable:
            item.start()

    def _print_banner(self, carrier: str) -> None:
        settings = self.settings
        out = self.provisioner.out
        defaults = settings.printable_defaults()
        password = defaults.get("ADMIN_PASSWORD", "(ADMIN_PASSWORD from your environment)")
        logs.emit(
            "sign_in",
            portal=f"{settings.api_url}/portal/",
            api=f"POST {settings.api_url}/v1/staff/session",
            username=settings.values["ADMIN_USERNAME"],
            password=password,
            role="permission_admin",
            first_sign_in="sets a new password" if self.seeded == "cognito_user_only" else "password as printed",
        )
        if defaults:
            logs.emit("development_defaults", **{k: v for k, v in defaults.items() if not k.startswith("ADMIN_")})
        # Each key's id is what IT operations grant event types and sources to; its value is
        # shown only where it is a development default.
        keys = [{**key, "value": defaults.get(key["env"])} for key in self.api_keys]
        logs.emit("api_keys", keys=keys)
        ready = {
            "api": settings.api_url,
            "portal": f"{settings.api_url}/portal/",
            "docs": f"{settings.api_url}/v1/docs",
            "carrier": carrier,
            "simulator": settings.carrier_endpoint is None,
            "tencent": self.tencent,
            "tencent_simulator": settings.tencent_endpoint is None,
            "moto": settings.moto_url,
        }
        if logs.human():
            from infra.local import console

            sign_in = {"username": settings.values["ADMIN_USERNAME"], "password": defaults.get("ADMIN_PASSWORD")}
            logs.write(console.summary(ready, sign_in, defaults, keys))
        logs.emit(
            "ready",
            **ready,
            clock=self.clock.now().isoformat(),  # the platform's time as it gets ready, for scripts and tests
            user_pool_id=out.user_pool_id,
            user_pool_client_id=out.user_pool_client_id,
            queues={name: url for name, url in out.physical.items() if name.endswith("Queue")},
            # Names, URLs and ARNs the functions get (no secret values): for scripts and tests.
            environment=self.function_environment_base(),
        )

    # ---------------------------------------------------------------- stop
    def stop(self) -> None:
        logs.emit("stopping")
        self._teardown.close()
        logs.emit("stopped")


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    from infra.local import settings as settings_module

    parser = argparse.ArgumentParser(prog="python -m infra.local", description="the whole platform on this machine")
    parser.add_argument(
        "--json",
        action="store_true",
        help=f"JSON lines for tools, even at a terminal (or {logs.ENVIRONMENT_VARIABLE}=json)",
    )
    arguments = sys.argv[1:] if argv is None else argv
    parser.parse_args(arguments)
    logs.configure(logs.choose_mode(arguments, dict(os.environ), sys.stdout))
    platform = Platform(settings_module.load())

    def request_stop(signum: int, _: Any) -> None:
        platform.stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        platform.start()
    except BaseException as error:
        logs.emit("start_failed", "ERROR", error=type(error).__name__, message=str(error))
        platform.stop()
        return 1
    while not platform.stopping.wait(0.5):
        pass
    platform.stop()
    return 0

"""Journey steps and fallback drills against real partners: they take their node's ``tls``
(mTLS) and ``proxy`` (tinyproxy), back off as a throttling target asks (``Retry-After``) and
record the peer certificate's expiry (certificates with known dates), as probes do. Specs are
loaded from YAML; runs go through the real HTTP prober into a real store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.journeys.pipeline import JourneyPipeline, journey_jobs_of
from agent.journeys.runner import JourneyRunner
from agent.model import SpecSet
from agent.probes import Probers
from agent.probes.http import HttpProber
from agent.probes.result import Reason
from agent.runtime.drills import DrillPipeline, drill_jobs_of
from agent.slo.certificates import certificate_statuses
from agent.spec.loader import load_specs
from agent.store.sqlite import SqliteStore
from exporters.prometheus.rules.certificates import certificate_rules
from exporters.prometheus.rules.groups import rule_set
from tests.spec.helpers import write
from tests.support.certificates import Authority
from tests.support.fakes import RecordingTelemetry
from tests.support.mtls import MtlsServer
from tests.support.targets import Reply, Target
from tests.support.tinyproxy import Tinyproxy

START = 1_790_000_040.0
NOW = datetime.now(UTC).replace(microsecond=0)


class FakeClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def node(name: str, url: str, extra: str = "", drill: str = "") -> str:
    """A node probing ``url``, with ``extra`` spec lines and a drill of ``drill`` to ``url``."""
    fallbacks = (
        f'  fallbacks:\n    - {{node: {drill}, drill: {{every: 10s, http: {{url: "{url}"}}}}}}\n'
        if drill
        else ""
    )
    return (
        f"apiVersion: slo-agent/v1\nkind: Node\nmetadata: {{name: {name}}}\nspec:\n"
        f"  mode: operated\n  owner: payments\n  capability: payments\n{extra}"
        f'  probes:\n    - {{name: health, interval: 10s, http: {{url: "{url}"}}}}\n{fallbacks}'
    )


def journey(name: str, to: str, url: str) -> str:
    return (
        f"apiVersion: slo-agent/v1\nkind: Journey\nmetadata: {{name: {name}}}\nspec:\n"
        f"  interval: 10s\n"
        f'  steps:\n    - {{name: pay, node: {to}, http: {{url: "{url}"}}}}\n'
    )


class Runs:
    """The journey and drill pipelines of a spec set, on a fake clock, into a real store."""

    def __init__(self, specs: SpecSet, store: SqliteStore, prober: HttpProber) -> None:
        self.specs = specs
        self.clock = FakeClock()
        runner = JourneyRunner(prober, clock=self.clock)
        self.journeys = JourneyPipeline(runner, store, RecordingTelemetry(), clock=self.clock)
        self.drills = DrillPipeline(
            Probers(http=prober), store, clock=self.clock, certificates=self.journeys.certificates
        )

    async def journey(self, name: str) -> Reason | None:
        result = await self.journeys.run(journey_jobs_of(self.specs)[f"journey:{name}"])
        return None if result is None else result.steps[0].observation.reason

    async def drill(self, key: str) -> bool | None:
        run = await self.drills.run(drill_jobs_of(self.specs)[key])
        return None if run is None else run.ok


@pytest.fixture
async def runs(tmp_path: Path) -> AsyncIterator[tuple[Path, SqliteStore, HttpProber]]:
    prober = HttpProber(env={})
    with SqliteStore(tmp_path / "store.db") as store:
        try:
            yield tmp_path, store, prober
        finally:
            await prober.aclose()


@pytest.fixture
def mtls() -> Iterator[MtlsServer]:
    with MtlsServer() as server:
        yield server


def client_tls(server: MtlsServer, directory: Path) -> str:
    """A node's ``tls`` block: the server's CA and a client certificate it issued."""
    issued = server.ca.issue_cert("client.probe.test")
    ca, cert, key = directory / "ca.pem", directory / "client.crt", directory / "client.key"
    server.ca.cert_pem.write_to_path(str(ca))
    cert.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    issued.private_key_pem.write_to_path(str(key))
    return f'  tls: {{ca_file: "{ca}", cert_file: "{cert}", key_file: "{key}"}}\n'


async def test_steps_and_drills_use_their_nodes_client_certificate(
    runs: tuple[Path, SqliteStore, HttpProber], mtls: MtlsServer
) -> None:
    directory, store, prober = runs
    tls = client_tls(mtls, directory)
    ca_only = f'  tls: {{ca_file: "{directory / "ca.pem"}"}}\n'
    path = write(
        directory / "specs",
        "partners.yaml",
        node("acme", mtls.url, tls, drill="bare"),
        node("bare", mtls.url, ca_only, drill="acme"),
        journey("with-node-tls", "acme", mtls.url),
        journey("without-client-cert", "bare", mtls.url),
    )
    run = Runs(load_specs([path], {}), store, prober)

    assert await run.journey("with-node-tls") is Reason.OK
    assert await run.journey("without-client-cert") is Reason.TLS
    assert await run.drill("drill:acme/bare") is True  # acme's drill: acme's certificate
    assert await run.drill("drill:bare/acme") is False  # bare's drill: no certificate


async def test_a_step_goes_through_its_nodes_proxy(
    runs: tuple[Path, SqliteStore, HttpProber],
) -> None:
    directory, store, prober = runs
    async with Target({"/pay": Reply(200, b"ok")}) as site:
        with Tinyproxy(directory) as proxy:
            url = site.url("/pay")
            path = write(
                directory / "specs",
                "partners.yaml",
                node("acme", url, f'  proxy: "{proxy.url}"\n'),
                journey("checkout", "acme", url),
            )
            run = Runs(load_specs([path], {}), store, prober)

            assert await run.journey("checkout") is Reason.OK
            assert proxy.relayed(f"GET http://127.0.0.1:{site.port}/pay")


async def test_journeys_and_drills_back_off_as_the_partner_asks(
    runs: tuple[Path, SqliteStore, HttpProber],
) -> None:
    directory, store, prober = runs
    async with Target({"/": Reply(429, headers={"Retry-After": "25"})}) as target:
        url = target.url("/")
        path = write(
            directory / "specs",
            "partners.yaml",
            node("acme", url, drill="backup"),
            node("backup", url),
            journey("checkout", "acme", url),
        )
        run = Runs(load_specs([path], {}), store, prober)
        journeys, drills = [], []
        for second in range(0, 40, 10):  # a run every 10 s, as scheduled
            run.clock.now = START + second
            journeys.append(await run.journey("checkout"))
            drills.append(await run.drill("drill:acme/backup"))

    t = Reason.THROTTLED
    # asked to wait 25 s: the runs at 10 s and 20 s are skipped (nothing sent, nothing stored)
    assert journeys == [t, None, None, t]
    assert drills == [False, None, None, False]
    assert target.request_count == 4
    assert (run.journeys.backed_off, run.drills.backed_off) == (2, 2)


async def test_steps_and_drills_record_certificates_with_known_dates(
    runs: tuple[Path, SqliteStore, HttpProber],
) -> None:
    directory, store, prober = runs
    authority = Authority(directory, NOW)
    issued = authority.issue("pay", not_after=NOW + timedelta(days=9, hours=1))
    async with Target({"/": Reply(200)}, server_tls=issued.server_context()) as target:
        url = target.url("/")
        tls = f'  tls: {{ca_file: "{authority.ca_file}"}}\n'
        path = write(
            directory / "specs",
            "partners.yaml",
            node("acme", url, tls, drill="backup"),
            node("backup", url, tls),
            journey("checkout", "acme", url),
        )
        specs = load_specs([path], {})
        run = Runs(specs, store, prober)
        assert await run.journey("checkout") is Reason.OK
        assert await run.drill("drill:acme/backup") is True

    expiries = run.journeys.certificates.expiries()
    not_after = issued.not_after.timestamp()
    assert expiries == {
        ("acme", "journey:checkout/pay"): not_after,
        ("acme", "drill:backup"): not_after,
    }
    statuses = certificate_statuses(specs, expiries)
    assert [(s.node, s.probe, s.not_after) for s in statuses] == [
        ("acme", "journey:checkout/pay", not_after),
        ("acme", "drill:backup", not_after),
    ]
    now = NOW.timestamp()
    assert all(status.expiring(now) for status in statuses)  # 9 days < the default 14
    rules = certificate_rules(specs.node("acme"))
    assert rules is not None
    probes = [rule.labels["probe"] for group in rules.groups for rule in group.rules]
    assert probes == ["health", "drill:backup"]
    groups = {g.name: g for r in rule_set(specs) for g in r.groups}
    [step_rule] = groups["slo-agent/checkout/certificates"].rules
    assert (step_rule.labels["node"], step_rule.labels["probe"]) == ("acme", "journey:checkout/pay")

"""Composition root: the one place that wires real components together.

Specs, SQLite store, probers, Prometheus exporter, tracing, scheduler and the HTTP server are
built here and handed to each other; nothing else in ``agent`` imports an exporter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx

from agent.api.app import create_app
from agent.api.decisions_json import decision_rows
from agent.api.history_read import HistorySource
from agent.api.limits import DEFAULT_LIMITS, ServerLimits
from agent.api.server import AppServer
from agent.errors import UserError
from agent.model import SpecSet
from agent.probes import Probers
from agent.probes.http import HttpProber
from agent.probes.https_engine import HttpsEngine, default_engine
from agent.redaction import KnownSecrets
from agent.runtime.advice import Advisor, DecisionListener
from agent.runtime.agent import Agent, AgentSettings
from agent.runtime.heap import limit_malloc_arenas, tune_collector
from agent.runtime.replay_process import ReplayProcess
from agent.runtime.source import SpecSource
from agent.runtime.worker_count import WORKERS_FROM_SLOS, usable_cores, workers_for
from agent.runtime.workers import WorkerSettings
from agent.schedule.shard import UNSHARDED, Shard, owned_specs, split_warnings
from agent.sources.prometheus import PrometheusSliSource
from agent.store.lock import StoreLock
from agent.store.sqlite import SqliteStore
from agent.tracing.api import NO_TRACING
from exporters.alertmanager import AlertmanagerClient, AlertmanagerPusher
from exporters.otlp.setup import OtlpTracing, start_tracing, tracing_config
from exporters.prometheus.metrics import AgentMetrics
from exporters.prometheus.workers import WorkerCollector

log = logging.getLogger(__name__)

TRACE_FLUSH_TIMEOUT = 5.0  # seconds the agent waits at exit for queued spans to be exported


@dataclass(frozen=True, slots=True)
class RunOptions:
    spec_args: Sequence[str] = ()
    store_path: Path = Path("slo-agent.db")
    host: str = "127.0.0.1"
    port: int = 9464  # 0 picks a free port
    raw_retention: timedelta = timedelta(hours=48)
    settings: AgentSettings = field(default_factory=AgentSettings)
    prometheus_url: str | None = None  # where SLOs with a prometheus SLI are evaluated
    alertmanager_urls: Sequence[str] = ()  # push alerts to each of these (API v2)
    alertmanager_resend_interval: float = 60.0  # seconds between re-sends of firing alerts
    tracing: bool = True  # False: no spans whatever OTEL_* says (``--no-tracing``)
    shard: Shard = UNSHARDED  # probe only the nodes and journeys this replica owns (``--shard``)
    window_gauges: bool = True  # slo_agent_sli_ratio/burn_rate per window (--metrics-window-gauges)
    decision_alerts: bool = False  # push NodeDecisionReview alerts too (``--decision-alerts``)
    server_limits: ServerLimits = DEFAULT_LIMITS  # ``--max-connections``, ``--http-idle-timeout``
    trace_url_template: str | None = None  # ``--trace-url-template``: trace links on the pages
    # what the log filter searches for; the agent adds its URLs', specs' and OTLP credentials
    secrets: KnownSecrets | None = None
    # probe in this many worker processes (``--probe-workers``); 1 probes in the agent itself,
    # None lets the spec set's size decide (:func:`agent.runtime.worker_count.workers_for`)
    probe_workers: int | None = 1
    use_uvloop: bool = True  # for the probe workers' event loops (``--no-uvloop``)
    # what sends direct fresh-connection https:// probes here and in the probe workers
    # (``--https-engine``); None: curl when curl_cffi can be imported
    https_engine: HttpsEngine | None = None

    @property
    def engine(self) -> HttpsEngine:
        return self.https_engine or default_engine()


@dataclass(frozen=True, slots=True)
class RunningAgent:
    agent: Agent
    metrics: AgentMetrics
    url: str  # http://host:port
    tracing: OtlpTracing | None = None  # None when tracing is off
    advisor: Advisor | None = None  # the operate-or-orchestrate reviews
    task: asyncio.Task[None] | None = None  # the agent's own; done only once it stopped


@contextlib.asynccontextmanager
async def running_agent(options: RunOptions, env: Mapping[str, str]) -> AsyncIterator[RunningAgent]:
    """Start the agent and its HTTP server; stop both (and flush the store) on exit.

    Raises ``SpecError`` (a ``UserError``) before starting anything if the specs are invalid,
    and ``UserError`` if the listen address, the store or the ``OTEL_*`` settings cannot be used.
    Tracing is on when ``env`` configures an OTLP endpoint (see :mod:`exporters.otlp.setup`).
    """
    source = SpecSource(options.spec_args, env)
    specs = source.load()
    trace_config = tracing_config(env) if options.tracing else None
    if options.secrets is not None:
        urls = [options.prometheus_url or "", *options.alertmanager_urls]
        options.secrets.add_urls(urls)
        if trace_config is not None:
            options.secrets.add_values(trace_config.headers.values())
            options.secrets.add_urls([trace_config.endpoint])
    tracing: OtlpTracing | None = None
    if not specs.nodes and not specs.journeys:
        raise UserError(
            f"nothing to probe: {', '.join(specs.sources) or 'the specs'} define no Node and "
            "no Journey"
        )
    lock = StoreLock(options.store_path)  # released when the process ends, even on kill -9
    try:
        # the window sums the last clean stop saved: the first evaluation reads only the gap
        store = SqliteStore(
            options.store_path, raw_retention=options.raw_retention, resume_window_sums=True
        )
    except BaseException:
        lock.release()
        raise
    prometheus = httpx.AsyncClient() if options.prometheus_url else None
    pusher = alert_pusher(options)
    try:
        metrics = AgentMetrics(window_gauges=options.window_gauges, background=True)
        if trace_config is not None:
            tracing = start_tracing(trace_config, metrics)
            log.info("exporting traces to %s", tracing.target)
        sli_source = None
        if options.prometheus_url and prometheus is not None:
            sli_source = PrometheusSliSource(options.prometheus_url, prometheus)
        # shared by probes and journey steps; closed with the probers; tokens it reads at run
        # time (bearer files, OAuth2) join the log filter's known secrets
        on_secret = options.secrets.rotate if options.secrets is not None else None
        http = HttpProber(on_secret=on_secret, curl=options.engine is HttpsEngine.CURL)
        log.info(
            "HTTPS probes use %s (--https-engine %s)", options.engine.described, options.engine
        )
        agent = Agent(
            source=source,
            specs=specs,
            store=store,
            probers=Probers(http=http),
            telemetry=metrics,
            clock=time.time,
            settings=options.settings,
            sli_source=sli_source,
            exporters=[pusher] if pusher is not None else [],
            tracer=tracing.tracer if tracing is not None else NO_TRACING,
            journey_prober=http,
            shard=options.shard,
            probe_workers=worker_settings(options, env, specs),
        )
        if agent.workers is not None:
            metrics.register(WorkerCollector(agent.workers))
        if options.secrets is not None:
            options.secrets.follow(lambda: agent.specs)
            agent.pipeline.failures.secrets = options.secrets.values  # redacted from details
            if agent.workers is not None:  # tokens the workers obtain, redacted here too
                agent.workers.on_secret = options.secrets.rotate
        listeners: list[DecisionListener] = [metrics]
        if pusher is not None and options.decision_alerts:
            listeners.append(pusher)
        past = ReplayProcess(replay_command(), options.store_path)  # a first start's replay
        advisor = Advisor(store, clock=time.time, listeners=listeners, past=past)
        server = AppServer(
            create_app(
                agent,
                metrics.exposition,
                metrics.content_type,
                sli_sources=[sli_source] if sli_source is not None else [],
                openmetrics=metrics.openmetrics_exposition,
                journeys=lambda: agent.journey_views,
                shard=options.shard,
                decisions=lambda: advisor.report,
                decision_rows=lambda: decision_rows(advisor.report) if advisor.report else [],
                metrics_version=lambda: metrics.state_version,
                # with probe workers a scrape is served the last body and renders the next
                metrics_background=agent.workers is not None,
                history_source=HistorySource(lambda: agent.specs, store),
                trace_url_template=options.trace_url_template,
            ),
            options.host,
            options.port,
            options.server_limits,
        )
        await server.start()
        if pusher is not None:
            pusher.generator_url = f"{server.url}/api/v1/status"
        stop = asyncio.Event()
        agent_task = asyncio.create_task(agent.run(stop), name="agent")
        advice = advisor.run(lambda: agent.specs, lambda: agent.snapshot, stop)
        advice_task = asyncio.create_task(advice, name="advisor")
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(agent.reload()))
        try:
            yield RunningAgent(agent, metrics, server.url, tracing, advisor, agent_task)
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGHUP)
            await server.stop()
            stop.set()
            await agent_task
            await _stopped_within(advice_task, ADVISOR_STOP_WAIT, "the advisor's review")
    finally:
        if tracing is not None:  # after the agent stopped: its last spans are queued
            await asyncio.to_thread(tracing.shutdown, TRACE_FLUSH_TIMEOUT)
        if pusher is not None:
            await pusher.aclose()  # already closed when the agent ran; closing is idempotent
        if prometheus is not None:
            await prometheus.aclose()
        try:
            store.close()
        finally:
            lock.release()


ADVISOR_STOP_WAIT = 5.0
"""Seconds a stop waits for a review in progress (a review cannot be interrupted; one left
running ends at its next store read once the store is closed)."""


async def _stopped_within(task: asyncio.Task[None], seconds: float, what: str) -> None:
    """Wait for ``task`` at most ``seconds``; past that, stop without it (SIGTERM's promise)."""
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if done:
        await task
    else:
        log.warning("stopping without waiting for %s (still running after %.0fs)", what, seconds)


def worker_settings(
    options: RunOptions,
    env: Mapping[str, str],
    specs: SpecSet,
    cores: Callable[[], int] = usable_cores,
) -> WorkerSettings | None:
    """How to start the probe worker processes, or None to probe in the agent's process. They
    log at the agent's level, through the same redacting filter, and trace as ``env`` says.
    Without ``--probe-workers`` the SLOs of ``specs`` this replica owns, at start, and the
    ``cores`` it may use decide (:func:`~agent.runtime.worker_count.workers_for`): past 2,000
    SLOs on two cores or more, one worker process."""
    if options.probe_workers is not None:
        workers = options.probe_workers if options.probe_workers > 1 else 0
    else:
        slos = sum(len(node.slos) for node in owned_specs(specs, options.shard).nodes)
        usable = cores()
        workers = workers_for(slos, usable)
        if workers:
            log.info(
                "probing in a worker process: %d SLOs (from %d) on %d usable cores; "
                "--probe-workers 1 keeps probing in the agent's process",
                slos,
                WORKERS_FROM_SLOS,
                usable,
            )
    if not workers:
        return None
    level = logging.getLevelName(logging.getLogger().getEffectiveLevel()).lower()
    command = [sys.executable, "-m", "agent.cli.probe_worker", f"--log-level={level}"]
    if not options.tracing:
        command.append("--no-tracing")
    if not options.use_uvloop:
        command.append("--no-uvloop")
    command.append(f"--https-engine={options.engine}")  # the agent's choice, not a default
    return WorkerSettings(workers, command, env=env)


def replay_command() -> list[str]:
    """How to start the advisor's replay process (:mod:`agent.runtime.replay_process`): it
    logs at the agent's level, through the same redacting filter."""
    level = logging.getLevelName(logging.getLogger().getEffectiveLevel()).lower()
    return [sys.executable, "-m", "agent.cli.replay_worker", f"--log-level={level}"]


def alert_pusher(options: RunOptions) -> AlertmanagerPusher | None:
    """The direct alert push to ``options.alertmanager_urls``, if any are configured.

    Firing alerts stay valid for 4 re-send (or evaluation) intervals, like Prometheus's.
    """
    if not options.alertmanager_urls:
        return None
    resend = options.alertmanager_resend_interval
    return AlertmanagerPusher(
        AlertmanagerClient(options.alertmanager_urls),
        clock=time.time,
        resend_interval=resend,
        validity=4 * max(resend, options.settings.evaluation_interval),
    )


async def run_until_stopped(options: RunOptions, env: Mapping[str, str]) -> None:
    """``slo-agent run``: run until SIGINT or SIGTERM."""
    tune_collector()
    limit_malloc_arenas()  # before the store, evaluation and /metrics threads start
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with running_agent(options, env) as running:
        specs = running.agent.specs
        for warning in split_warnings(running.agent.all_specs, options.shard):
            log.warning("sharding: %s", warning)
        log.info(
            "slo-agent (shard %s) watching %d nodes (%d probes) and %d journeys; metrics at "
            "%s/metrics, status at %s/api/v1/status",
            options.shard,
            len(specs.nodes),
            sum(len(node.probes) for node in specs.nodes),
            len(specs.journeys),
            running.url,
            running.url,
        )
        stopping = asyncio.create_task(stop.wait())
        watched = {stopping} | ({running.task} if running.task is not None else set())
        await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not stop.is_set():  # the agent stopped by itself: never stay up without probing
            log.error("the agent stopped probing; exiting")
            raise UserError("the agent stopped probing unexpectedly; see the log above")
        log.info("stopping: flushing the store")

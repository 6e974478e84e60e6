"""Composition root: the one place that wires real components together.

Specs, SQLite store, probers, Prometheus exporter, scheduler and the HTTP server are built here
and handed to each other; nothing else in ``agent`` imports an exporter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from agent.api.app import create_app
from agent.api.server import AppServer
from agent.probes import Probers
from agent.runtime.agent import Agent, AgentSettings
from agent.runtime.source import SpecSource
from agent.store.sqlite import SqliteStore
from exporters.prometheus.metrics import AgentMetrics

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunOptions:
    spec_args: Sequence[str] = ()
    store_path: Path = Path("slo-agent.db")
    host: str = "127.0.0.1"
    port: int = 9464  # 0 picks a free port
    raw_retention: timedelta = timedelta(hours=48)
    settings: AgentSettings = field(default_factory=AgentSettings)


@dataclass(frozen=True, slots=True)
class RunningAgent:
    agent: Agent
    metrics: AgentMetrics
    url: str  # http://host:port


@contextlib.asynccontextmanager
async def running_agent(options: RunOptions, env: Mapping[str, str]) -> AsyncIterator[RunningAgent]:
    """Start the agent and its HTTP server; stop both (and flush the store) on exit.

    Raises ``SpecError`` (a ``UserError``) before starting anything if the specs are invalid,
    and ``UserError`` if the listen address or the store cannot be used.
    """
    source = SpecSource(options.spec_args, env)
    specs = source.load()
    store = SqliteStore(options.store_path, raw_retention=options.raw_retention)
    try:
        metrics = AgentMetrics()
        agent = Agent(
            source=source,
            specs=specs,
            store=store,
            probers=Probers(),
            telemetry=metrics,
            clock=time.time,
            settings=options.settings,
        )
        server = AppServer(
            create_app(agent, metrics.exposition, metrics.content_type), options.host, options.port
        )
        await server.start()
        stop = asyncio.Event()
        agent_task = asyncio.create_task(agent.run(stop), name="agent")
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(agent.reload()))
        try:
            yield RunningAgent(agent, metrics, server.url)
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGHUP)
            await server.stop()
            stop.set()
            await agent_task
    finally:
        store.close()


async def run_until_stopped(options: RunOptions, env: Mapping[str, str]) -> None:
    """``slo-agent run``: run until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with running_agent(options, env) as running:
        specs = running.agent.specs
        log.info(
            "slo-agent watching %d nodes (%d probes); metrics at %s/metrics, "
            "status at %s/api/v1/status",
            len(specs.nodes),
            len(running.agent.scheduler.targets),
            running.url,
            running.url,
        )
        await stop.wait()
        log.info("stopping: flushing the store")

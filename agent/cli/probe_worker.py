"""The entry point of a probe worker process (``slo-agent run --probe-workers N`` starts N of
them as ``python -m agent.cli.probe_worker [--log-level L] [--no-tracing] [--no-uvloop]
[--https-engine curl|python] FD``).

The composition root of the worker: it wires the probers, tracing (from the same ``OTEL_*``
environment as the agent) and the redacting log filter around
:class:`agent.runtime.probe_worker.ProbeWorker`, which talks to the agent over the socket
``FD``. Not a command for users: it exits when the agent closes that socket.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Hashable, Iterable

from agent.cli import loop
from agent.cli.child import die_with_parent
from agent.cli.options import setup_logging
from agent.probes import Probers
from agent.probes.http import HttpProber
from agent.probes.https_engine import ENGINES, HttpsEngine, default_engine
from agent.redaction import KnownSecrets
from agent.runtime.heap import tune_collector
from agent.runtime.probe_worker import BatchTelemetry, ProbeWorker
from agent.tracing.api import NO_TRACING


async def _serve(fd: int, secrets: KnownSecrets, tracing: bool, engine: HttpsEngine) -> None:
    from exporters.otlp.setup import start_tracing, tracing_config

    sock = socket.socket(fileno=fd)
    reader, writer = await asyncio.open_unix_connection(sock=sock)
    telemetry = BatchTelemetry()
    config = tracing_config(os.environ) if tracing else None
    otlp = None
    if config is not None:
        secrets.add_values(config.headers.values())
        secrets.add_urls([config.endpoint])
        otlp = start_tracing(config, telemetry)

    def on_secret(slot: Hashable, values: Iterable[str]) -> None:
        # this process's log filter, and the agent's (its failure details, its log lines)
        kept = tuple(values)
        secrets.rotate(slot, kept)
        telemetry.rotate_secret(slot, kept)

    worker = ProbeWorker(
        Probers(http=HttpProber(on_secret=on_secret, curl=engine is HttpsEngine.CURL)),
        telemetry,
        clock=time.time,
        tracer=otlp.tracer if otlp is not None else NO_TRACING,
    )
    secrets.follow(lambda: worker.specs)
    running = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        running.add_signal_handler(signal.SIGTERM, worker.stop)
    try:
        await worker.serve(reader, writer)
    finally:
        if otlp is not None:
            await asyncio.to_thread(otlp.shutdown, 5.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agent.cli.probe_worker")
    parser.add_argument("fd", type=int, help="the socket to the agent")
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--no-tracing", action="store_true")
    parser.add_argument("--no-uvloop", action="store_true")
    # the agent passes its own choice, so both processes send HTTPS probes the same way
    parser.add_argument("--https-engine", choices=ENGINES, default=default_engine().value)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the agent stops its workers
    die_with_parent()
    tune_collector()
    secrets = setup_logging(args.log_level)
    serving = _serve(args.fd, secrets, not args.no_tracing, HttpsEngine(args.https_engine))
    loop.run(serving, use_uvloop=not args.no_uvloop)
    return 0


if __name__ == "__main__":
    sys.exit(main())

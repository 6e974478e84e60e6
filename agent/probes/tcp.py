"""TCP probes: connect within the timeout, then close. Every failure is an Observation."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Mapping

from agent.durations import format_duration
from agent.probe_kinds.tcp import TcpCheck
from agent.probes.details import message, one_line
from agent.probes.result import Observation, Outcome, Phases, Reason

Clock = Callable[[], float]


class TcpProber:
    """Probes ``TcpCheck``s with the running event loop; holds no connections between probes."""

    def __init__(self, *, clock: Clock = time.perf_counter) -> None:
        self._clock = clock

    async def observe(
        self, check: TcpCheck, headers: Mapping[str, str] | None = None
    ) -> Observation:
        """``headers`` are ignored: a TCP connection has no place for them."""
        clock = self._clock
        start = clock()
        try:
            loop = asyncio.get_running_loop()
            async with asyncio.timeout(check.timeout.total_seconds()):
                transport, _ = await loop.create_connection(
                    asyncio.Protocol, check.host, check.port
                )
        except TimeoutError:  # before OSError: TimeoutError is one
            detail = f"no connection within {format_duration(check.timeout)}"
            return Observation(Outcome.FAILURE, Reason.TIMEOUT, clock() - start, detail=detail)
        except socket.gaierror as exc:
            detail = f"cannot resolve {check.host}: {exc.strerror or exc}"
            return Observation(Outcome.FAILURE, Reason.DNS, clock() - start, detail=detail)
        except OSError as exc:
            detail = one_line(f"cannot connect to {check.host}:{check.port}: {message(exc)}")
            return Observation(Outcome.FAILURE, Reason.CONNECT, clock() - start, detail=detail)
        except Exception as exc:  # a bad port or host value is a failed probe, not a crash
            detail = one_line(f"{type(exc).__name__}: {exc}")
            return Observation(Outcome.FAILURE, Reason.ERROR, clock() - start, detail=detail)
        connected = clock() - start
        transport.close()
        return Observation(Outcome.SUCCESS, Reason.OK, connected, phases=Phases(connect=connected))

    async def aclose(self) -> None:
        """Nothing to release; present for the Prober contract."""

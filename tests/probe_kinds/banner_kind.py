"""A probe kind that exists only in the tests: ``banner`` connects over TCP and checks the
first line the server sends (as an SSH or SMTP server greets). It is the whole of a new kind —
wire model, check, prober, reasons — in one module, registered with one line by its test."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from pydantic import Field

from agent.probe_kinds import DEFAULT_TIMEOUT, KindSpec, ProbeKind
from agent.probes.result import Observation, Outcome, Reason
from agent.spec.problems import Loc
from agent.spec.scalars import Duration
from agent.spec.variables import HeaderExpander

MAX_BANNER = 1024


class BannerSpec(KindSpec):
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    expect: str = Field(min_length=1, description="text the first line must contain")
    timeout: Duration | None = None


@dataclass(frozen=True, slots=True)
class BannerCheck:
    host: str
    port: int
    expect: str
    timeout: timedelta


def _convert(spec: BannerSpec, every: timedelta, loc: Loc, expander: HeaderExpander) -> BannerCheck:
    del loc, expander
    timeout = spec.timeout or min(DEFAULT_TIMEOUT, every)
    return BannerCheck(spec.host, spec.port, spec.expect, timeout)


class BannerProber:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock

    async def observe(
        self, check: BannerCheck, headers: Mapping[str, str] | None = None
    ) -> Observation:
        start = self._clock()
        try:
            async with asyncio.timeout(check.timeout.total_seconds()):
                reader, writer = await asyncio.open_connection(check.host, check.port)
                try:
                    line = await reader.readline()
                finally:
                    writer.close()
        except TimeoutError:
            return Observation(Outcome.FAILURE, Reason.TIMEOUT, self._clock() - start)
        except OSError as exc:
            return Observation(
                Outcome.FAILURE, Reason.CONNECT, self._clock() - start, detail=str(exc)
            )
        banner = line[:MAX_BANNER].decode(errors="replace").strip()
        if check.expect not in banner:
            detail = f"banner {banner!r} lacks {check.expect!r}"
            return Observation(
                Outcome.FAILURE, Reason.ASSERTION, self._clock() - start, detail=detail
            )
        return Observation(Outcome.SUCCESS, Reason.OK, self._clock() - start)

    async def aclose(self) -> None:
        pass


def _prober(clock: Callable[[], float]) -> BannerProber:
    return BannerProber(clock)


KIND: ProbeKind[BannerSpec, BannerCheck] = ProbeKind(
    name="banner",
    measures="a TCP server's greeting line",
    spec=BannerSpec,
    check=BannerCheck,
    convert=_convert,
    prober=_prober,
    reasons=frozenset({Reason.TIMEOUT, Reason.CONNECT, Reason.ASSERTION}),
    span=lambda check: ("greet", {"server.address": check.host, "server.port": check.port}),
)

"""Run as a script by ``test_new_kind``: registers the test-only ``banner`` kind (the one line a
new kind adds to the registry), then runs the real agent on a spec that uses it against a
loopback server that greets every other connection wrongly, and prints what the store and the
status API counted, as JSON."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from agent.probe_kinds.registry import KINDS
from tests.probe_kinds.banner_kind import KIND

KINDS.register(KIND)  # the registration line

import httpx  # noqa: E402  (every agent import comes after the registration)

from agent.app import running_agent  # noqa: E402
from agent.store.sqlite import SqliteStore  # noqa: E402
from tests.support.agents import options, write_specs  # noqa: E402

RUNS = 20

SPEC = """\
apiVersion: slo-agent/v1
kind: Node
metadata: {{name: mail}}
spec:
  mode: operated
  owner: sre
  capability: mail
  probes:
    - name: greeting
      interval: 200ms
      banner: {{host: 127.0.0.1, port: {port}, expect: "ESMTP", timeout: 200ms}}
  slos:
    - {{name: availability, objective: 99, window: 3d, sli: {{probe: greeting}}}}
"""


async def main(work: Path) -> dict[str, object]:
    greeted = 0
    enough = asyncio.Event()

    async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal greeted
        greeted += 1
        writer.write(b"220 mail ESMTP ready\r\n" if greeted % 2 else b"421 busy\r\n")
        if greeted >= RUNS:
            enough.set()
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(greet, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    specs = write_specs(work / "specs", mail=SPEC.format(port=port))
    async with server, running_agent(options(specs, work / "store.db"), {}) as running:
        async with asyncio.timeout(30):
            await enough.wait()
        running.agent.scheduler.pause()
        await asyncio.sleep(0.5)  # probes under way finish (each within its 200ms timeout)
        await running.agent.flush()
        await running.agent.evaluate()
        async with httpx.AsyncClient() as client:
            status = (await client.get(f"{running.url}/api/v1/status")).json()
    with SqliteStore(work / "store.db") as store:
        counts = store.probe_totals()[("mail", "greeting")]
    [node] = status["nodes"]
    [slo] = node["slos"]
    return {
        "greeted": greeted,
        "total": counts.total,
        "failures": counts.failures,
        "by_reason": {reason.value: n for reason, n in counts.failures_by_reason.items()},
        "slo_total": slo["windows"]["1h"]["total"],
        "slo_bad": slo["windows"]["1h"]["bad"],
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(Path(sys.argv[1])))))

"""The whole agent, in process, probing a partner that requires a bearer token mounted as a
Kubernetes secret: the secret is rotated (kubelet-style symlink swap) while the agent runs,
and the agent's probes carry the new token from then on."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agent.app import running_agent
from tests.probes.partner_auth import mount_secret
from tests.support.agents import options, write_specs
from tests.support.targets import Exchange, Reply, Target

OLD, NEW = "old-token-0123456789", "new-token-9876543210"


class Partner:
    """Accepts the tokens in ``accepted``; remembers which token each request carried."""

    def __init__(self) -> None:
        self.accepted = {OLD}
        self.seen: list[str] = []

    async def serve(self, exchange: Exchange) -> bool:
        token = (exchange.request.header("authorization") or "").removeprefix("Bearer ")
        self.seen.append(token)
        return await Reply(200 if token in self.accepted else 401).serve(exchange)


def spec(url: str, token_file: Path) -> str:
    return f"""\
apiVersion: slo-agent/v1
kind: Node
metadata: {{name: partner}}
spec:
  mode: orchestrated
  owner: sre
  capability: api
  partner: {{name: Partner}}
  auth: {{bearer: {{file: "{token_file}"}}}}
  probes:
    - {{name: health, interval: 200ms, http: {{url: "{url}", timeout: 200ms}}}}
  slos:
    - {{name: availability, objective: 99, window: 3d, sli: {{probe: health}}}}
"""


async def test_a_secret_rotated_while_the_agent_runs_is_picked_up(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    mount_secret(secret, OLD, 1)
    partner = Partner()
    async with Target({"/health": partner}) as target:
        specs = write_specs(
            tmp_path / "specs", partner=spec(target.url("/health"), secret / "token")
        )
        async with running_agent(options(specs, tmp_path / "store.db"), {}) as running:
            async with asyncio.timeout(30):
                await target.wait_for_requests(5)
                partner.accepted.add(NEW)  # the partner accepts both during the rotation
                mount_secret(secret, NEW, 2)
                rotated_at = len(partner.seen)
                await target.wait_for_requests(rotated_at + 10)
            partner.accepted.discard(OLD)
            running.agent.scheduler.pause()

    before, after = partner.seen[:rotated_at], partner.seen[rotated_at:]
    assert set(before) == {OLD}
    # at most the probes already under way at the swap carried the old token
    first_new = after.index(NEW)
    assert first_new <= 2
    assert set(after[first_new:]) == {NEW}

"""Which replica probes which node and journey: rendezvous (highest random weight) hashing.

Nodes are sharded by *capability*: every node of a capability (the alternatives to each other
that ``reroute`` and journey failover choose between) lands on the shard that owns the
capability's name, so each replica's advisor sees all of a capability's alternatives. A node
with no capability, or one of a capability named in ``Shard.split`` (the fallback for a
capability too large for one replica), is sharded by its own name; the advisor of a split
capability then sees only the alternatives on its own shard (:func:`split_warnings` says so).
Journeys are sharded by their own name; a journey's shard runs all its steps.

Every key is owned by exactly one of ``count`` shards: the one whose weight
``stable_hash("<shard>/<name>")`` is highest. The weights do not depend on the other names or
on the process, so every replica computes the same partition on its own, and going from ``n``
to ``n + 1`` shards moves only the names the new shard now wins (about ``1 / (n + 1)`` of
them), all of them to the new shard; no other name changes hands.

Pure: no I/O. ``auto/N`` takes the shard from a StatefulSet pod name (``slo-agent-2`` is 2),
passed in as an argument.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from dataclasses import dataclass

from agent.model import Node, SpecSet
from agent.schedule.spread import stable_hash

MAX_SHARDS = 1024
_ORDINAL = re.compile(r"-(\d+)$")


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard ``index`` of ``count`` (``0 <= index < count``); ``Shard()`` owns everything.

    ``split``: capabilities whose nodes are spread by node name instead of kept together.
    """

    index: int = 0
    count: int = 1
    split: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not 1 <= self.count <= MAX_SHARDS:
            raise ValueError(
                f"the shard count must be between 1 and {MAX_SHARDS}, got {self.count}"
            )
        if not 0 <= self.index < self.count:
            raise ValueError(
                f"the shard index must be between 0 and {self.count - 1}, got {self.index}"
            )

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, name: str) -> bool:
        """Whether this shard owns the key ``name`` (a journey's name, or :func:`node_key`)."""
        return self.count == 1 or owner_of(name, self.count) == self.index

    def owns_node(self, node: Node) -> bool:
        return self.owns(node_key(node, self.split))


UNSHARDED = Shard()
"""The one shard of an agent that is not sharded: it owns every node and journey."""


def owner_of(name: str, count: int) -> int:
    """The shard (0 .. count-1) that owns ``name`` among ``count`` shards."""
    return max(range(count), key=lambda shard: (stable_hash(f"{shard}/{name}"), -shard))


def node_key(node: Node, split: frozenset[str] = frozenset()) -> str:
    """What a node is sharded by: its capability, or its own name when it has none or its
    capability is split."""
    if not node.capability or node.capability in split:
        return node.name
    return f"capability:{node.capability}"


def split_warnings(specs: SpecSet, shard: Shard) -> list[str]:
    """One line per capability that is split across shards, or large enough to unbalance them
    (more than twice a fair share of the nodes), for the start-up log."""
    if shard.count == 1:
        return []
    sizes = Counter(node.capability for node in specs.nodes if node.capability)
    warnings = [
        f"capability {cap!r} ({sizes.get(cap, 0)} nodes) is split across shards by node name "
        "(--shard-split): reroute and failover advice for it sees only this shard's alternatives"
        for cap in sorted(shard.split)
    ]
    fair = len(specs.nodes) / shard.count
    for cap, size in sorted(sizes.items()):
        if cap not in shard.split and size > 2 * fair and size > 1:
            warnings.append(
                f"capability {cap!r} holds {size} of {len(specs.nodes)} nodes, all on one of "
                f"{shard.count} shards (about {fair:.0f} each would be even); "
                f"--shard-split {cap} spreads them by node name"
            )
    return warnings


def parse_shard(value: str, hostname: str = "") -> Shard:
    """``"i/n"``, or ``"auto/n"`` with ``i`` the trailing ``-<number>`` of ``hostname`` (the
    ordinal of a StatefulSet pod). Raises ``ValueError`` with what is allowed."""
    index_text, sep, count_text = value.strip().partition("/")
    if not sep or not count_text.isdigit():
        raise ValueError(f"{value!r} is not INDEX/COUNT or auto/COUNT (e.g. 0/3)")
    count = int(count_text)
    if index_text == "auto":
        match = _ORDINAL.search(hostname)
        if match is None:
            raise ValueError(
                f"auto/{count} takes the shard from the trailing -<number> of the host name "
                f"(a StatefulSet pod's ordinal), but the host name is {hostname!r}"
            )
        index = int(match.group(1))
        if index >= count:
            raise ValueError(
                f"the host name {hostname!r} gives shard {index}, but there are only {count} "
                f"shards (0 to {count - 1}): is the StatefulSet scaled to more than {count}?"
            )
    elif index_text.isdigit():
        index = int(index_text)
    else:
        raise ValueError(f"{value!r} is not INDEX/COUNT or auto/COUNT (e.g. 0/3)")
    return Shard(index, count)


def owned_specs(specs: SpecSet, shard: Shard) -> SpecSet:
    """The nodes and journeys of ``specs`` that ``shard`` owns (alert windows kept whole)."""
    if shard.count == 1:
        return specs
    return dataclasses.replace(
        specs,
        nodes=tuple(node for node in specs.nodes if shard.owns_node(node)),
        journeys=tuple(journey for journey in specs.journeys if shard.owns(journey.name)),
    )


__all__ = [
    "MAX_SHARDS",
    "UNSHARDED",
    "Shard",
    "node_key",
    "owned_specs",
    "owner_of",
    "parse_shard",
    "split_warnings",
]

"""Rendezvous sharding: every name has exactly one owner, shares are balanced, and adding a
shard moves only about 1/(n+1) of the names, all of them to the new shard."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from agent.model import (
    AlertWindows,
    HttpCheck,
    Journey,
    JourneySli,
    JourneyStep,
    Mode,
    Node,
    RollingWindow,
    Slo,
    SpecSet,
)
from agent.schedule.shard import (
    UNSHARDED,
    Shard,
    node_key,
    owned_specs,
    owner_of,
    parse_shard,
    split_warnings,
)

NAMES = [f"node-{i}" for i in range(1000)]
BALANCE = 0.25  # each shard holds 1000/n names, give or take a quarter of that
MOVE = 0.25  # n -> n+1 moves 1000/(n+1) names, give or take a quarter of that


@pytest.mark.parametrize("count", range(1, 9))
def test_every_name_is_owned_by_exactly_one_shard(count: int) -> None:
    shards = [Shard(index, count) for index in range(count)]
    for name in NAMES:
        owners = [shard.index for shard in shards if shard.owns(name)]
        assert owners == [owner_of(name, count)]


@pytest.mark.parametrize("count", range(1, 9))
def test_shares_are_balanced(count: int) -> None:
    sizes = [0] * count
    for name in NAMES:
        sizes[owner_of(name, count)] += 1
    fair = len(NAMES) / count
    assert sum(sizes) == len(NAMES)
    assert all(abs(size - fair) <= BALANCE * fair for size in sizes), sizes


@pytest.mark.parametrize("count", range(1, 8))
def test_adding_a_shard_moves_about_one_in_n_plus_one_and_only_to_the_new_shard(
    count: int,
) -> None:
    moved = [name for name in NAMES if owner_of(name, count) != owner_of(name, count + 1)]
    assert {owner_of(name, count + 1) for name in moved} == {count}  # the new shard's index
    expected = len(NAMES) / (count + 1)
    assert abs(len(moved) - expected) <= MOVE * expected, len(moved)


def test_ownership_does_not_depend_on_the_other_names_or_their_order() -> None:
    alone = {name: owner_of(name, 5) for name in reversed(NAMES[:50])}
    assert alone == {name: owner_of(name, 5) for name in NAMES[:50]}
    # fixed values: the partition is the same in every process, run and machine (a change
    # here would move nodes between running replicas of different versions)
    names = ("acme-pay", "storefront", "checkout", "fastship")
    assert [owner_of(name, 4) for name in names] == [1, 1, 2, 1]


def test_unsharded_owns_everything() -> None:
    assert Shard(0, 1) == UNSHARDED
    assert all(UNSHARDED.owns(name) for name in NAMES)


@pytest.mark.parametrize(
    ("value", "hostname", "shard"),
    [
        ("0/1", "", Shard(0, 1)),
        ("2/3", "", Shard(2, 3)),
        (" 1/2 ", "", Shard(1, 2)),
        ("auto/3", "slo-agent-2", Shard(2, 3)),
        ("auto/4", "prod-slo-agent-0", Shard(0, 4)),
        ("auto/12", "web-7-10", Shard(10, 12)),
    ],
)
def test_parse(value: str, hostname: str, shard: Shard) -> None:
    assert parse_shard(value, hostname) == shard
    assert str(shard) == f"{shard.index}/{shard.count}"


@pytest.mark.parametrize(
    ("value", "hostname", "message"),
    [
        ("3", "", "'3' is not INDEX/COUNT or auto/COUNT (e.g. 0/3)"),
        ("a/3", "", "'a/3' is not INDEX/COUNT or auto/COUNT (e.g. 0/3)"),
        ("1/x", "", "'1/x' is not INDEX/COUNT or auto/COUNT (e.g. 0/3)"),
        ("-1/3", "", "'-1/3' is not INDEX/COUNT or auto/COUNT (e.g. 0/3)"),
        ("3/3", "", "the shard index must be between 0 and 2, got 3"),
        ("0/0", "", "the shard count must be between 1 and 1024, got 0"),
        (
            "auto/3",
            "laptop",
            "auto/3 takes the shard from the trailing -<number> of the host name "
            "(a StatefulSet pod's ordinal), but the host name is 'laptop'",
        ),
        (
            "auto/2",
            "slo-agent-2",
            "the host name 'slo-agent-2' gives shard 2, but there are only 2 shards (0 to 1): "
            "is the StatefulSet scaled to more than 2?",
        ),
    ],
)
def test_bad_values_say_what_is_allowed(value: str, hostname: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as caught:
        parse_shard(value, hostname)
    assert str(caught.value) == message


def _node(name: str) -> Node:  # a capability of its own: spread like its name
    return Node(name=name, mode=Mode.OPERATED, owner="sre", capability=name, probes=(), slos=())


def _journey(name: str, nodes: list[str]) -> Journey:
    steps = tuple(
        JourneyStep(name=f"step-{n}", node=n, check=HttpCheck(url="http://127.0.0.1/"))
        for n in nodes
    )
    slo = Slo("success", 0.99, RollingWindow(timedelta(hours=1)), JourneySli())
    return Journey(name=name, interval=timedelta(seconds=1), steps=steps, slos=(slo,))


def test_owned_specs_split_nodes_and_journeys_and_keep_the_alert_windows() -> None:
    nodes = tuple(_node(f"n{i}") for i in range(20))
    journeys = tuple(_journey(f"j{i}", ["n0", "n1"]) for i in range(10))
    windows = {"default": AlertWindows("default", ())}
    specs = SpecSet(nodes=nodes, alert_windows=windows, sources=("a.yaml",), journeys=journeys)
    parts = [owned_specs(specs, Shard(index, 3)) for index in range(3)]
    node_names = [node.name for part in parts for node in part.nodes]
    journey_names = [journey.name for part in parts for journey in part.journeys]
    assert sorted(node_names) == sorted(node.name for node in nodes)  # each exactly once
    assert sorted(journey_names) == sorted(journey.name for journey in journeys)
    assert all(part.alert_windows == windows and part.sources == ("a.yaml",) for part in parts)
    assert all(part.nodes for part in parts)  # 20 names over 3 shards: none is empty here
    assert owned_specs(specs, UNSHARDED) is specs


# --- sharding by capability: a capability's alternatives share a shard ----------------------


def _capable(name: str, capability: str) -> Node:
    return Node(
        name=name, mode=Mode.OPERATED, owner="sre", capability=capability, probes=(), slos=()
    )


CAPABILITIES = [f"cap-{i}" for i in range(200)]
# 1,000 nodes: 200 capabilities of 1 to 9 nodes, and a few with no capability
FLEET = tuple(
    _capable(f"node-{i}", CAPABILITIES[(i * 7919) % len(CAPABILITIES)] if i % 50 else "")
    for i in range(1000)
)
FLEET_SPECS = SpecSet(nodes=FLEET, alert_windows={}, sources=("a.yaml",))


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 7, 8, 13, 16, 32])
def test_capability_sharding_partitions_the_nodes_completely_and_disjointly(count: int) -> None:
    parts = [owned_specs(FLEET_SPECS, Shard(index, count)).nodes for index in range(count)]
    names = [node.name for part in parts for node in part]
    assert len(names) == len(set(names)) == len(FLEET)


@pytest.mark.parametrize("count", [2, 3, 5, 8, 16])
def test_every_node_of_a_capability_lands_on_one_shard(count: int) -> None:
    home: dict[str, set[int]] = {}
    for index in range(count):
        for node in owned_specs(FLEET_SPECS, Shard(index, count)).nodes:
            home.setdefault(node.capability, set()).add(index)
    capable = {cap: shards for cap, shards in home.items() if cap}
    assert len(capable) == len({node.capability for node in FLEET if node.capability}) > 150
    assert all(len(shards) == 1 for shards in capable.values()), capable
    assert len(home[""]) > 1  # nodes without a capability are spread by their own names


@pytest.mark.parametrize("count", range(1, 12))
def test_growing_the_shard_count_moves_few_capabilities_and_only_to_the_new_shard(
    count: int,
) -> None:
    def owners(n: int) -> dict[str, int]:
        return {
            node.name: index
            for index in range(n)
            for node in owned_specs(FLEET_SPECS, Shard(index, n)).nodes
        }

    before, after = owners(count), owners(count + 1)
    moved = {name for name in before if before[name] != after[name]}
    assert {after[name] for name in moved} <= {count}
    moved_caps = {node.capability for node in FLEET if node.name in moved and node.capability}
    expected = len({node.capability for node in FLEET if node.capability}) / (count + 1)
    assert abs(len(moved_caps) - expected) <= 0.4 * expected, len(moved_caps)


def test_a_split_capability_is_spread_by_node_name_and_said_so() -> None:
    big = tuple(_capable(f"pay-{i}", "payments") for i in range(60))
    small = (_capable("ship-a", "shipping"), _capable("ship-b", "shipping"))
    specs = SpecSet(nodes=big + small, alert_windows={}, sources=("a.yaml",))
    together = [len(owned_specs(specs, Shard(i, 4)).nodes) for i in range(4)]
    assert sorted(together)[-1] >= 60  # kept together: one shard holds every payments node
    warned = split_warnings(specs, Shard(0, 4))
    assert warned == [
        "capability 'payments' holds 60 of 62 nodes, all on one of 4 shards (about 16 each "
        "would be even); --shard-split payments spreads them by node name"
    ]
    split = frozenset({"payments"})
    parts = [owned_specs(specs, Shard(i, 4, split)).nodes for i in range(4)]
    pay_shards = {i for i, part in enumerate(parts) for n in part if n.capability == "payments"}
    ship_shards = {i for i, part in enumerate(parts) for n in part if n.capability == "shipping"}
    assert len(pay_shards) == 4
    assert len(ship_shards) == 1
    assert sorted(n.name for part in parts for n in part) == sorted(n.name for n in specs.nodes)
    assert split_warnings(specs, Shard(0, 4, split)) == [
        "capability 'payments' (60 nodes) is split across shards by node name (--shard-split): "
        "reroute and failover advice for it sees only this shard's alternatives"
    ]
    assert split_warnings(specs, UNSHARDED) == []
    assert node_key(big[0]) == "capability:payments"
    assert node_key(big[0], split) == "pay-0"

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
from agent.schedule.shard import UNSHARDED, Shard, owned_specs, owner_of, parse_shard

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


def _node(name: str) -> Node:
    return Node(name=name, mode=Mode.OPERATED, owner="sre", capability="api", probes=(), slos=())


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

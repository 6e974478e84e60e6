"""One review of every node at one moment: signals, scores, advice, and the recommendation in
force after hysteresis. Pure: the evidence, ``now`` and the previous state are handed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from agent.advisor.hysteresis import FlagState, Pending, step
from agent.advisor.policy import Axis, DecisionPolicy
from agent.advisor.recommend import Advice, Recommendation, recommend
from agent.advisor.scores import AxisScore, lean, score_node
from agent.advisor.signals import NodeEvidence, NodeSignals, node_signals, with_dispersion
from agent.model import Journey, Mode, Node


@dataclass(frozen=True, slots=True)
class NodeReview:
    node: str
    mode: Mode
    capability: str
    signals: NodeSignals
    scores: Mapping[Axis, AxisScore]
    lean: float  # above 0 the scores point to operating, below 0 to orchestrating
    advice: Advice  # what the measurements point to now
    state: FlagState  # what is in force after hysteresis

    @property
    def recommendation(self) -> str:
        return self.state.recommendation

    @property
    def target(self) -> str | None:
        return self.state.target

    @property
    def flagged(self) -> bool:
        return self.state.flagged


@dataclass(frozen=True, slots=True)
class DecisionReport:
    evaluated_at: float
    policy: str
    sustain: float  # seconds a flag's signal must hold
    clear: float  # seconds without it before a flag clears
    reviews: tuple[NodeReview, ...]

    @property
    def flagged(self) -> tuple[NodeReview, ...]:
        return tuple(r for r in self.reviews if r.flagged)

    def pending(self, review: NodeReview) -> Pending | None:
        """What ``review``'s measurements point to that is not in force yet, and when it
        takes effect under this report's ``sustain``/``clear``."""
        return review.state.pending(self.sustain, self.clear)

    def review(self, node: str) -> NodeReview:
        for r in self.reviews:
            if r.node == node:
                return r
        raise KeyError(node)


def journey_steps(journeys: Sequence[Journey]) -> dict[str, int]:
    """Node -> the journey steps (and step fallbacks) that go to it."""
    steps: dict[str, int] = {}
    for journey in journeys:
        for s in journey.steps:
            steps[s.node] = steps.get(s.node, 0) + 1
            if s.fallback is not None:
                steps[s.fallback.node] = steps.get(s.fallback.node, 0) + 1
    return steps


def review_nodes(
    nodes: Sequence[Node],
    journeys: Sequence[Journey],
    evidence: Mapping[str, NodeEvidence],
    now: float,
    policy: DecisionPolicy,
    state: Mapping[str, FlagState],
) -> tuple[DecisionReport, dict[str, FlagState]]:
    """Review every node at ``now`` from ``evidence`` (keyed by node; missing = nothing
    measured) and the previous ``state``; return the report and the new state (only for
    ``nodes``: removed nodes are forgotten)."""
    recent = policy.recent.total_seconds()
    measured = {
        node.name: node_signals(
            node,
            evidence.get(node.name, NodeEvidence()),
            now,
            recent=recent,
            incident_failures=policy.incident_failures,
        )
        for node in nodes
    }
    signals = with_dispersion(measured)
    steps = journey_steps(journeys)
    sustain, clear = policy.sustain.total_seconds(), policy.clear.total_seconds()
    reviews: list[NodeReview] = []
    new_state: dict[str, FlagState] = {}
    scored = {}
    flagged: set[str] = set()  # flagged by a rule of their own, or by the state in force
    for node in nodes:
        mine = signals[node.name]
        scores = score_node(node, mine, steps.get(node.name, 0), policy)
        leaning = lean(scores, policy)
        scored[node.name] = (scores, leaning)
        alone = recommend(mine, (), scores, leaning, policy)
        if alone.recommendation is not Recommendation.KEEP or (
            node.name in state and state[node.name].flagged
        ):
            flagged.add(node.name)
    by_capability: dict[str, list[tuple[str, NodeSignals]]] = {}  # one pass, not one per node
    for name, s in signals.items():
        by_capability.setdefault(s.capability, []).append((name, s))
    for node in nodes:
        mine = signals[node.name]
        peers = [s for name, s in by_capability.get(node.capability, ()) if name != node.name]
        scores, leaning = scored[node.name]
        advice = recommend(mine, peers, scores, leaning, policy, flagged)
        flag = step(
            state.get(node.name, FlagState()),
            advice.recommendation.value,
            advice.target,
            now,
            sustain=sustain,
            clear=clear,
        )
        new_state[node.name] = flag
        reviews.append(
            NodeReview(node.name, node.mode, node.capability, mine, scores, leaning, advice, flag)
        )
    report = DecisionReport(now, policy.name, sustain, clear, tuple(reviews))
    return report, new_state

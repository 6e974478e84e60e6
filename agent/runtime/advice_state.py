"""The advisor's hysteresis state as persisted in the store, so a restart goes on from the
last review instead of replaying the stored history.

The text is JSON: the policy it was built under (a fingerprint: another policy means another
state), when it was last reviewed, and each node's :class:`FlagState`. A state older than the
replay would cover (``max(sustain, clear)`` and one interval), written under another policy, or
unreadable is not used: the caller replays instead.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, fields
from typing import Any

from agent.advisor.hysteresis import FlagState
from agent.advisor.policy import DecisionPolicy

FORMAT = 1
_FIELDS = tuple(f.name for f in fields(FlagState))


def policy_fingerprint(policy: DecisionPolicy) -> str:
    """A short digest of everything in ``policy`` (the dataclass's repr is deterministic)."""
    return hashlib.sha256(repr(policy).encode()).hexdigest()[:16]


def saved_state(state: Mapping[str, FlagState], policy: DecisionPolicy, now: float) -> str:
    """The text persisted after a review at ``now``."""
    document = {
        "format": FORMAT,
        "policy": policy_fingerprint(policy),
        "reviewed_at": now,
        "nodes": {name: asdict(flag) for name, flag in sorted(state.items())},
    }
    return json.dumps(document, separators=(",", ":"))


def restore_state(
    text: str | None, policy: DecisionPolicy, now: float
) -> dict[str, FlagState] | None:
    """The persisted state if it was built under ``policy`` and is recent enough to go on
    from at ``now``; None otherwise (the caller replays)."""
    if text is None:
        return None
    try:
        document: Any = json.loads(text)
        if document.get("format") != FORMAT or document.get("policy") != policy_fingerprint(policy):
            return None
        reviewed_at = float(document["reviewed_at"])
        horizon = max(policy.sustain, policy.clear) + policy.interval
        if not 0 <= now - reviewed_at <= horizon.total_seconds():
            return None
        return {
            str(name): FlagState(**{key: flag[key] for key in _FIELDS})
            for name, flag in document["nodes"].items()
        }
    except (ValueError, KeyError, TypeError, AttributeError):
        return None

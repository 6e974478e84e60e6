"""A journey step's request as it goes to its node: the node's ``auth``, ``tls`` and ``proxy``
(``spec.auth``, ``spec.tls``, ``spec.proxy``) for each of them the step's ``http`` block does not
declare. A step's own block replaces the node's whole (a journey is converted apart from the
nodes it visits, so the two are joined here, per run)."""

from __future__ import annotations

import dataclasses

from agent.model import HttpCheck, Node


def at_node(check: HttpCheck, node: Node) -> HttpCheck:
    """``check`` with ``node``'s blocks where it has none of its own; ``check`` itself when
    there is nothing to add."""
    changes: dict[str, object] = {}
    if check.auth is None and node.auth is not None:
        changes["auth"] = node.auth
    if check.tls is None and node.tls is not None:
        changes["tls"] = node.tls
    if check.proxy is None and node.proxy is not None:
        changes["proxy"] = node.proxy
    return dataclasses.replace(check, **changes) if changes else check  # type: ignore[arg-type]

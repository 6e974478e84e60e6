"""Who runs a journey's hop: the node's mode and partner as views and reports show them."""

from __future__ import annotations

from agent.model import Mode, Node


def mode_of(node: Node | None) -> str:
    """``operated`` | ``orchestrated``; "" for a node no longer in the specs."""
    return "" if node is None else node.mode.value


def partner_of(node: Node | None) -> str:
    """The partner running an orchestrated node; "" for an operated or unknown one."""
    if node is None or node.mode is Mode.OPERATED or node.partner is None:
        return ""
    return node.partner.name

"""How the terminal outputs (``report``, ``demo``) colour each SLO state."""

from __future__ import annotations

from agent.slo.status import SloState

STATE_STYLES = {
    SloState.PAGE: "bold red",
    SloState.EXHAUSTED: "bold magenta",
    SloState.TICKET: "yellow",
    SloState.NO_DATA: "dim",
    SloState.OK: "green",
}

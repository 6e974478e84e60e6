"""Inputs other than the agent's own probes: SLI events read from systems the user already runs.

Each source turns the SLOs it measures into event counts per window, in the shape the pure SLO
math takes (``series_key(node, slo) -> window label -> Counts``), and reports its own failures as
missing windows (no data), never as an exception.
"""

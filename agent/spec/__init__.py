"""The spec layer: YAML spec files in, one validated :class:`agent.model.SpecSet` out.

``spec_paths`` finds the files, ``load_specs`` reads, validates and cross-checks them. The wire
format of each apiVersion lives in its own module (``v1``); the rest of the agent sees only
:mod:`agent.model`.
"""

from __future__ import annotations

from agent.spec.loader import load_specs, spec_paths

__all__ = ["load_specs", "spec_paths"]

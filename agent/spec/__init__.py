"""The spec layer: YAML spec files in, one validated :class:`agent.model.SpecSet` out.

``spec_paths`` finds the files, ``load_specs`` reads, validates and cross-checks them. The wire
format of each apiVersion lives in its own module (``v1``); the rest of the agent sees only
:mod:`agent.model`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.spec.loader import load_specs, spec_paths

__all__ = ["load_specs", "spec_paths"]


def __getattr__(name: str) -> Any:
    # The loader is imported on first use, not with the package: the probe kinds
    # (agent.probe_kinds) use the spec's scalar types, and the loader uses the probe kinds.
    if name in __all__:
        from agent.spec import loader

        return getattr(loader, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

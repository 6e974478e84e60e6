"""The chart renders the tests check: default values, each example values file, and the
example host chart that carries the agent as a sidecar."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.deploy.chart import CHART, EXAMPLES, Helm


@dataclass(frozen=True, slots=True)
class Render:
    name: str  # golden file stem
    values: tuple[Path, ...] = ()
    host: bool = False  # render examples/shop-api (sidecar) instead of the chart itself
    sets: tuple[str, ...] = ()

    def chart(self, shop_api: Path) -> Path:
        return shop_api if self.host else CHART

    def release(self) -> str:
        return "shop" if self.host else "slo"

    def text(self, helm: Helm, shop_api: Path) -> str:
        return helm.template(self.chart(shop_api), self.release(), self.values, sets=self.sets)


# The dashboards (large, generated elsewhere and kept current by their own test) are left out
# of these renders; test_chart_files checks the ConfigMap that carries them.
NO_DASHBOARDS = ("dashboards.enabled=false",)

RENDERS = {
    render.name: render
    for render in (
        Render("default", sets=NO_DASHBOARDS),
        Render("standalone", (EXAMPLES / "standalone.yaml",), sets=NO_DASHBOARDS),
        Render("sharded", (EXAMPLES / "sharded.yaml",), sets=NO_DASHBOARDS),
        Render("sidecar-objects", (EXAMPLES / "sidecar.yaml",), sets=NO_DASHBOARDS),
        Render("sidecar", host=True, sets=("slo-agent.dashboards.enabled=false",)),
    )
}

"""What the chart's workloads look like: a hardened pod, a Deployment by default, a sharded
StatefulSet, the sidecar in a host chart's pod, the specs ConfigMap."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.runtime.source import SpecSource
from agent.schedule.shard import parse_shard
from tests.deploy.chart import (
    CHART,
    EXAMPLES,
    HOST_EXAMPLE,
    Helm,
    agent_container,
    by_kind,
    documents,
    named,
    one,
    pod_specs,
)
from tests.deploy.renders import RENDERS

WITH_PODS = ["default", "standalone", "sharded", "sidecar"]


def example_specs() -> dict[str, str]:
    """The chart's default specs (files/specs/), installed when ``specs`` is empty."""
    return {p.name: p.read_text() for p in sorted((CHART / "files" / "specs").glob("*.yaml"))}


def volume(pod: dict[str, Any], name: str) -> dict[str, Any]:
    found = [v for v in pod["volumes"] if v["name"] == name]
    assert len(found) == 1, name
    entry: dict[str, Any] = found[0]
    return entry


@pytest.mark.parametrize("name", WITH_PODS)
def test_the_agent_pod_is_hardened(name: str, helm: Helm, shop_api: Path) -> None:
    rendered = RENDERS[name].text(helm, shop_api)
    (pod,) = pod_specs(rendered)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    agent = agent_container(pod)
    security = agent["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] == 10001  # the image's USER
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert {"cpu", "memory"} <= set(agent["resources"]["requests"])
    assert "memory" in agent["resources"]["limits"]
    assert agent["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "slo-metrics"}
    assert agent["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "slo-metrics"}
    assert agent["ports"] == [{"name": "slo-metrics", "containerPort": 9464, "protocol": "TCP"}]
    mounts = {m["mountPath"]: m for m in agent["volumeMounts"]}
    assert mounts["/etc/slo-agent/specs"]["readOnly"] is True
    writable = [m for m in mounts.values() if not m.get("readOnly")]
    assert {m["mountPath"] for m in writable} == {"/var/lib/slo-agent", "/tmp"}
    args = agent["args"]
    assert args[args.index("--listen") + 1] == "0.0.0.0:9464"
    assert args[args.index("--store") + 1] == "/var/lib/slo-agent/store.db"
    assert args[-1] == "/etc/slo-agent/specs"


def test_default_is_one_deployment_with_an_emptydir_store(helm: Helm, shop_api: Path) -> None:
    rendered = RENDERS["default"].text(helm, shop_api)
    deployment = one(rendered, "Deployment")
    assert not by_kind(rendered, "StatefulSet")
    assert deployment["spec"]["replicas"] == 1
    pod = deployment["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert volume(pod, "slo-agent-store") == {
        "name": "slo-agent-store",
        "emptyDir": {"sizeLimit": "1Gi"},
    }
    assert "--shard" not in agent_container(pod)["args"]
    service = one(rendered, "Service")
    assert service["spec"]["ports"][0]["targetPort"] == "slo-metrics"
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    pdb = one(rendered, "PodDisruptionBudget")
    assert pdb["spec"] == {"maxUnavailable": 1, "selector": deployment["spec"]["selector"]}
    assert not by_kind(rendered, "ServiceMonitor")
    assert not by_kind(rendered, "PrometheusRule")
    assert not by_kind(rendered, "NetworkPolicy")


def test_the_specs_configmap_holds_the_example_specs_by_default(helm: Helm, shop_api: Path) -> None:
    rendered = RENDERS["default"].text(helm, shop_api)
    configmap = named(rendered, "ConfigMap", "slo-slo-agent-specs")
    assert configmap["data"] == example_specs()
    assert list(example_specs()) == ["example.yaml"]
    pod = one(rendered, "Deployment")["spec"]["template"]["spec"]
    assert volume(pod, "slo-agent-specs")["configMap"] == {"name": "slo-slo-agent-specs"}


def test_an_existing_configmap_replaces_the_rendered_one(helm: Helm) -> None:
    rendered = helm.template(CHART, "slo", sets=["existingConfigMap=team-specs"])
    names = {c["metadata"]["name"] for c in by_kind(rendered, "ConfigMap")}
    assert "slo-slo-agent-specs" not in names
    pod = one(rendered, "Deployment")["spec"]["template"]["spec"]
    assert volume(pod, "slo-agent-specs")["configMap"] == {"name": "team-specs"}


@pytest.mark.parametrize(
    "directory", [None, EXAMPLES / "sidecar.yaml"], ids=["chart-default", "sidecar-example"]
)
def test_shipped_specs_are_valid(directory: Path | None, tmp_path: Path) -> None:
    source = (
        example_specs() if directory is None else yaml.safe_load(directory.read_text())["specs"]
    )
    for name, text in source.items():
        (tmp_path / name).write_text(text)
    specs = SpecSource([str(tmp_path)], {}).load()
    assert specs.nodes


def test_standalone_example_keeps_its_store_and_is_scraped(helm: Helm, shop_api: Path) -> None:
    rendered = RENDERS["standalone"].text(helm, shop_api)
    deployment = one(rendered, "Deployment")
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    claim = one(rendered, "PersistentVolumeClaim")
    pod = deployment["spec"]["template"]["spec"]
    assert volume(pod, "slo-agent-store")["persistentVolumeClaim"] == {
        "claimName": claim["metadata"]["name"]
    }
    monitor = one(rendered, "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["port"] == "http-metrics"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    policy = one(rendered, "NetworkPolicy")
    assert policy["spec"]["ingress"][0]["ports"] == [{"port": "slo-metrics", "protocol": "TCP"}]
    assert policy["spec"]["egress"] == [{}]
    args = agent_container(pod)["args"]
    assert args[-3:] == [
        "--alertmanager-url",
        "http://alertmanager-operated.monitoring:9093",
        "/etc/slo-agent/specs",
    ]


def test_replicas_make_a_statefulset_of_shards(helm: Helm, shop_api: Path) -> None:
    rendered = RENDERS["sharded"].text(helm, shop_api)
    assert not by_kind(rendered, "Deployment")
    statefulset = one(rendered, "StatefulSet")
    spec = statefulset["spec"]
    assert spec["replicas"] == 3
    assert spec["podManagementPolicy"] == "Parallel"
    agent = agent_container(spec["template"]["spec"])
    args = agent["args"]
    # Kubernetes expands $(VAR) in args: pod N gets --shard N/3 from its pod-index label.
    assert args[args.index("--shard") + 1] == "$(SLO_AGENT_SHARD_INDEX)/3"
    assert {
        "name": "SLO_AGENT_SHARD_INDEX",
        "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['apps.kubernetes.io/pod-index']"}},
    } in agent["env"]
    (claim,) = spec["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "slo-agent-store"
    assert claim["spec"]["resources"]["requests"]["storage"] == "2Gi"
    names = [v["name"] for v in spec["template"]["spec"]["volumes"]]
    assert "slo-agent-store" not in names  # the claim template provides it
    services = {s["metadata"]["name"]: s for s in by_kind(rendered, "Service")}
    assert services[spec["serviceName"]]["spec"]["clusterIP"] == "None"
    assert not by_kind(rendered, "PersistentVolumeClaim")


def test_the_sidecar_joins_the_host_pod(helm: Helm, shop_api: Path) -> None:
    rendered = RENDERS["sidecar"].text(helm, shop_api)
    deployment = one(rendered, "Deployment")
    assert deployment["metadata"]["name"] == "shop-shop-api"
    pod = deployment["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["containers"]] == ["app", "slo-agent"]
    assert {v["name"] for v in pod["volumes"]} == {
        "slo-agent-specs",
        "slo-agent-store",
        "slo-agent-tmp",
    }
    configmap = one(rendered, "ConfigMap")
    assert volume(pod, "slo-agent-specs")["configMap"]["name"] == configmap["metadata"]["name"]
    assert "shop-api.yaml" in configmap["data"]
    kinds = {doc["kind"] for doc in documents(rendered)}
    assert kinds == {"ConfigMap", "Deployment", "Service"}  # no agent Deployment or Service


def test_sidecar_mode_renders_only_the_shared_objects(helm: Helm, shop_api: Path) -> None:
    rendered = RENDERS["sidecar-objects"].text(helm, shop_api)
    assert {doc["kind"] for doc in documents(rendered)} == {"ConfigMap"}


def test_the_sidecar_example_values_are_the_host_charts() -> None:
    host = yaml.safe_load((HOST_EXAMPLE / "values.yaml").read_text())["slo-agent"]
    assert host == yaml.safe_load((EXAMPLES / "sidecar.yaml").read_text())


def test_each_pods_expanded_shard_argument_is_a_distinct_shard(helm: Helm, shop_api: Path) -> None:
    spec = one(RENDERS["sharded"].text(helm, shop_api), "StatefulSet")["spec"]
    args = agent_container(spec["template"]["spec"])["args"]
    template = args[args.index("--shard") + 1]
    # What Kubernetes passes pod N, whose apps.kubernetes.io/pod-index label is N.
    shards = [
        parse_shard(template.replace("$(SLO_AGENT_SHARD_INDEX)", str(ordinal)))
        for ordinal in range(spec["replicas"])
    ]
    assert [(s.index, s.count) for s in shards] == [(0, 3), (1, 3), (2, 3)]

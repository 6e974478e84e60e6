"""``CertificateExpiringSoon`` in the generated rules: which probes get one, the threshold, and
``promtool test rules`` firing it at the right time with the labels the agent pushes."""

from __future__ import annotations

import dataclasses
import subprocess
from datetime import timedelta
from pathlib import Path

import yaml

from agent.model import HttpCheck, Mode, Node, Probe, ProbeSli, RollingWindow, Slo
from agent.probe_kinds.tls import TlsCheck
from agent.slo.certificates import CertificateStatus
from agent.slo.status import Snapshot
from exporters.alertmanager.certificates import certificate_alerts
from exporters.prometheus.rules import render, rule_set
from exporters.prometheus.rules.certificates import certificate_rules
from tests.support.builders import node, spec_set
from tests.support.promtool import promtool

DAY = 86400


def relay(*, cert_valid_for: timedelta | None = None) -> Node:
    base = node("relay", url="https://api.relay.example/", mode=Mode.OPERATED)
    smtps = Probe("smtps", timedelta(seconds=30), TlsCheck("smtp.relay.example", 465))
    plain = Probe("status", timedelta(seconds=30), HttpCheck("http://relay.example/"))
    slos = base.slos
    if cert_valid_for is not None:
        sli = ProbeSli("smtps", cert_valid_for=cert_valid_for)
        slos = (*slos, Slo("cert", 0.99, RollingWindow(timedelta(days=30)), sli))
    return dataclasses.replace(base, probes=(*base.probes, smtps, plain), slos=slos)


def test_only_probes_that_do_a_tls_handshake_get_a_rule() -> None:
    rules = certificate_rules(relay())

    assert rules is not None
    [group] = rules.groups
    assert [rule.labels["probe"] for rule in group.rules] == ["authorize", "smtps"]
    assert certificate_rules(node("plain", url="http://relay.example/")) is None


def test_the_threshold_is_the_largest_cert_valid_for_else_14_days() -> None:
    rules = certificate_rules(relay(cert_valid_for=timedelta(days=30)))
    assert rules is not None
    by_probe = {rule.labels["probe"]: rule.expr for rule in rules.groups[0].rules}

    assert by_probe["authorize"].endswith(f"< {14 * DAY}")
    assert by_probe["smtps"].endswith(f"< {30 * DAY}")


def test_promtool_fires_it_when_the_threshold_is_crossed_with_the_pushed_labels(
    tmp_path: Path,
) -> None:
    shop = relay()
    specs = spec_set(shop)
    not_after = 20 * DAY  # promtool's clock starts at 0
    # the agent's own push at the same instants, from a snapshot holding that expiry
    status = CertificateStatus("relay", "smtps", float(not_after), float(14 * DAY))
    pushed = [
        sorted(
            certificate_alerts(Snapshot(float(at), (), (), (status,)), specs).values(),
            key=lambda alert: alert.key,
        )
        for at in (143 * 3600, 145 * 3600)
    ]
    assert pushed[0] == []
    [alert] = pushed[1]
    labels = dict(alert.labels)
    del labels["alertname"]

    rules_path = tmp_path / "rules.yaml"
    rules_path.write_text(render(rule_set(specs)))
    series = (
        'slo_agent_tls_cert_expiry_timestamp_seconds{node="relay", probe="smtps", '
        'job="slo-agent", instance="10.0.0.1:9464"}'
    )
    test = {
        "rule_files": [str(rules_path)],
        "evaluation_interval": "1h",
        "tests": [
            {
                "interval": "1h",
                "input_series": [{"series": series, "values": f"{not_after}x200"}],
                "alert_rule_test": [
                    # 143h: 1,213,200 s left, above 14 days (1,209,600 s)
                    {"eval_time": "143h", "alertname": "CertificateExpiringSoon", "exp_alerts": []},
                    {
                        "eval_time": "145h",
                        "alertname": "CertificateExpiringSoon",
                        "exp_alerts": [
                            {
                                "exp_labels": labels,
                                "exp_annotations": {
                                    "summary": (
                                        "The TLS certificate of relay/smtps expires in 13d 23h "
                                        "0m 0s"
                                    ),
                                    "description": (
                                        "The peer certificate relay/smtps saw at its last TLS "
                                        "handshake is valid for 13d 23h 0m 0s more (negative: "
                                        "expired); the warning starts 14d before it expires."
                                    ),
                                },
                            }
                        ],
                    },
                ],
            }
        ],
    }
    test_path = tmp_path / "test.yaml"
    test_path.write_text(yaml.safe_dump(test, sort_keys=False, width=1_000_000))

    done = subprocess.run(
        [promtool(), "test", "rules", str(test_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert labels == {"mode": "operated", "node": "relay", "probe": "smtps", "severity": "ticket"}

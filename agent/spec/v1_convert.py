"""Spec version ``slo-agent/v1``: turning validated Node and AlertWindows documents
(:mod:`agent.spec.v1`) into the version-free :mod:`agent.model`. Percents become ratios here
and nowhere else; header templates are expanded from the environment. It imports the document
models for type checking only, so it can be imported before or after :mod:`agent.spec.v1`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from agent import model
from agent.probe_kinds.http import http_check
from agent.spec.problems import Loc, validation_error
from agent.spec.v1_auth import to_auth
from agent.spec.v1_transport import Transport, tls_settings
from agent.spec.variables import HeaderExpander

if TYPE_CHECKING:  # at run time this module needs only the documents' attributes
    from agent.spec.v1 import (
        AlertWindowsDocument,
        DecisionSpec,
        FallbackSpec,
        NodeDocument,
        PartnerSpec,
        ProbeSpec,
        SliSpec,
        SloSpec,
    )

DEFAULT_INTERVAL = timedelta(seconds=30)


def ratio(percent: float) -> float:
    """``99.9`` -> ``0.999`` (decimal arithmetic, so no 0.9990000000000001)."""
    return float(Decimal(repr(percent)) / 100)


def _probe(spec: ProbeSpec, loc: Loc, expander: HeaderExpander) -> model.Probe:
    every = spec.interval or DEFAULT_INTERVAL
    kind, check_spec = spec.check_spec()
    check = kind.convert(check_spec, every, (*loc, kind.name), expander)
    return model.Probe(name=spec.name, interval=every, check=check)


def _sli(spec: SliSpec) -> model.ProbeSli | model.PrometheusSli:
    if spec.prometheus is not None:
        return model.PrometheusSli(spec.prometheus.error_query, spec.prometheus.total_query)
    assert spec.probe is not None  # the model validator guarantees exactly one
    return model.ProbeSli(
        probe=spec.probe,
        latency_under=spec.latency_under,
        throttled=spec.throttled,
        cert_valid_for=spec.cert_valid_for,
    )


def _slo(spec: SloSpec) -> model.Slo:
    return model.Slo(
        name=spec.name,
        objective=ratio(spec.objective),
        window=spec.window,
        sli=_sli(spec.sli),
        min_events=spec.min_events,
    )


def _partner(spec: PartnerSpec | None) -> model.Partner | None:
    if spec is None:
        return None
    percent = spec.contract.availability_percent
    contract = model.Contract(
        availability=None if percent is None else ratio(percent),
        latency_under=spec.contract.latency_under,
    )
    return model.Partner(name=spec.name, contract=contract)


def _fallback(spec: FallbackSpec, loc: Loc, expander: HeaderExpander) -> model.Fallback:
    if spec.drill is None:
        return model.Fallback(node=spec.node)
    every = spec.drill.every
    check = http_check(spec.drill.http, every, (*loc, "drill", "http"), expander)
    return model.Fallback(node=spec.node, drill=model.Drill(every=every, check=check))


def _decision(spec: DecisionSpec) -> model.Decision:
    cost = spec.cost
    return model.Decision(
        brand_control=spec.brand_control,
        differentiation=spec.differentiation,
        cost=None
        if cost is None
        else model.Cost(cost.fixed_monthly, cost.per_request, cost.currency),
        integration_complexity=spec.integration_complexity,
    )


def _certificate_problems(
    slos: list[SloSpec], probes: tuple[model.Probe, ...]
) -> list[tuple[Loc, str]]:
    """``cert_valid_for`` on an SLI whose probe does no TLS handshake (never good)."""
    from agent.probe_kinds.registry import KINDS

    checks = {probe.name: probe.check for probe in probes}
    problems: list[tuple[Loc, str]] = []
    for index, slo in enumerate(slos):
        check = checks.get(slo.sli.probe or "")
        if slo.sli.cert_valid_for is None or check is None:
            continue
        if not KINDS.of(check).certificate(check):
            message = (
                "needs a probe that does a TLS handshake (an https:// URL or a tls probe); "
                f'probe "{slo.sli.probe}" does none'
            )
            problems.append((("spec", "slos", index, "sli", "cert_valid_for"), message))
    return problems


def to_node(doc: NodeDocument, env: Mapping[str, str]) -> model.Node:
    """The model of a validated Node document, header templates expanded from ``env``.

    Raises ValidationError naming every header whose variable is missing from ``env``.
    """
    spec = doc.spec
    expander = HeaderExpander(env, Transport(spec.tls, spec.proxy))
    if spec.auth is not None:
        expander.auth = to_auth(spec.auth, ("spec", "auth"), expander)
    probes = tuple(
        _probe(probe, ("spec", "probes", index), expander)
        for index, probe in enumerate(spec.probes)
    )
    fallbacks = tuple(
        _fallback(fallback, ("spec", "fallbacks", index), expander)
        for index, fallback in enumerate(spec.fallbacks)
    )
    problems = [*expander.missing, *_certificate_problems(spec.slos, probes)]
    if problems:
        raise validation_error("node", problems)
    return model.Node(
        name=doc.metadata.name,
        mode=model.Mode(spec.mode),
        owner=spec.owner,
        capability=spec.capability,
        probes=probes,
        slos=tuple(_slo(slo) for slo in spec.slos),
        labels=dict(doc.metadata.labels),
        partner=_partner(spec.partner),
        alerting=model.Alerting(
            windows=spec.alerting.windows,
            labels=dict(spec.alerting.labels),
            annotations=dict(spec.alerting.annotations),
        ),
        fallbacks=fallbacks,
        decision=_decision(spec.decision),
        auth=expander.auth,
        tls=tls_settings(None, spec.tls),
        proxy=spec.proxy,
    )


def to_alert_windows(doc: AlertWindowsDocument, env: Mapping[str, str]) -> model.AlertWindows:
    """The model of a validated AlertWindows document: page tiers first, then ticket tiers."""
    del env  # alert windows have nothing to expand
    tiers = [
        model.AlertTier(severity, ratio(tier.budget_percent), tier.long, tier.short)
        for severity, group in (
            (model.Severity.PAGE, doc.spec.page),
            (model.Severity.TICKET, doc.spec.ticket),
        )
        for tier in group
    ]
    return model.AlertWindows(name=doc.metadata.name, tiers=tuple(tiers))

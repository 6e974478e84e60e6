"""The ``slo-agent`` command line.

Exit codes: 0 ok, 1 findings or invalid input, 2 usage error.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from agent.api.limits import MAX_CONNECTIONS, ServerLimits
from agent.cli import loop, run_options
from agent.cli.options import (
    duration,
    listen_address,
    prometheus_url,
    setup_logging,
    trace_url_template,
)
from agent.cli.version import print_version
from agent.errors import UserError
from exporters.prometheus.rules.render import RuleFormat

app = typer.Typer(
    name="slo-agent",
    help="Probe the nodes you operate and the partners you orchestrate; keep their error budgets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

Paths = Annotated[
    list[str] | None,
    typer.Argument(
        help="Spec files or directories (default: $SLO_AGENT_SPECS, then ./slo_specs).",
        show_default=False,
    ),
]
StoreOpt = Annotated[
    Path, typer.Option("--store", envvar="SLO_AGENT_STORE", help="SQLite store file.")
]
PrometheusUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--prometheus-url",
        metavar="URL",
        envvar="SLO_AGENT_PROMETHEUS_URL",
        callback=prometheus_url,
        help="Evaluate the SLOs with a prometheus SLI through this Prometheus' HTTP API, "
        "e.g. http://127.0.0.1:9090 (without it they report no data).",
        show_default=False,
    ),
]


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Probe the nodes you operate and the partners you orchestrate; keep their error budgets."""


def _fail(exc: UserError) -> typer.Exit:
    typer.echo(str(exc), err=True)
    return typer.Exit(1)


@app.command()
def validate(
    paths: Paths = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Treat warnings as errors (exit 1 on any).")
    ] = False,
) -> None:
    """Check spec files; print every problem as file: document N: field: message, and every
    warning as file: document N: field: warning: message (exit 0 unless --strict)."""
    from agent.cli.validate import validate as run_validate

    code = run_validate(paths or [], os.environ, sys.stdout, sys.stderr, strict=strict)
    raise typer.Exit(code)


@app.command()
def run(
    paths: Paths = None,
    store: StoreOpt = Path("slo-agent.db"),
    listen: Annotated[
        str, typer.Option(help="HTTP listen address for /metrics and the API (port 0 = any).")
    ] = "127.0.0.1:9464",
    flush_interval: Annotated[
        str,
        typer.Option(help="How often results are written to the store (the most kill -9 loses)."),
    ] = "1s",
    evaluation_interval: Annotated[str, typer.Option(help="How often SLOs are evaluated.")] = "10s",
    watch_interval: Annotated[
        str,
        typer.Option(help="How often spec files are checked for changes (0s: only on SIGHUP)."),
    ] = "2s",
    raw_retention: Annotated[
        str, typer.Option(help="How long raw probe results are kept for incident timelines.")
    ] = "48h",
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    uvloop: Annotated[bool, typer.Option(help="Use uvloop when installed.")] = True,
    alertmanager_url: Annotated[
        list[str] | None,
        typer.Option(
            "--alertmanager-url",
            metavar="URL",
            help="Push burn alerts to this Alertmanager (API v2), e.g. http://127.0.0.1:9093; "
            "repeat for several.",
            show_default=False,
        ),
    ] = None,
    alertmanager_resend_interval: Annotated[
        str, typer.Option(help="How often firing alerts are sent again to Alertmanager.")
    ] = "1m",
    prometheus: PrometheusUrlOpt = None,
    no_tracing: Annotated[
        bool,
        typer.Option(
            "--no-tracing",
            help="Send no trace spans even when OTEL_EXPORTER_OTLP_ENDPOINT is set.",
        ),
    ] = False,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            metavar="I/N",
            envvar="SLO_AGENT_SHARD",
            help="Probe only this replica's share of the nodes and journeys (consistent "
            "hashing): shard I of N, e.g. 0/3; auto/N takes I from the trailing -<number> of "
            "$HOSTNAME (a StatefulSet pod's ordinal).",
            show_default=False,
        ),
    ] = None,
    window_gauges: Annotated[
        bool,
        typer.Option(
            "--metrics-window-gauges/--no-metrics-window-gauges",
            envvar="SLO_AGENT_METRICS_WINDOW_GAUGES",
            help="Expose slo_agent_sli_ratio and slo_agent_burn_rate for every window on "
            "/metrics (2 series per SLO and window); off, Prometheus computes them from the "
            "event counters with the generated recording rules.",
        ),
    ] = True,
    shard_split: Annotated[
        list[str] | None,
        typer.Option(
            "--shard-split",
            metavar="CAPABILITY",
            help="With --shard: spread this capability's nodes over the shards by node name "
            "instead of keeping them on one shard (for a capability too large for one "
            "replica; its reroute advice then sees only each shard's own alternatives). "
            "Repeatable.",
            show_default=False,
        ),
    ] = None,
    decision_alerts: Annotated[
        bool,
        typer.Option(
            "--decision-alerts",
            help="Also push a NodeDecisionReview alert (severity=info) to --alertmanager-url "
            "for every node whose operate-or-orchestrate decision is flagged.",
        ),
    ] = False,
    max_connections: Annotated[
        int,
        typer.Option(
            min=1,
            help="Most open connections to the HTTP server; more get 503 and are closed. At "
            "most a quarter of the open-file limit (ulimit -n) whatever is asked.",
        ),
    ] = MAX_CONNECTIONS,
    http_idle_timeout: Annotated[
        str,
        typer.Option(
            help="Close a connection to the HTTP server that sends no complete request head "
            "for this long (after connecting or after its last response).",
        ),
    ] = "10s",
    probe_workers: Annotated[
        str | None,
        typer.Option(
            metavar="N|auto",
            envvar="SLO_AGENT_PROBE_WORKERS",
            help="Run the probes in N worker processes (auto: one per core the agent may use, "
            "within its CPU limit) that send their results to the agent, which stores and "
            "evaluates them; 1 probes in the agent's own process. Journeys and fallback drills "
            "always run in the agent's process. Unset: the agent's own process below 2,000 "
            "SLOs or on one core, else one worker process.",
            show_default=False,
        ),
    ] = None,
    https_engine: Annotated[
        str | None,
        typer.Option(
            metavar="curl|python",
            envvar="SLO_AGENT_HTTPS_ENGINE",
            help="What sends https:// probes that go direct on a fresh connection (no "
            "keep_alive, no proxy), here and in the probe workers: curl (libcurl with "
            "BoringSSL, the lighter TLS handshake) or python (asyncio with Python's ssl, for "
            "the differences the README lists). Unset: curl when curl_cffi can be imported.",
            show_default=False,
        ),
    ] = None,
    trace_url: Annotated[
        str | None,
        typer.Option(
            "--trace-url-template",
            metavar="URL",
            help="Link trace ids on the node and journey pages to this URL, {trace_id} "
            "replaced: e.g. http://jaeger:16686/trace/{trace_id} (Jaeger), or a Tempo or "
            "Grafana Explore URL.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the agent: probe on schedule, keep budgets, serve /metrics and /api/v1/status."""
    from agent.app import RunOptions, run_until_stopped
    from agent.runtime.agent import AgentSettings

    host, port = listen_address(listen)
    options = RunOptions(
        spec_args=paths or [],
        store_path=store,
        host=host,
        port=port,
        raw_retention=duration(raw_retention),
        settings=AgentSettings(
            flush_interval=duration(flush_interval).total_seconds(),
            evaluation_interval=duration(evaluation_interval).total_seconds(),
            watch_interval=duration(watch_interval).total_seconds(),
        ),
        alertmanager_urls=[run_options.alertmanager_url(url) for url in alertmanager_url or []],
        alertmanager_resend_interval=run_options.positive_seconds(
            alertmanager_resend_interval, "--alertmanager-resend-interval"
        ),
        prometheus_url=prometheus,
        tracing=not no_tracing,
        shard=dataclasses.replace(run_options.shard(shard), split=frozenset(shard_split or ())),
        decision_alerts=decision_alerts,
        probe_workers=run_options.probe_workers(probe_workers),
        https_engine=run_options.https_engine(https_engine),
        use_uvloop=uvloop,
        window_gauges=window_gauges,
        server_limits=ServerLimits(
            max_connections=max_connections,
            idle_timeout=run_options.positive_seconds(http_idle_timeout, "--http-idle-timeout"),
        ),
        trace_url_template=trace_url_template(trace_url),
    )
    # after every option is parsed: a usage error sets nothing up
    options = dataclasses.replace(options, secrets=setup_logging(log_level))
    try:
        loop.run(run_until_stopped(options, os.environ), use_uvloop=uvloop)
    except UserError as exc:
        raise _fail(exc) from None


@app.command()
def report(
    paths: Paths = None,
    store: StoreOpt = Path("slo-agent.db"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    prometheus: PrometheusUrlOpt = None,
) -> None:
    """Print every SLO's budget from the store (the agent need not be running) and, with
    --prometheus-url, from Prometheus for SLOs with a prometheus SLI; then the failing probes,
    journey steps and fallback drills."""
    from agent.cli.report import report as run_report

    try:
        code = run_report(
            paths or [],
            os.environ,
            store,
            as_json=as_json,
            now=time.time(),
            out=sys.stdout,
            prometheus_url=prometheus,
        )
    except UserError as exc:
        raise _fail(exc) from None
    raise typer.Exit(code)


@app.command()
def rules(
    paths: Paths = None,
    fmt: Annotated[
        RuleFormat,
        typer.Option(
            "--format",
            help="prometheus: a rule file for rule_files; operator: a PrometheusRule object.",
        ),
    ] = RuleFormat.PROMETHEUS,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write to this file instead of stdout.", show_default=False
        ),
    ] = None,
) -> None:
    """Print Prometheus recording and alerting rules for every SLO (Sloth-compatible)."""
    import io

    from agent.cli.rules import rules as run_rules

    text = io.StringIO()
    try:
        code = run_rules(paths or [], os.environ, fmt, text)
        if output is None:
            sys.stdout.write(text.getvalue())
        else:
            try:
                output.write_text(text.getvalue())
            except OSError as error:
                raise UserError(f"{output}: cannot write: {error.strerror}") from None
    except UserError as exc:
        raise _fail(exc) from None
    raise typer.Exit(code)


@app.command()
def dashboards(
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Directory to write the dashboards to (one JSON file each), e.g. dashboards/.",
            show_default=False,
        ),
    ],
) -> None:
    """Write the Grafana dashboards (overview, node, journeys, decisions) as JSON files."""
    from agent.cli.dashboards import dashboards as write_dashboards

    try:
        code = write_dashboards(output, sys.stdout)
    except UserError as exc:
        raise _fail(exc) from None
    raise typer.Exit(code)


@app.command()
def advise(
    paths: Paths = None,
    store: StoreOpt = Path("slo-agent.db"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Flag nodes whose measurements say the operate-or-orchestrate decision should be
    revisited (exit 1 when any is flagged), with scores and reasons, from the store."""
    from agent.cli.advise import advise as run_advise

    try:
        code = run_advise(
            paths or [], os.environ, store, as_json=as_json, now=time.time(), out=sys.stdout
        )
    except UserError as exc:
        raise _fail(exc) from None
    raise typer.Exit(code)


@app.command()
def demo(
    store: Annotated[
        Path | None,
        typer.Option("--store", help="SQLite store file (default: a fresh temporary one)."),
    ] = None,
    listen: Annotated[
        str, typer.Option(help="Agent HTTP address (port 0 = any).")
    ] = "127.0.0.1:9464",
    duration_: Annotated[
        str | None,
        typer.Option("--duration", help="Stop by itself after this long (default: until Ctrl-C)."),
    ] = None,
    start_at: Annotated[
        str, typer.Option(help="Begin this far into the 10-minute fault schedule (e.g. 55s).")
    ] = "0s",
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "warning",
) -> None:
    """Start a simulated ecosystem on 127.0.0.1 and run the agent against it (zero setup)."""
    from agent.demo.runner import DemoOptions, run_demo

    setup_logging(log_level)
    host, port = listen_address(listen)
    options = DemoOptions(
        store_path=store,
        host=host,
        port=port,
        duration=duration(duration_).total_seconds() if duration_ else None,
        start_at=duration(start_at).total_seconds(),
    )
    try:
        loop.run(run_demo(options))
    except UserError as exc:
        raise _fail(exc) from None


def main() -> None:
    app()


if __name__ == "__main__":
    main()

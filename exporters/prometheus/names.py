"""Every metric name slo-agent exposes, in one place (README, "Metrics").

The names are the same for every node and SLO; labels carry node, slo, window, so one dashboard
and one rule set serve all SLOs.
"""

from __future__ import annotations

PROBE_RESULTS = "slo_agent_probe_results"  # counter -> slo_agent_probe_results_total
PROBE_DURATION = "slo_agent_probe_duration_seconds"  # histogram
SLI_EVENTS = "slo_agent_sli_events"  # counter -> slo_agent_sli_events_total
SLI_BAD_EVENTS = "slo_agent_sli_bad_events"  # counter -> slo_agent_sli_bad_events_total

OBJECTIVE = "slo_agent_objective_ratio"
SLI_RATIO = "slo_agent_sli_ratio"
BUDGET_REMAINING = "slo_agent_error_budget_remaining_ratio"
BURN_RATE = "slo_agent_burn_rate"
BUDGET_EXHAUSTION = "slo_agent_budget_exhaustion_seconds"
ALERT_ACTIVE = "slo_agent_alert_active"
NODE_INFO = "slo_agent_node_info"
# {node,probe}: notAfter of the peer certificate the probe's last TLS handshake saw
TLS_CERT_EXPIRY = "slo_agent_tls_cert_expiry_timestamp_seconds"
DECISION_FLAG = "slo_agent_decision_flag"  # {node,mode,recommendation}: 1 while flagged
DECISION_AXIS_SCORE = "slo_agent_decision_axis_score"  # {node,axis}: 1..5

JOURNEY_DURATION = "slo_agent_journey_duration_seconds"  # histogram {journey}
# histogram {journey,step,node}: one hop of a run (its failover included), for per-hop latency
JOURNEY_STEP_DURATION = "slo_agent_journey_step_duration_seconds"
JOURNEY_HOP_BLAME = "slo_agent_journey_hop_blame"  # counter -> slo_agent_journey_hop_blame_total

# self-metrics
SCHEDULER_LAG = "slo_agent_scheduler_lag_seconds"  # histogram
SCHEDULER_SKIPPED = "slo_agent_scheduler_skipped_runs"  # counter {reason}
EXPORT_FAILURES = "slo_agent_export_failures"  # counter {exporter}
SPANS_EXPORTED = "slo_agent_spans_exported"  # counter: spans the trace collector accepted
SPANS_DROPPED = "slo_agent_spans_dropped"  # counter {reason}: queue_full|export_failed|shutdown
SPEC_RELOAD_SUCCESS = "slo_agent_spec_reload_success"  # gauge: 1 if the last reload succeeded
SPEC_RELOAD_TIMESTAMP = "slo_agent_spec_reload_timestamp_seconds"  # gauge: last successful load
EVALUATION_TIMESTAMP = "slo_agent_evaluation_timestamp_seconds"  # gauge: last evaluation
STORE_FLUSH_FAILURES = "slo_agent_store_flush_failures"  # counter
# histogram: seconds one SLO evaluation cycle took (its count: evaluations done)
EVALUATION_DURATION = "slo_agent_evaluation_duration_seconds"
# histogram: start of the previous successful flush to the end of this one (what kill -9 loses)
STORE_FLUSH_LAG = "slo_agent_store_flush_lag_seconds"
# counter {loop}: periodic cycles (evaluation, flush, ...) not run because the one before overran
CYCLES_SKIPPED = "slo_agent_cycles_skipped"
# histogram {part}: seconds of store work per flush tick (write, wait, prune, rollup)
STORE_WORK = "slo_agent_store_work_seconds"

# gauge: Unix time the counters of a /metrics body were read (it is served from memory)
METRICS_READ_TIMESTAMP = "slo_agent_metrics_read_timestamp_seconds"

PROBE_WORKERS_RUNNING = "slo_agent_probe_workers_running"  # gauge: worker processes up
PROBE_WORKER_RESTARTS = "slo_agent_probe_worker_restarts"  # counter: workers started again
PROBE_WORKER_SKIPPED = "slo_agent_probe_worker_skipped_runs"  # counter: by worker and reason

PROBE_LABELS = ("node", "probe", "mode")
SLI_LABELS = ("node", "slo", "mode")
JOURNEY_LABELS = ("journey",)
JOURNEY_STEP_LABELS = ("journey", "step", "node")
BLAME_LABELS = ("journey", "node", "mode", "reason")

# Probe latency buckets, seconds: fine around typical API latencies, up to the longest timeout.
DURATION_BUCKETS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.2,
    0.3,
    0.4,
    0.5,
    0.75,
    0.8,
    1.0,
    1.5,
    2.0,
    3.0,
    5.0,
    10.0,
    30.0,
)
EVALUATION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
FLUSH_LAG_BUCKETS = (0.5, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0)
STORE_WORK_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0, 10.0)
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

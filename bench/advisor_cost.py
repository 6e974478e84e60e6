"""CPU and peak RSS of the advisor: its start-up replay and one review, at ``--nodes`` nodes
with ``--days`` days of minute history, each case in a fresh process.

The history is written straight with SQL into a store of the layout of the tree under test:
per node one probe run a minute (a timeout every 97th minute, an incident of 5 failed minutes
a day), its latency histogram (two bucket rows a minute) and its SLO's SLI bucket. Each node
has one 60 s probe and one 28-day SLO; capabilities of five nodes; the built-in decision
policy (reviews every 5 minutes, sustain and clear 6 hours: a replay of 75 reviews).

Cases (each in a child process: CPU from ``resource.getrusage``, peak RSS ``ru_maxrss``):

* ``replay``: the agent's first review, which rebuilds the hysteresis state (``Advisor.review``
  with nothing persisted), then the next review 5 minutes later;
* ``review``: one review from a fresh process (``review_at``: what a restart with a persisted
  state costs; before this change, what every review cost).

    python -m bench.advisor_cost --nodes 500 --days 28 --case replay
    python -m bench.advisor_cost --matrix            # the table in bench/RESULTS.md
    python -m bench.advisor_cost --matrix --tree /tmp/advisor-before   # another tree's code

``--tree`` runs the children with another checkout's ``agent`` package (e.g. the code before
this change, exported with ``git archive``); the store is written by that tree's own layout.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
NOW_MINUTE = 29_600_000  # a fixed "now" (minute), so that runs are comparable
INCIDENT_MINUTE = 600  # minute of the day the daily incident starts


def spec_text(nodes: int) -> str:
    docs = []
    for i in range(nodes):
        docs.append(f"""apiVersion: slo-agent/v1
kind: Node
metadata: {{name: n{i:05d}}}
spec:
  mode: operated
  owner: bench
  capability: c{i // 5:04d}
  probes:
    - name: check
      interval: 60s
      http: {{url: "http://127.0.0.1:9/n{i}", timeout: 2s}}
  slos:
    - {{name: availability, objective: 99.9, window: 28d, sli: {{probe: check}}}}
  decision: {{brand_control: 3, differentiation: 3}}
""")
    return "---\n".join(docs)


def write_history(db: Path, nodes: int, days: int) -> None:
    """``days`` of minute history for every node, straight into the tables."""
    from agent.store.sqlite import SqliteStore  # the tree under test's layout

    with SqliteStore(db):
        pass
    if days == 0:
        return
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA synchronous = OFF")
    first = NOW_MINUTE - days * 1440
    for i in range(nodes):
        node = f"n{i:05d}"
        minutes = range(first, NOW_MINUTE)

        def failed(m: int) -> bool:
            return m % 97 == 0 or INCIDENT_MINUTE <= m % 1440 < INCIDENT_MINUTE + 5

        conn.executemany(
            "INSERT INTO probe_bucket VALUES (?, 'check', ?, 1, ?, 0.12)",
            ((node, m, int(failed(m))) for m in minutes),
        )
        conn.executemany(
            "INSERT INTO probe_reason_bucket VALUES (?, 'check', ?, 'timeout', 1)",
            ((node, m) for m in minutes if failed(m)),
        )
        conn.executemany(
            "INSERT INTO latency_bucket VALUES (?, 'check', ?, ?, 1)",
            ((node, m, 52 + (m + i) % 2) for m in minutes if not failed(m)),
        )
        conn.executemany(
            "INSERT INTO sli_bucket VALUES (?, ?, 1, ?)",
            ((f"{node}/availability", m, int(failed(m))) for m in minutes),
        )
        runs = [(node, m * 60.0, m * 60.0 + 60, 1) for m in minutes if m % 97 == 0]
        runs += [
            (
                node,
                day * 1440 * 60.0 + INCIDENT_MINUTE * 60,
                (day * 1440 + INCIDENT_MINUTE + 5) * 60.0,
                5,
            )
            for day in range(first // 1440, NOW_MINUTE // 1440)
        ]
        conn.executemany("INSERT OR REPLACE INTO failure_run VALUES (?, 'check', ?, ?, ?)", runs)
        conn.commit()
    conn.close()


def child(directory: Path, case: str) -> dict[str, float]:
    """Run one case in this process; return its figures."""
    from agent.runtime.advice import Advisor, policy_of, review_at
    from agent.runtime.evaluator import evaluate
    from agent.spec.loader import load_specs
    from agent.store.sqlite import SqliteStore

    specs = load_specs([directory / "specs.yaml"], {})
    now = NOW_MINUTE * 60.0 + 30
    out: dict[str, float] = {}
    with SqliteStore(directory / "store.db") as store:
        snapshot = evaluate(specs, store, now)
        cpu = time.process_time()
        if case == "replay":
            clock = [now]
            advisor = Advisor(store, clock=lambda: clock[0])
            advisor.review(specs, snapshot)
            out["replay_cpu_s"] = time.process_time() - cpu
            out["replay_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            clock[0] = now + 300
            cpu = time.process_time()
            advisor.review(specs, evaluate(specs, store, now + 300))
            out["next_review_cpu_s"] = time.process_time() - cpu
        else:
            review_at(specs, store, snapshot, now, policy_of(specs), {})
            out["review_cpu_s"] = time.process_time() - cpu
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def run_case(tree: Path, nodes: int, days: int, case: str, keep: Path) -> dict[str, float]:
    """One case in a child process over a store generated (once) under ``keep``."""
    directory = keep / f"{tree.name}-{nodes}n-{days}d"
    env = {**os.environ, "PYTHONPATH": str(tree)}
    if not (directory / "store.db").exists():
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "specs.yaml").write_text(spec_text(nodes), encoding="utf-8")
        generate = [
            sys.executable,
            __file__,
            "--generate",
            str(directory),
            "--nodes",
            str(nodes),
            "--days",
            str(days),
        ]
        subprocess.run(generate, env=env, cwd=tree, check=True, timeout=3600)
    command = [sys.executable, __file__, "--child", str(directory), "--case", case]
    done = subprocess.run(
        command, env=env, cwd=tree, check=True, timeout=3600, capture_output=True, text=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--case", choices=("replay", "review"), default="replay")
    parser.add_argument("--tree", type=Path, default=HERE, help="checkout whose agent to run")
    parser.add_argument("--keep", type=Path, default=None, help="directory for the stores")
    parser.add_argument("--matrix", action="store_true", help="500 and 5,000 nodes, 0 and 28 days")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        write_history(args.generate / "store.db", args.nodes, args.days)
        return
    if args.child:
        print(json.dumps(child(args.child, args.case)))
        return
    keep = args.keep or Path(tempfile.mkdtemp(prefix="advisor-cost-"))
    cases = (
        [(n, d) for n in (500, 5000) for d in (0, 28)] if args.matrix else [(args.nodes, args.days)]
    )
    for nodes, days in cases:
        for case in ("review", "replay"):
            figures = run_case(args.tree.resolve(), nodes, days, case, keep)
            row = {"tree": args.tree.name, "nodes": nodes, "days": days, "case": case, **figures}
            print(
                json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()}),
                flush=True,
            )


if __name__ == "__main__":
    main()

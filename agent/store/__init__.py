"""The embedded store: per-minute SLI and probe buckets plus recent raw probe results, in SQLite
(:class:`~agent.store.sqlite.SqliteStore`).

What it keeps
-------------
* SLI buckets: per series (``"<node>/<slo>"``) and minute, ``total`` and ``bad`` event counts.
  Whether an event is good (latency thresholds included) is decided before it gets here, so
  these counts are enough to evaluate every SLO over any window of whole minutes.
* Recent SLI events in memory at finer resolution (:mod:`agent.store.recent`), so that windows
  shorter than an hour cover the last ``w`` to within a 60th of it, not to whole minutes.
* Probe buckets: per (node, probe) and minute, runs, failures, failures by reason and the sum
  of durations.
* Raw probe results of the last ``raw_retention`` (48 h by default), for incident timelines.
  They keep every failure but only one success per probe per ``raw_success_every``: a sample
  to illustrate, never to count from.
* The advisor's evidence (:mod:`agent.store.evidence`), counting every run: per-minute latency
  histograms per (node, probe), every fallback drill run, and every run of consecutive
  failures of a probe; kept as long as the buckets.
* Journeys (:mod:`agent.store.journeys`): their SLI events in the SLI buckets, per-minute step
  counts and blame, and the blamed runs of the last ``raw_retention`` with their trace ids.

A bucket counts towards a time range ``[start, end)`` when its minute start (``minute * 60``)
lies in the range. Buckets older than 5 h are rolled up into 5-minute, 10-minute and hourly
buckets as they age (:mod:`agent.store.tiers`), so that a window's start is known to ``w/60``.
The store knows nothing about specs: keys are plain strings (SLI and probe series are stored
as integer ids of table ``series``).

Durability
----------
``record`` only touches memory. ``flush`` (the agent calls it every second by default) writes
all data recorded since the previous flush in one transaction. The file is in write-ahead-log
mode with ``synchronous=NORMAL``: when ``flush`` returns, the transaction is in the WAL file,
i.e. handed to the operating system, but it is fsynced only when the WAL is checkpointed.

* A process crash (kill -9, OOM kill) loses at most what was recorded since the last
  successful flush: with a 1 s flush interval, at most about one second of results. Every
  flush that returned survives, and the file is never left half-written.
* An operating-system crash or power loss can in addition roll back the transactions
  committed since the last checkpoint (taken in a thread of its own every 2 s while the store
  is written, ``checkpoint_every``: :mod:`agent.store.checkpoints`); the file comes back
  consistent at an earlier transaction, never corrupt.
* A flush that fails (disk full, file locked) raises StoreError and keeps its data in memory;
  the next flush writes it. Buckets are never dropped from memory; raw results are capped at
  ``max_pending_results`` and the oldest are dropped beyond that (see ``dropped_results``).
* The running agent's store saves the kept window sums every few minutes (in slices after a
  flush, :mod:`agent.store.periodic_saves`) and at a clean ``close``; the next start takes
  and deletes them (:mod:`agent.store.saved_sums`). Every write that could spoil a saved sum
  deletes it in its own transaction, so after a crash the next start resumes the sums of the
  last save, each still matching the file.

Threads
-------
``record`` may be called from the event-loop thread while ``flush``, ``upkeep``, ``sums`` and
the other queries run in worker threads (the agent runs ``upkeep`` right after each ``flush``,
in slices: :mod:`agent.store.upkeep`). ``record`` takes only a short in-memory lock; the SQLite
connection has a lock of its own, granted in turn (:mod:`agent.store.turns`) and always taken
before the in-memory one. Checkpoints of the write-ahead log run in a thread and a
connection of their own, and hold neither lock. A large window read (summed afresh) reads half
its series on a second connection in a thread of its own, while its caller holds the
connection's lock (:mod:`agent.store.split_reads`).
"""

from __future__ import annotations

from agent.store.buckets import ProbeCounts
from agent.store.sqlite import SqliteStore

__all__ = ["ProbeCounts", "SqliteStore"]

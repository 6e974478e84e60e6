"""The advisor's start-up replay in a process of its own, so that it shares neither the agent's
interpreter (its lock) nor the store's connection lock with the probing, flushing and
evaluating of the agent.

When the agent starts with no saved advisor state (the first start after an upgrade, a new
decision policy), :class:`~agent.runtime.advice.Advisor` rebuilds the hysteresis state by
replaying its reviews of the stored history. With a :class:`ReplayProcess` the replayed past
steps (:func:`~agent.runtime.advice.replay_past`) run in a child process
(``python -m agent.cli.replay_worker FD``), started like a probe worker
(:mod:`agent.runtime.workers`): a command, a socket pair whose end's fd number is appended,
and the framing of :mod:`agent.runtime.worker_protocol`. The agent sends a
:class:`ReplayJob` (the store's path, the owned specs, the policy and ``now``); the child
opens the same file read-only (:class:`~agent.store.read_only.ReadOnlyStore`: it can write
nothing, and WAL lets it read while the agent writes), replays the steps before ``now``, which
read only data flushed long before, and sends back :class:`ReplayDone` (the state) or
:class:`ReplayError` (why not). The agent then reviews at ``now`` itself, with its live
store, as after an in-thread replay: the result is the same.

The child lowers its CPU priority (:data:`NICENESS`): on one core probing, flushing and
evaluating come first; on two it uses the other core. It is not paced
(:data:`~agent.runtime.advice.REPLAY_SHARE` is for a replay in the agent's own process):
resting would only leave that core idle longer, as it holds neither lock the agent needs.

Stop: the agent asks ``stopped`` every :data:`POLL_SECONDS` while it waits; once stopped it
ends the child by its PID (SIGTERM, then SIGKILL after ``stop_timeout``). The child also
stops when its socket closes (the agent died: Linux sends it SIGTERM too). A child that
cannot start, exits, sends what is not a state or reports an error raises
:class:`~agent.runtime.advice.ReplayFailed`: the advisor logs it once and replays in its own
process instead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from agent.advisor.hysteresis import FlagState
from agent.advisor.policy import DecisionPolicy
from agent.model import SpecSet
from agent.runtime.advice import ReplayFailed, ReplayStopped, replay_past
from agent.runtime.worker_protocol import ProtocolError, Stop, frame, receive
from agent.store.read_only import ReadOnlyStore

log = logging.getLogger(__name__)

NICENESS = 10
"""Added to the child's nice value: it gets a tenth of a core the agent wants as well."""

POLL_SECONDS = 0.1  # between looks at ``stopped`` while the child replays
STOP_TIMEOUT = 3.0  # seconds a child has to exit after SIGTERM before it is killed


@dataclass(frozen=True, slots=True)
class ReplayJob:
    path: str  # the store file (the agent's, open for writing in the agent)
    specs: SpecSet  # the agent's owned specs
    policy: DecisionPolicy
    now: float  # the review the replay leads to (the child replays the steps before it)


@dataclass(frozen=True, slots=True)
class ReplayDone:
    state: dict[str, FlagState] = field(default_factory=dict)
    seconds: float = 0.0  # the child's time replaying


@dataclass(frozen=True, slots=True)
class ReplayError:
    error: str  # one line: what failed (a store error, a bug's exception)


_REPLIES = (ReplayDone, ReplayError)


class ReplayProcess:
    """Runs :func:`~agent.runtime.advice.replay_past` in a child process (blocking: called in
    the advisor's worker thread). ``command`` starts the child; the fd number of its socket
    is appended."""

    def __init__(
        self,
        command: Sequence[str],
        path: str | Path,
        *,
        env: Mapping[str, str] | None = None,
        stop_timeout: float = STOP_TIMEOUT,
    ) -> None:
        self.command = tuple(command)
        self.path = Path(path)
        self.env = env
        self.stop_timeout = stop_timeout
        self.started: list[int] = []  # every PID started, in order
        self.on_start: Callable[[int], None] | None = None  # told each child's PID

    def __call__(
        self,
        specs: SpecSet,
        now: float,
        policy: DecisionPolicy,
        stopped: Callable[[], bool],
    ) -> dict[str, FlagState]:
        ours, theirs = socket.socketpair()
        try:
            proc = subprocess.Popen(
                [*self.command, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                env=dict(self.env) if self.env is not None else None,
            )
        except OSError as exc:
            ours.close()
            raise ReplayFailed(
                f"it could not be started ({' '.join(self.command)}): {exc}"
            ) from exc
        finally:
            theirs.close()
        self.started.append(proc.pid)
        if self.on_start is not None:
            self.on_start(proc.pid)
        try:
            try:
                job = frame(ReplayJob(str(self.path), specs, policy, now))
                _send_all(ours, job, stopped)
                reply = self._reply(ours, proc, stopped)
            except (OSError, ProtocolError) as exc:
                raise ReplayFailed(self._gone(proc, str(exc))) from exc
        finally:
            ours.close()
            self._end(proc)
        if isinstance(reply, ReplayError):
            raise ReplayFailed(f"pid {proc.pid}: {reply.error}")
        return _checked(reply, proc.pid)

    def _reply(
        self, sock: socket.socket, proc: subprocess.Popen[bytes], stopped: Callable[[], bool]
    ) -> ReplayDone | ReplayError:
        while True:
            if stopped():
                raise ReplayStopped
            readable, _, _ = select.select([sock], [], [], POLL_SECONDS)
            if readable:
                # checked against the kinds: the cast only tells the type checker
                reply = cast(ReplayDone | ReplayError | None, receive(sock, _REPLIES))
                if reply is None:
                    raise ReplayFailed(self._gone(proc, "its socket closed"))
                return reply

    def _gone(self, proc: subprocess.Popen[bytes], what: str) -> str:
        """Why the child let the agent down, with its PID and exit status when it has one."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(POLL_SECONDS * 10)
        code = proc.returncode
        status = "still running" if code is None else f"exited with {code}"
        return f"pid {proc.pid} {status}: {what}"

    def _end(self, proc: subprocess.Popen[bytes]) -> None:
        """Make sure the child is gone: it exits after its reply (or its socket closing);
        past that, SIGTERM by its PID, and SIGKILL after ``stop_timeout``."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(POLL_SECONDS)
            return
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            proc.wait(self.stop_timeout)
        except subprocess.TimeoutExpired:
            log.warning("advisor replay process pid %d did not stop; killing it", proc.pid)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait()


def _send_all(sock: socket.socket, data: bytes, stopped: Callable[[], bool]) -> None:
    """``data`` on ``sock`` (several MB for thousands of nodes: the child reads it once it has
    started), asking ``stopped`` every :data:`POLL_SECONDS` while the child does not read."""
    view = memoryview(data)
    sent = 0
    sock.settimeout(POLL_SECONDS)
    try:
        while sent < len(view):
            if stopped():
                raise ReplayStopped
            with contextlib.suppress(TimeoutError):
                sent += sock.send(view[sent:])
    finally:
        sock.settimeout(None)


def _checked(reply: ReplayDone, pid: int) -> dict[str, FlagState]:
    """The state of a reply, if it is one: node name -> FlagState."""
    state = reply.state
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, FlagState) for k, v in state.items()
    ):
        raise ReplayFailed(f"pid {pid} sent what is not a hysteresis state")
    return state


# --- inside the child ------------------------------------------------------------------------


def serve(sock: socket.socket, on_specs: Callable[[SpecSet], None] | None = None) -> int:
    """The child's work: take the job, replay the past steps on a read-only store, send the
    state (or the error) back; its exit code. Stops (without a reply) on :class:`Stop` or when
    the socket closes. ``on_specs`` is told the job's specs (the log filter's secrets)."""
    try:
        job = receive(sock, (ReplayJob,))
    except (OSError, ProtocolError) as exc:
        log.error("advisor replay process: %s", exc)
        return 1
    if job is None:  # the agent went away first
        return 0
    if on_specs is not None:
        on_specs(job.specs)
    stopping = threading.Event()
    watcher = threading.Thread(target=_watch, args=(sock, stopping), daemon=True)
    watcher.start()
    began = time.monotonic()
    try:
        with ReadOnlyStore(job.path) as store:
            state = replay_past(job.specs, store, job.now, job.policy, stopped=stopping.is_set)
    except ReplayStopped:
        return 0
    except Exception as exc:  # a store error or a bug: the agent replays in its own process
        log.exception("advisor replay process: the replay failed")
        return _send(sock, ReplayError(f"{type(exc).__name__}: {exc}"), 1)
    return _send(sock, ReplayDone(state, time.monotonic() - began), 0)


def _send(sock: socket.socket, reply: ReplayDone | ReplayError, code: int) -> int:
    try:
        sock.sendall(frame(reply))
    except OSError:  # the agent went away: nobody to tell
        return 1
    return code


def _watch(sock: socket.socket, stopping: threading.Event) -> None:
    """Set ``stopping`` on :class:`Stop`, anything else, or the end of the stream."""
    with contextlib.suppress(OSError, ProtocolError):
        receive(sock, (Stop,))
    stopping.set()


def lower_priority() -> None:
    """Let the agent's threads come first on a busy core (:data:`NICENESS`)."""
    with contextlib.suppress(OSError):
        os.nice(NICENESS)


__all__ = [
    "NICENESS",
    "ReplayDone",
    "ReplayError",
    "ReplayJob",
    "ReplayProcess",
    "lower_priority",
    "serve",
]

"""The entry point of the advisor's replay process (the agent starts one, at its first start
with no saved advisor state, as ``python -m agent.cli.replay_worker [--log-level L] FD``).

It lowers its CPU priority, asks to die with the agent, and serves one replay over the socket
``FD`` (:func:`agent.runtime.replay_process.serve`). Not a command for users: it exits once
it has sent the state, or when the agent closes that socket.
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys

from agent.cli.child import die_with_parent
from agent.cli.options import setup_logging
from agent.model import SpecSet
from agent.runtime.heap import tune_collector
from agent.runtime.replay_process import lower_priority, serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agent.cli.replay_worker")
    parser.add_argument("fd", type=int, help="the socket to the agent")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the agent ends this process
    die_with_parent()
    lower_priority()
    tune_collector()
    secrets = setup_logging(args.log_level)  # redacts the specs' secrets once they come

    def follow(specs: SpecSet) -> None:
        secrets.follow(lambda: specs)

    with socket.socket(fileno=args.fd) as sock:
        return serve(sock, on_specs=follow)


if __name__ == "__main__":
    sys.exit(main())

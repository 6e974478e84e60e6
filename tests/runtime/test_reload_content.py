"""Reload is content-based, refuses a set that would silently drop every node, and refuses
non-regular files at once; the last good set keeps running each time."""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace
from pathlib import Path

from agent.app import running_agent
from agent.runtime.source import SpecSource
from tests.support.agents import FAST, node_spec, options, write_specs
from tests.support.fakes import eventually
from tests.support.targets import Reply, Target


def _same_size_same_mtime(path: Path, text: str) -> None:
    """Rewrite ``path`` as ``cp -p`` or ``rsync -t`` would: new content, old mtime."""
    old = path.stat()
    assert len(text.encode()) == old.st_size
    path.write_text(text)
    os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))


def test_the_fingerprint_changes_with_content_whatever_the_mtime(tmp_path: Path) -> None:
    specs = write_specs(tmp_path, a=node_spec("node-a", "http://127.0.0.1:9/", objective=99))
    source = SpecSource([str(specs)], {})
    before = source.fingerprint()
    _same_size_same_mtime(
        specs / "a.yaml", node_spec("node-a", "http://127.0.0.1:9/", objective=98)
    )
    assert source.fingerprint() != before
    assert SpecSource([str(specs)], {}).fingerprint() == source.fingerprint()


async def test_a_same_size_edit_with_the_mtime_kept_is_reloaded(tmp_path: Path) -> None:
    async with Target({"/a": Reply(200, b"ok")}) as target:
        specs = write_specs(tmp_path / "specs", a=node_spec("node-a", target.url("/a")))
        watching = options(specs, tmp_path / "s.db", replace(FAST, watch_interval=0.1))
        async with running_agent(watching, {}) as running:
            assert running.agent.specs.nodes[0].slos[0].objective == 0.99
            edited = node_spec("node-a", target.url("/a"), objective=98)
            _same_size_same_mtime(specs / "a.yaml", edited)
            await eventually(lambda: running.agent.specs.nodes[0].slos[0].objective == 0.98)
            assert running.agent.last_reload_error is None


async def test_a_file_truncated_to_0_bytes_is_refused(tmp_path: Path) -> None:
    async with Target({"/a": Reply(200, b"ok"), "/b": Reply(200, b"ok")}) as target:
        specs = write_specs(
            tmp_path / "specs",
            a=node_spec("node-a", target.url("/a")),
            b=node_spec("node-b", target.url("/b")),
        )
        watching = options(specs, tmp_path / "s.db", replace(FAST, watch_interval=0.1))
        async with running_agent(watching, {}) as running:
            (specs / "b.yaml").write_bytes(b"")
            await eventually(lambda: running.agent.last_reload_error is not None)
            assert running.agent.last_reload_error == (
                f"{specs / 'b.yaml'}: is now empty (0 bytes): refused, as a half-written or "
                "truncated file; delete it to remove its nodes"
            )
            assert [node.name for node in running.agent.specs.nodes] == ["node-a", "node-b"]
            probed = sum(r.path == "/b" for r in target.requests)
            await eventually(lambda: sum(r.path == "/b" for r in target.requests) > probed)
            (specs / "b.yaml").unlink()  # removing a file on purpose is applied
            await eventually(lambda: len(running.agent.specs.nodes) == 1)
            assert running.agent.last_reload_error is None


async def test_a_set_without_any_node_is_refused(tmp_path: Path) -> None:
    async with Target({"/a": Reply(200, b"ok")}) as target:
        specs = write_specs(tmp_path / "specs", a=node_spec("node-a", target.url("/a")))
        async with running_agent(options(specs, tmp_path / "s.db"), {}) as running:
            (specs / "a.yaml").write_text("# everything commented out\n")
            assert not await running.agent.reload()
            assert running.agent.last_reload_error == (
                f"{specs / 'a.yaml'}: define no Node and no Journey: refused, as it would stop "
                "probing all 1 nodes and 0 journeys"
            )
            assert set(running.agent.scheduler.targets) == {"node-a/health"}


async def test_a_fifo_or_a_dev_zero_link_is_refused_at_once(tmp_path: Path) -> None:
    async with Target({"/a": Reply(200, b"ok")}) as target:
        specs = write_specs(tmp_path / "specs", a=node_spec("node-a", target.url("/a")))
        async with running_agent(options(specs, tmp_path / "s.db"), {}) as running:
            os.mkfifo(specs / "pipe.yaml")
            (specs / "zero.yaml").symlink_to("/dev/zero")
            async with asyncio.timeout(10):  # reading either would block or never end
                assert running.agent.source.fingerprint()[1].digest.startswith("unreadable: ")
                assert not await running.agent.reload()
            assert running.agent.last_reload_error == (
                f"{specs / 'pipe.yaml'}: cannot be read: a named pipe (FIFO), not a regular file\n"
                f"{specs / 'zero.yaml'}: cannot be read: a character device, not a regular file"
            )
            assert set(running.agent.scheduler.targets) == {"node-a/health"}

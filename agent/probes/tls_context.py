"""The TLS client contexts of the HTTP prober: one ``ssl.SSLContext`` per distinct ``tls``
block (and certificate verification choice), built on first use and shared by every probe
with that block. Building one costs ~23 ms of CPU with the system trust store, ~1 ms with a
small CA file: far too much per probe.

A context made from files (``ca_file``, ``cert_file``, ``key_file``) is rebuilt when one of
them changes (its size, modification time or inode), so a rotated client certificate or CA
bundle (a Kubernetes secret update swaps a symlink) is used from the next probe on; checking
costs one ``stat`` per file and probe. A file that cannot be read or parsed is a
:class:`TlsSetupError`, reported as the probe's failure (reason ``tls``), and tried again at
the next probe.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable

import httpx

from agent.model import TlsSettings

__all__ = ["TlsContexts", "TlsSetupError", "file_state"]

_VERSIONS = {"TLS1.2": ssl.TLSVersion.TLSv1_2, "TLS1.3": ssl.TLSVersion.TLSv1_3}

FileState = tuple[tuple[int, int, int], ...]


class TlsSetupError(Exception):
    """A ``tls`` block whose files cannot be used; the message names the field and the file."""


class TlsContexts:
    """SSL contexts by (``tls`` block, verify), rebuilt when their files change."""

    def __init__(self) -> None:
        self._plain: dict[bool, ssl.SSLContext] = {}
        self._built: dict[tuple[TlsSettings, bool], tuple[ssl.SSLContext, FileState]] = {}

    def context(self, settings: TlsSettings | None, verify: bool) -> ssl.SSLContext:
        """The context for ``settings`` (None: the default trust store); ``verify=False``, or
        ``settings.verify`` false, checks no certificate."""
        if settings is None:
            return self._plain.get(verify) or self._make_plain(verify)
        key = (settings, verify)
        entry = self._built.get(key)
        state = file_state(settings)
        if entry is not None and entry[1] == state:
            return entry[0]
        context = _build(settings, verify and settings.verify)
        self._built[key] = (context, state)
        return context

    def _make_plain(self, verify: bool) -> ssl.SSLContext:
        self._plain[verify] = context = _default(verify)
        return context


def _default(verify: bool) -> ssl.SSLContext:
    if not verify:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    context = ssl.create_default_context()
    if not context.cert_store_stats()["x509_ca"]:
        context = httpx.create_ssl_context(trust_env=False)  # certifi's bundle
    return context


def _build(settings: TlsSettings, verify: bool) -> ssl.SSLContext:
    if settings.ca_file is not None and verify:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # hostname check and CERT_REQUIRED
        _load("ca_file", settings.ca_file, lambda: context.load_verify_locations(settings.ca_file))
    else:
        context = _default(verify)
    if settings.cert_file is not None:
        cert, key = settings.cert_file, settings.key_file
        field = "cert_file" if key is None else "cert_file/key_file"
        _load(
            field,
            cert if key is None else f"{cert}, {key}",
            lambda: context.load_cert_chain(cert, key),
        )
    if settings.min_version is not None:
        context.minimum_version = _VERSIONS[settings.min_version]
    return context


def _load(field: str, path: str, load: Callable[[], object]) -> None:
    try:
        load()
    except FileNotFoundError:
        raise TlsSetupError(f"tls.{field}: no such file: {path}") from None
    except OSError as exc:  # ssl.SSLError is an OSError
        reason = getattr(exc, "reason", None) or exc.strerror or type(exc).__name__
        raise TlsSetupError(f"tls.{field}: cannot use {path}: {reason}") from None


def file_state(settings: TlsSettings) -> FileState:
    """The size, modification time and inode of each file of ``settings`` (a change means
    a rotated file)."""
    state = []
    for path in (settings.ca_file, settings.cert_file, settings.key_file):
        if path is not None:
            try:
                info = os.stat(path)
            except OSError:
                state.append((-1, -1, -1))
            else:
                state.append((info.st_size, info.st_mtime_ns, info.st_ino))
    return tuple(state)

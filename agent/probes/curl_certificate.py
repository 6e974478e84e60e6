"""The peer certificate of a request through libcurl, from ``CURLINFO_CERTINFO``, shaped as
:mod:`agent.probes.certificate` reads a transport's."""

from __future__ import annotations

import ssl
from typing import Any, NamedTuple

from curl_cffi import CurlInfo
from curl_cffi._wrapper import ffi, lib

from agent.probes.curl_handle import Handle

__all__ = ["CERTIFICATE_EVERY", "CertificateReads", "Peer", "PeerCertificate", "peer_certificate"]

_CERT = b"Cert:"  # the entry of a certificate's info that holds it in PEM
_DER_KEPT = 256  # PEM texts whose DER bytes are kept: a target sends the same one every time
_der_of: dict[bytes, bytes | None] = {}


class PeerCertificate:
    """The peer's leaf certificate, shaped as ``certificate.of_transport`` reads a transport
    (``get_extra_info("ssl_object").getpeercert(binary_form=True)``)."""

    __slots__ = ("_der",)

    def __init__(self, der: bytes) -> None:
        self._der = der

    def get_extra_info(self, name: str) -> PeerCertificate | None:
        return self if name == "ssl_object" else None

    def getpeercert(self, binary_form: bool = False) -> bytes:
        return self._der


def peer_certificate(handle: Handle) -> PeerCertificate | None:
    """The leaf certificate of the handle's last handshake.

    curl_cffi's ``getinfo`` reads every slist-typed value as one ``curl_slist`` (and frees
    it), but ``CERTINFO`` is a ``struct curl_certinfo { int num_of_certs; struct curl_slist
    **certinfo; }`` owned by the handle: it is read here field by field, freeing nothing. Of
    each entry only the first bytes are read until the ``Cert:`` one.
    """
    pointer = ffi.new("struct curl_slist **")
    if lib.curl_easy_getinfo(handle.raw, CurlInfo.CERTINFO, pointer) != 0:
        return None
    if pointer[0] == ffi.NULL:
        return None
    raw = ffi.cast("char *", pointer[0])
    if ffi.cast("int *", raw)[0] < 1:
        return None
    entry: Any = ffi.cast("struct curl_slist ***", raw + ffi.sizeof("void *"))[0][0]
    while entry != ffi.NULL:
        if ffi.string(entry.data, len(_CERT)) == _CERT:
            der = _der(ffi.string(entry.data)[len(_CERT) :])
            return None if der is None else PeerCertificate(der)
        entry = entry.next
    return None


def _der(pem: bytes) -> bytes | None:
    try:
        return _der_of[pem]
    except KeyError:
        pass
    try:
        der: bytes | None = ssl.PEM_cert_to_DER_cert(pem.decode("ascii"))
    except ValueError:
        der = None
    if len(_der_of) >= _DER_KEPT:
        del _der_of[next(iter(_der_of))]
    _der_of[pem] = der
    return der


CERTIFICATE_EVERY = 60.0
"""Seconds between two reads of a target's certificate. For the expiry curl formats the whole
peer chain as text (``CERTINFO``): ~50 µs of libcurl and ~25 µs of Python a handshake, an
eighth of an HTTPS probe's CPU. A target presents the same certificate handshake after
handshake, so the one read within the last minute stands for the handshakes in between: a
rotated certificate is seen within a minute."""

_TARGETS_KEPT = 4096  # targets whose last read is kept (the oldest forgotten first)


class Peer(NamedTuple):
    """Whose certificate: the server name asked for (SNI), the host connected to, its port."""

    server_name: str
    host: str
    port: int


class CertificateReads:
    """The certificate read last from each target, and when."""

    def __init__(self, every: float = CERTIFICATE_EVERY) -> None:
        self._every = every
        self._last: dict[Peer, tuple[float, PeerCertificate]] = {}

    def recent(self, peer: Peer, now: float) -> PeerCertificate | None:
        """The certificate read from ``peer`` less than ``every`` seconds before ``now``;
        None: read it at this handshake."""
        entry = self._last.get(peer)
        if entry is None or now - entry[0] >= self._every:
            return None
        return entry[1]

    def read(self, peer: Peer, now: float, certificate: PeerCertificate) -> None:
        last = self._last
        if peer not in last and len(last) >= _TARGETS_KEPT:
            del last[next(iter(last))]
        last[peer] = (now, certificate)

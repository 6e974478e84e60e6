"""libcurl's results as the exceptions httpx raises, for :mod:`agent.probes.curl_transport`.

The prober classifies a failure by the httpx exception and its ``__cause__`` chain
(:func:`agent.probes.http._classify`): ``socket.gaierror`` is ``dns``, an ``OSError`` with an
errno is ``connect``, ``ssl.SSLCertVerificationError`` (with ``verify_code``/``verify_message``)
and ``ssl.SSLError`` are ``tls``. libcurl reports a numbered result and a message instead, so
each result is turned into the httpx exception and the cause the asyncio transport would have
raised for the same event (``tests/probes/test_transport.py`` runs both transports):

* could not resolve (the transport resolves names itself before curl starts, so only when curl
  resolved one): ``ConnectError`` from the resolver's own ``socket.gaierror`` (the name is
  looked up once more through the event loop, only after a failure, to get its words);
* could not connect: ``ConnectError`` from ``OSError(errno)`` (``CURLINFO_OS_ERRNO``);
* certificate rejected: ``ConnectError`` from ``SSLCertVerificationError`` with the X.509
  verify result (``CURLINFO_SSL_VERIFYRESULT``) and its words, or the hostname mismatch;
* any other TLS failure: ``ConnectError`` from ``ssl.SSLError`` whose ``reason`` is
  BoringSSL's (``TLSV1_ALERT_CERTIFICATE_REQUIRED``), before and after the handshake;
* a timeout: ``ConnectTimeout`` before the connection is up, else ``ReadTimeout``;
* nothing, or a partial body, before the peer closed: ``RemoteProtocolError`` with httpx's
  words; a reset: ``ReadError`` from ``ConnectionResetError``.
"""

from __future__ import annotations

import asyncio
import errno
import os
import re
import socket
import ssl

import httpx
from curl_cffi.curl import CurlError

from agent.probes.connection import HEAD_LIMIT, HEADER_COUNT_LIMIT

__all__ = ["CONNECT_PHASE", "TLS_PHASE", "curl_message", "failed_phase", "transport_error"]

CONNECT_PHASE = "connection.connect_tcp"
TLS_PHASE = "connection.start_tls"
HEAD_PHASE = "http11.receive_response_headers"

# CURLcode values (curl/curl.h)
_RESOLVE = {5, 6}  # COULDNT_RESOLVE_PROXY, COULDNT_RESOLVE_HOST
_CONNECT = 7
_PARTIAL = 18
_TIMEOUT = 28
_NOTHING = 52
_SEND = 55
_RECV = 56
_VERIFY = 60  # PEER_FAILED_VERIFICATION
_TOO_LARGE = 100
_TLS = {35, 53, 54, 58, 59, 64, 66, 77, 80, 82, 83, 90, 91, 98}  # SSL_*

_MESSAGE = re.compile(r"curl: \(\d+\) (.*?)\. See https://curl\.se/", re.DOTALL)
_VERIFY_RESULT = re.compile(r"verify result: (.*) \((\d+)\)\s*$")
_HOSTNAME = re.compile(r"target host ?name '([^']*)'")
_SSL_REASON = re.compile(r":([A-Z][A-Z0-9_]{3,})\b")  # ...:OPENSSL_internal:TLSV1_ALERT_...
# BoringSSL's names for reasons OpenSSL (hence CPython's ssl) names otherwise: the same alert
# reads the same in a probe's detail whichever transport saw it
_OPENSSL_REASON = {"TLSV1_ALERT_CERTIFICATE_REQUIRED": "TLSV13_ALERT_CERTIFICATE_REQUIRED"}
_HOSTNAME_MISMATCH = 62  # X509_V_ERR_HOSTNAME_MISMATCH, as OpenSSL reports it to CPython


def curl_message(exc: CurlError) -> str:
    """libcurl's own words for ``exc`` (curl_cffi wraps them in advice)."""
    found = _MESSAGE.search(str(exc))
    return found.group(1) if found else str(exc)


def failed_phase(code: int, connected: bool, tls_done: bool, tls: bool) -> str:
    """The trace phase a transfer failed in: its result ``code`` and how far it got."""
    if code in _RESOLVE or code == _CONNECT:
        return CONNECT_PHASE
    if tls and (code == _VERIFY or code in _TLS) and not tls_done:
        return TLS_PHASE
    if not connected:
        return CONNECT_PHASE
    if tls and not tls_done:
        return TLS_PHASE
    return HEAD_PHASE


async def transport_error(
    exc: CurlError, os_errno: int, verify_result: int, phase: str, host: str, port: int
) -> httpx.TransportError:
    """The httpx exception for a transfer that ended in ``exc`` in ``phase``, its cause set."""
    code = int(exc.code)
    text = curl_message(exc)
    cause: BaseException
    if code in _RESOLVE:
        cause = await _resolver_error(host, port, text)
        return _caused(httpx.ConnectError(str(cause)), cause)
    if code == _TIMEOUT:
        if phase in (CONNECT_PHASE, TLS_PHASE):
            return httpx.ConnectTimeout(text)
        return httpx.ReadTimeout(text)
    if code == _VERIFY:
        cause = _verification_error(text, verify_result)
        return _caused(httpx.ConnectError(str(cause)), cause)
    if code in _TLS or (phase == TLS_PHASE and code in (_RECV, _SEND)) or _is_tls(text):
        cause = _ssl_error(text)
        error_type = httpx.ConnectError if phase in (CONNECT_PHASE, TLS_PHASE) else httpx.ReadError
        return _caused(error_type(text), cause)
    if phase == CONNECT_PHASE:
        cause = OSError(os_errno, os.strerror(os_errno)) if os_errno else OSError(text)
        return _caused(httpx.ConnectError(str(cause)), cause)
    if code == _NOTHING:
        return httpx.RemoteProtocolError("Server disconnected without sending a response.")
    if code == _PARTIAL:
        return httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body"
        )
    refused = _refused_head(text)
    if refused:
        return httpx.RemoteProtocolError(f"invalid HTTP response: {refused}")
    if code == _TOO_LARGE:  # curl's own bounds on a head, worded as the asyncio transport's
        if "headers" in text and "many" in text:
            problem = f"more than {HEADER_COUNT_LIMIT} header fields"
        else:
            problem = f"a head larger than {HEAD_LIMIT} bytes"
        return httpx.RemoteProtocolError(f"invalid HTTP response: {problem}")
    if code in (_RECV, _SEND):
        number = os_errno or errno.ECONNRESET
        cause = OSError(number, os.strerror(number))
        if code == _SEND:
            return _caused(httpx.WriteError(str(cause)), cause)
        return _caused(httpx.ReadError(str(cause)), cause)
    return httpx.RemoteProtocolError(text)


# heads curl refuses before the transport's own checks see them, worded as the asyncio
# transport words them (agent.probes.connection)
_CURL_REFUSALS = {
    "Unsolicited Transfer-Encoding": "a Transfer-Encoding other than chunked",
    "Invalid Content-Length": "a bad or conflicting Content-Length",
}


def _refused_head(text: str) -> str:
    return next((ours for theirs, ours in _CURL_REFUSALS.items() if theirs in text), "")


def _caused(error: httpx.TransportError, cause: BaseException) -> httpx.TransportError:
    error.__cause__ = cause
    return error


async def _resolver_error(host: str, port: int, text: str) -> socket.gaierror:
    """The resolver's error for ``host``, asked again (after a failure only) for its words."""
    try:
        await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return exc
    except OSError:
        pass
    return socket.gaierror(socket.EAI_NONAME, text)  # resolved the second time: curl's words


def _verification_error(text: str, verify_result: int) -> ssl.SSLCertVerificationError:
    found = _VERIFY_RESULT.search(text)
    if found is not None:
        words, code = found.group(1), int(found.group(2))
    elif (name := _HOSTNAME.search(text)) is not None:
        words = f"Hostname mismatch, certificate is not valid for '{name.group(1)}'."
        code = _HOSTNAME_MISMATCH
    else:
        words, code = text, verify_result
    error = ssl.SSLCertVerificationError(1, f"certificate verify failed: {words}")
    error.verify_code = code
    error.verify_message = words
    return error


def _ssl_error(text: str) -> ssl.SSLError:
    found = _SSL_REASON.findall(text)
    reason = found[-1] if found else ""
    error = ssl.SSLError(1, text)
    error.reason = _OPENSSL_REASON.get(reason, reason)  # as CPython's _ssl module sets it
    error.library = "SSL"
    return error


def _is_tls(text: str) -> bool:
    return "SSL" in text or "TLS" in text

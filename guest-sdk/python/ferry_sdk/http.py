"""Outbound HTTP through ``wasi:http``, the standard interface: the host's
sandbox decides (hosts the manifest grants, sealed credentials, recorded
transmissions), exactly as for a Rust connector.

.. code-block:: python

    res = http.get(f"{base}/api/v1/products?page=1", headers={"x-api-key": key})
    items = res.error_for_status().json()["items"]
"""

from __future__ import annotations

import json as _json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlsplit

from componentize_py_types import Err, Ok
from wit_world.imports import outgoing_handler
from wit_world.imports import streams
from wit_world.imports import wasi_http_types as wasi

from .errors import Error

_METHODS = {
    "GET": wasi.Method_Get, "HEAD": wasi.Method_Head, "POST": wasi.Method_Post,
    "PUT": wasi.Method_Put, "DELETE": wasi.Method_Delete, "PATCH": wasi.Method_Patch,
    "OPTIONS": wasi.Method_Options,
}
_CHUNK = 4096
_READ = 64 * 1024


@dataclass
class Response:
    """An HTTP response: status, headers (lower-case names) and body."""

    status: int
    headers: List[Tuple[str, str]]
    body: bytes

    def header(self, name: str) -> Optional[str]:
        """The first value of a header."""
        return next((v for k, v in self.headers if k == name.lower()), None)

    def text(self) -> str:
        """The body as UTF-8 text."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON (a final error when it is not)."""
        try:
            return _json.loads(self.body)
        except ValueError as e:
            raise Error.fatal(f"the response ({self.status}) is not JSON: {e}") from None

    def error_for_status(self) -> "Response":
        """This response if it succeeded; else an error of the right kind:
        retryable for 408, 412, 425, 429 and 5xx (after ``Retry-After`` when
        given), final for the other 4xx."""
        if self.status < 400:
            return self
        message = f"HTTP {self.status}: {self.text()[:300]}"
        if self.status in (408, 412, 425, 429) or self.status >= 500:
            return_after = self.header("retry-after")
            after = int(return_after) * 1000 if return_after and return_after.isdigit() else None
            raise Error.retryable(message, after)
        raise Error.fatal(message)


@dataclass
class Request:
    """An HTTP request, built then sent: ``Request("PATCH", url).json({...}).send()``."""

    method: str
    url: str
    headers: List[Tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str, value: str) -> "Request":
        """Add a header."""
        self.headers.append((name.lower(), value))
        return self

    def json(self, value: Any) -> "Request":
        """A JSON body (and its content type)."""
        self.body = _json.dumps(value, separators=(",", ":")).encode()
        return self.header("content-type", "application/json")

    def send(self) -> Response:
        """Send it and read the whole response."""
        return send(self)


def get(url: str, headers: Optional[Dict[str, str]] = None) -> Response:
    """``GET url``."""
    return Request("GET", url, [(k.lower(), v) for k, v in (headers or {}).items()]).send()


def send(request: Request) -> Response:
    """Send ``request`` through ``wasi:http/outgoing-handler`` and wait for the
    whole response. A host or network failure is an :class:`Error`: denied
    when the manifest does not grant the host, retryable for timeouts and
    refused connections, final otherwise."""
    parts = urlsplit(request.url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Error.fatal(f"{request.url!r} is not an absolute http(s) URL")
    fields = _host(wasi.Fields.from_list, [(k, v.encode()) for k, v in request.headers])
    outgoing = wasi.OutgoingRequest(fields)
    method = _METHODS.get(request.method.upper())
    _host(outgoing.set_method, method() if method else wasi.Method_Other(request.method))
    _host(outgoing.set_scheme, wasi.Scheme_Https() if parts.scheme == "https" else wasi.Scheme_Http())
    _host(outgoing.set_authority, parts.netloc)
    _host(outgoing.set_path_with_query, (parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
    body = _host(outgoing.body)
    _write_all(body, request.body)
    future = _host(outgoing_handler.handle, outgoing, None)
    with future:
        response = _wait(future)
    with response:
        status, headers = response.status(), response.headers()
        with headers:
            header_list = [(k.lower(), v.decode("latin-1")) for k, v in headers.entries()]
        return Response(status, header_list, _read_all(_host(response.consume)))


def _wait(future) -> Any:
    answer = future.get()
    while answer is None:
        with future.subscribe() as ready:
            ready.block()
        answer = future.get()
    if isinstance(answer, Ok):
        answer = answer.value
    if isinstance(answer, Err):
        raise _network_error(answer.value)
    return answer.value if isinstance(answer, Ok) else answer


def _write_all(body, data: bytes) -> None:
    stream = _host(body.write)
    with stream:
        for at in range(0, len(data), _CHUNK):
            try:
                stream.blocking_write_and_flush(data[at:at + _CHUNK])
            except Err as e:
                raise Error.retryable(f"the request body could not be sent: {e.value}") from None
    _host(wasi.OutgoingBody.finish, body, None)


def _read_all(body) -> bytes:
    chunks = []
    stream = _host(body.stream)
    with stream:
        while True:
            try:
                chunks.append(stream.blocking_read(_READ))
            except Err as e:
                if isinstance(e.value, streams.StreamError_Closed):
                    break
                raise Error.retryable(f"the response body broke off: {e.value}") from None
    with wasi.IncomingBody.finish(body):
        pass
    return b"".join(chunks)


def _host(call, *args):
    try:
        return call(*args)
    except Err as e:
        raise _network_error(e.value) from None


def _network_error(code: Any) -> Error:
    name = type(code).__name__.replace("ErrorCode_", "")
    detail = getattr(code, "value", None)
    message = f"HTTP request failed: {name}" + (f" ({detail})" if detail not in (None, ()) else "")
    if name == "HttpRequestDenied":
        return Error.denied("HTTP request denied: the manifest does not grant this host "
                            "([capabilities] allowed_hosts)")
    if name in ("HttpRequestUriInvalid", "HttpRequestMethodInvalid", "ConfigurationError"):
        return Error.fatal(message)
    return Error.retryable(message)

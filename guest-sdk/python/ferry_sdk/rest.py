"""A REST collection as an ``adapter`` unit, configured rather than coded.

.. code-block:: python

    def shop(ctx):
        return ctx.require_param("url"), {"x-api-key": ctx.param("api_key") or ""}

    products = (Collection("api/v1/products", shop)
                .paging(page="page", per_page="per_page", size=200, last_page_at="pages")
                .records("items")
                .changed_since("updated_since", "updated_at")
                .idempotency_header("idempotency-key")
                .if_match())

Methods (the adapter protocol every language shares): ``search {since}`` →
``{ids, cursor}``; ``read {id}`` → the record; ``create {values,
idempotency_key}`` → ``{id, version}``; ``write {id, values, if_match}`` →
``{version}``; ``list {since, from, size}`` → ``{records: [{id, record}],
next, cursor}``.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import quote, urlencode

from . import http
from .errors import Error
from .mapper import id_text

Api = Callable[[Any], Tuple[str, Dict[str, str]]]

_VERSION_FIELDS = ("updated_at", "etag", "version")


def version_text(value: Any) -> Optional[str]:
    """A version as text: a non-empty string or a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return id_text(value)
    return value if isinstance(value, str) and value else None


def named_version(record: Any, field: Optional[str] = None) -> Optional[str]:
    """The record's version: ``field``, else ``updated_at``, ``etag`` or ``version``."""
    if not isinstance(record, dict):
        return None
    fields = (field,) if field else _VERSION_FIELDS
    return next((v for v in (version_text(record.get(f)) for f in fields) if v), None)


class Collection:
    """The adapter of one REST collection (see the module's docs)."""

    def __init__(self, path: str, api: Api):
        self.path = path.strip("/")
        self.api = api
        self.primary_key = "id"
        self._paging: Optional[Tuple[str, str, int, Optional[str]]] = None
        self._records: Optional[str] = None
        self._changed_since: Optional[Tuple[str, str]] = None
        self._idempotency: Optional[str] = None
        self._if_match = False
        self.write_method = "PUT"

    def paging(self, page: str, per_page: str, size: int = 100,
               last_page_at: Optional[str] = None) -> "Collection":
        """Page-numbered lists from 1; the last page is the one shorter than
        ``size``, or the number in the answer's ``last_page_at`` field."""
        self._paging = (page, per_page, size, last_page_at)
        return self

    def records(self, field: str) -> "Collection":
        """The field of a list's answer that holds the records (else the answer is the list)."""
        self._records = field
        return self

    def changed_since(self, param: str, field: str) -> "Collection":
        """Filter lists by ``param`` = the cursor; ``field`` of each record is its change time."""
        self._changed_since = (param, field)
        return self

    def idempotency_header(self, header: str) -> "Collection":
        """Send the exporter's key with each create in this header."""
        self._idempotency = header
        return self

    def if_match(self, write_method: str = "PUT") -> "Collection":
        """Send writes with ``If-Match`` (the version read before); 412 is retried."""
        self._if_match = True
        self.write_method = write_method
        return self

    # -- the unit ------------------------------------------------------------
    def methods(self) -> List[str]:
        """The adapter protocol's methods this collection answers."""
        return ["search", "list", "read", "create", "write"]

    def call(self, ctx, method: str, payload: Any) -> Any:
        """Answer one adapter method."""
        if method == "search":
            return self.search(ctx, payload.get("since"))
        if method == "list":
            return self.list(ctx, payload.get("since"), payload.get("from"), int(payload.get("size") or 100))
        if method == "read":
            return self._send(ctx, "GET", self._item(payload["id"])).json()
        if method == "create":
            return self.create(ctx, payload.get("values"), payload.get("idempotency_key"))
        if method == "write":
            return self.write(ctx, payload["id"], payload.get("values"), payload.get("if_match"))
        raise Error.not_found(f"adapter of {self.path} has no method `{method}`")

    def search(self, ctx, since: Any) -> dict:
        """Every id changed since ``since``, and the newest change seen as the cursor."""
        ids, newest, start = [], None, None
        while True:
            page = self.list(ctx, since, start, self._paging[2] if self._paging else 100)
            ids.extend(r["id"] for r in page["records"])
            newest = _newer(newest, page["cursor"])
            start = page["next"]
            if start is None:
                break
        cursor = newest if newest is not None else (since if self._changed_since else None)
        return {"ids": ids, "cursor": cursor}

    def list(self, ctx, since: Any, start: Any, size: int) -> dict:
        """The page that starts at ``start`` (a page number; None: the first)."""
        query = self._since_query(since)
        page = int(start or 1)
        if self._paging:
            page_param, size_param, page_size, _ = self._paging
            query += [(page_param, str(page)), (size_param, str(page_size))]
        answer = self._send(ctx, "GET", self.path, query).json()
        items = answer.get(self._records) if self._records else answer
        if not isinstance(items, list):
            raise Error.fatal(f"{self.path}: the list's answer has no `{self._records}` list")
        records = [{"id": self._id_of(item), "record": item} for item in items]
        more = False
        if self._paging:
            last = answer.get(self._paging[3]) if self._paging[3] else None
            more = page < int(last) if isinstance(last, (int, float)) else len(items) >= self._paging[2]
        field = self._changed_since[1] if self._changed_since else None
        newest = None
        for item in items:
            newest = _newer(newest, item.get(field)) if field else None
        return {"records": records, "next": page + 1 if more else None, "cursor": newest}

    def create(self, ctx, values: Any, key: Optional[str]) -> dict:
        """Create a record (with the idempotency header when configured)."""
        headers = [(self._idempotency, key)] if self._idempotency and key else []
        record = self._send(ctx, "POST", self.path, body=values, headers=headers).json()
        return {"id": record.get(self.primary_key), "version": named_version(record)}

    def write(self, ctx, record_id: Any, values: Any, if_match: Optional[str]) -> dict:
        """Write a record (``If-Match`` when configured and a version is known)."""
        headers = []
        if self._if_match and if_match:
            tag = if_match if if_match.startswith(('"', 'W/"')) else f'"{if_match}"'
            headers.append(("if-match", tag))
        res = self._send(ctx, self.write_method, self._item(record_id), body=values,
                         headers=headers, check=False)
        if res.status == 412:
            raise Error.retryable(f"{self.path} {record_id} changed remotely meanwhile: "
                                  "the next try checks for a conflict")
        res.error_for_status()
        return {"version": named_version(res.json()) if res.body else None}

    # -- helpers -------------------------------------------------------------
    def _item(self, record_id: Any) -> str:
        return f"{self.path}/{quote(id_text(record_id), safe='')}"

    def _since_query(self, since: Any) -> List[Tuple[str, str]]:
        text = version_text(since)
        return [(self._changed_since[0], text)] if self._changed_since and text else []

    def _id_of(self, record: Any) -> Any:
        value = record.get(self.primary_key) if isinstance(record, dict) else None
        if value is None:
            raise Error.fatal(f"a record of {self.path} has no `{self.primary_key}`: {record!r}")
        return value

    def _send(self, ctx, method: str, path: str, query=(), body: Any = None,
              headers=(), check: bool = True) -> http.Response:
        base, base_headers = self.api(ctx)
        url = f"{base.rstrip('/')}/{path}" + (f"?{urlencode(list(query))}" if query else "")
        request = http.Request(method, url, [(k.lower(), v) for k, v in base_headers.items()])
        for name, value in headers:
            request.header(name, value)
        if body is not None:
            request.json(body)
        res = request.send()
        return res.error_for_status() if check else res


def _newer(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    try:
        return a if float(a) >= float(b) else b
    except (TypeError, ValueError):
        return a if str(a) >= str(b) else b

"""``shop@3.0`` in Python: only the product adapter, on the shop's v2 API.

The Rust ``shop@1.7`` module above it in the chain keeps doing the rest: its
importer and exporter call ``adapter`` units by kind and model, and the host
answers from the nearest module that has one, this Python module for
products. The adapter speaks the adapter protocol in v1's shape (``name``,
not v2's ``title``), so the parent's mappers apply unchanged.
"""

from urllib.parse import quote

from ferry_sdk import Connector, Error, Unit, export_connector, http, kind
from ferry_sdk.mapper import id_text


def _url(ctx, tail=""):
    return f"{ctx.require_param('url').rstrip('/')}/v2/catalog/products{tail}"


def _send(ctx, request):
    request.header("authorization", f"Bearer {ctx.param('token') or ''}")
    return request.send()


def _v1(record):
    """A v2 product in the v1 shape the parent's mappers read."""
    record = dict(record)
    if "title" in record:
        record["name"] = record.pop("title")
    return record


def _v2(values):
    values = dict(values or {})
    if "name" in values:
        values["title"] = values.pop("name")
    return values


def list_products(ctx, payload):
    """``list {since, from, size}``: one page from the shop's cursor."""
    since, start = payload.get("since"), payload.get("from") or 0
    size = max(1, min(int(payload.get("size") or 100), 200))
    changed = f"&changed_since={since}" if isinstance(since, int) else ""
    body = _send(ctx, http.Request("GET", _url(ctx, f"?cursor={start}&limit={size}{changed}")))
    data = body.error_for_status().json().get("data")
    if not isinstance(data, list):
        raise Error.fatal("the shop's list answered no `data`")
    newest = max((r["updated_at"] for r in data if isinstance(r.get("updated_at"), int)), default=None)
    records = [{"id": r["id"], "record": _v1(r)} for r in data]
    return {"records": records, "next": body.json().get("next_cursor"), "cursor": newest}


def search(ctx, payload):
    """``search {since}``: every id changed since, and the newest change as the cursor."""
    ids, newest, start = [], None, None
    while True:
        page = list_products(ctx, {"since": payload.get("since"), "from": start, "size": 200})
        ids += [r["id"] for r in page["records"]]
        if page["cursor"] is not None:
            newest = max(newest or 0, page["cursor"])
        start = page["next"]
        if start is None:
            break
    return {"ids": ids, "cursor": newest if newest is not None else payload.get("since")}


def read(ctx, payload):
    """``read {id}``."""
    res = _send(ctx, http.Request("GET", _url(ctx, f"/{quote(id_text(payload['id']), safe='')}")))
    return _v1(res.error_for_status().json()["data"])


def create(ctx, payload):
    """``create {values, idempotency_key}``: v2 has no idempotency keys, so the
    key goes in the record's ``external_ref`` and ``find`` looks it up."""
    values = _v2(payload.get("values"))
    if payload.get("idempotency_key"):
        values["external_ref"] = payload["idempotency_key"]
    data = _send(ctx, http.Request("POST", _url(ctx)).json(values)).error_for_status().json()["data"]
    return {"id": data["id"], "version": data.get("updated_at")}


def find(ctx, payload):
    """``find {idempotency_key}``: the record an earlier create made with it."""
    key = quote(payload["idempotency_key"], safe="")
    data = _send(ctx, http.Request("GET", _url(ctx, f"?external_ref={key}"))).error_for_status().json()["data"]
    return {"id": data[0]["id"], "version": data[0].get("updated_at")} if data else {"id": None}


def write(ctx, payload):
    """``write {id, values, if_match}``: a PATCH over the version read before."""
    request = http.Request("PATCH", _url(ctx, f"/{quote(id_text(payload['id']), safe='')}"))
    request.json(_v2(payload.get("values")))
    if payload.get("if_match") is not None:
        request.header("if-match", f'"{payload["if_match"]}"')
    res = _send(ctx, request)
    if res.status == 412:
        raise Error.retryable(f"product {payload['id']} changed in the shop meanwhile")
    return {"version": res.error_for_status().json()["data"].get("updated_at")}


connector = export_connector(
    Connector().unit(kind.ADAPTER, "product", Unit({
        "list": list_products, "search": search, "read": read,
        "create": create, "find": find, "write": write,
    }))
)

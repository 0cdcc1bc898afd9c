"""Jobs that misbehave on purpose (the sandbox tests): ``spin`` loops forever,
``grow`` allocates until the memory cap, ``fetch {url}`` calls a host the
manifest does not grant, ``ok`` answers."""

from ferry_sdk import Connector, export_connector, http


def spin(ctx, payload):
    n = 0
    while True:
        n += 1


def grow(ctx, payload):
    hoard = []
    while True:
        hoard.append(bytearray(1 << 20))


def fetch(ctx, payload):
    return {"status": http.get(payload["url"]).status}


connector = export_connector(
    Connector()
    .job("spin", "Loop forever", spin)
    .job("grow", "Allocate until stopped", grow)
    .job("fetch", "GET a URL", fetch)
    .job("ok", "Answer", lambda ctx, payload: {"ok": True})
)

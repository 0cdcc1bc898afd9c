"""The component's export, ``ferry:connector/guest``: each call from the host
goes to the exported :class:`~ferry_sdk.connector.Connector`, with JSON
decoded and every exception turned into an error record (a guest never
traps on a Python exception)."""

from __future__ import annotations

import json
import traceback
from typing import Any, Callable

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import guest as wit
from wit_world.imports import ferry_connector_types as types

from .connector import SDK_VERSION, WebhookRequest, exported
from .context import Context, dumps
from .errors import Error


def _error_record(error: Exception) -> types.Error:
    if isinstance(error, Error):
        kind = types.ErrorKind[error.kind.upper().replace("-", "_")]
        return types.Error(kind, error.message, error.retry_after_ms)
    text = "".join(traceback.format_exception_only(type(error), error)).strip()
    return types.Error(types.ErrorKind.FINAL, f"{text} (Python exception)", None)


def _answer(ctx: Context, run: Callable[[], Any]) -> Any:
    try:
        return run()
    except Err:
        raise
    except Exception as error:  # noqa: BLE001: every failure becomes an error record
        if not isinstance(error, Error):
            ctx.log("error", traceback.format_exc())
        raise Err(_error_record(error)) from None


def _refuse(message: str) -> Any:
    raise Error.not_found(message)


class Guest(exports.Guest):
    """The exported interface (componentize-py finds it by this name)."""

    def describe(self) -> wit.Description:
        connector = exported()
        units = {}
        for (unit_kind, model), unit in connector.units.items():
            units[(unit_kind, model)] = list(unit.methods())
        return wit.Description(
            units=[wit.UnitDecl(k, m, methods) for (k, m), methods in units.items()],
            jobs=[wit.JobDecl(name, job.description, [], []) for name, job in connector.jobs.items()],
            events=list(connector.events),
            sdk_version=SDK_VERSION,
        )

    def invoke(self, session, kind: str, model: str, method: str, payload: str) -> str:
        ctx = Context(session)
        return _answer(ctx, lambda: dumps(exported().invoke(ctx, kind, model, method, json.loads(payload))))

    def run_job(self, session, job, name: str, payload: str) -> str:
        ctx = Context(session, job)
        return _answer(ctx, lambda: dumps(exported().run_job(ctx, name, json.loads(payload))))

    def handle_event(self, session, event) -> None:
        ctx = Context(session)
        _answer(ctx, lambda: _refuse(f"no handler for event `{event.name}`: name a job in the subscription"))

    def handle_webhook(self, session, hook: str, request) -> wit.WebhookResponse:
        ctx = Context(session)

        def run():
            req = WebhookRequest(request.method, request.path, request.query,
                                 list(request.headers), bytes(request.body))
            res = exported().handle_webhook(ctx, hook, req)
            return wit.WebhookResponse(res.status, list(res.headers), res.body)

        return _answer(ctx, run)

    def _no_steps(self, session) -> Any:
        ctx = Context(session)
        return _answer(ctx, lambda: _refuse("the Python SDK runs plain jobs; this module declares no steps"))

    def run_tasklet(self, session, step) -> str:
        return self._no_steps(session)

    def read_chunk(self, session, step, position, size) -> wit.Chunk:
        return self._no_steps(session)

    def process_chunk(self, session, step, items):
        return self._no_steps(session)

    def write_chunk(self, session, step, items) -> wit.Written:
        return self._no_steps(session)

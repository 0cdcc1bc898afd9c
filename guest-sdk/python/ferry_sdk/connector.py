"""The connector: the units and jobs a module implements, and what the host
dispatches to them.

.. code-block:: python

    connector = (
        Connector()
        .unit(kind.ADAPTER, "product", Collection("api/v1/products", shop))
        .unit(kind.MAPPER, "product", MapperUnit(import_mapper, export_mapper))
        .job("import-batch", "Enqueue one import per changed product", generic.import_batch)
    )
    export_connector(connector)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from .context import Context
from .errors import Error

#: The version of this SDK, reported by ``describe``.
SDK_VERSION = "ferry-sdk-python 0.1.0"


class kind:
    """The unit kinds of the framework (any other name works as well)."""

    ADAPTER = "adapter"
    MAPPER = "mapper"
    BINDER = "binder"
    IMPORTER = "importer"
    EXPORTER = "exporter"


class Unit:
    """A unit: named methods ``method(ctx, payload) -> answer`` (JSON values).

    Subclass it and list ``methods()``, or give a dict of functions:
    ``Unit({"quote": quote})``.
    """

    def __init__(self, methods: Optional[Dict[str, Callable[[Context, Any], Any]]] = None):
        self._methods = dict(methods or {})

    def methods(self) -> List[str]:
        """The method names the host may call."""
        return sorted(self._methods)

    def call(self, ctx: Context, method: str, payload: Any) -> Any:
        """Run ``method``."""
        try:
            run = self._methods[method]
        except KeyError:
            raise Error.not_found(f"no method `{method}`") from None
        return run(ctx, payload)


@dataclass
class WebhookRequest:
    """A call to one of the module's webhooks."""

    method: str
    path: str
    query: str
    headers: List[Tuple[str, str]]
    body: bytes

    def json(self) -> Any:
        """The body as JSON (a final error when it is not)."""
        try:
            return json.loads(self.body or b"null")
        except ValueError as e:
            raise Error.fatal(f"webhook body is not JSON: {e}") from None

    def header(self, name: str) -> Optional[str]:
        """The first value of a header (names are lower case)."""
        return next((v for k, v in self.headers if k == name.lower()), None)


@dataclass
class WebhookResponse:
    """The answer to a webhook call."""

    status: int = 200
    body: bytes = b""
    headers: List[Tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(cls, status: int, value: Any) -> "WebhookResponse":
        """A JSON answer."""
        return cls(status, json.dumps(value).encode(), [("content-type", "application/json")])


@dataclass
class _Job:
    description: str
    run: Callable[[Context, Any], Any]


class Connector:
    """What a module implements: units per (kind, model), jobs, webhooks."""

    def __init__(self) -> None:
        self.units: Dict[Tuple[str, str], Any] = {}
        self.jobs: Dict[str, _Job] = {}
        self.webhooks: Dict[str, Callable[[Context, WebhookRequest], WebhookResponse]] = {}
        self.events: List[str] = []

    def unit(self, unit_kind: str, model: str, unit: Any) -> "Connector":
        """Implement the unit ``unit_kind`` of ``model`` (``*``: every model)."""
        self.units[(unit_kind, model)] = unit
        return self

    def job(self, name: str, description: str, run: Callable[[Context, Any], Any]) -> "Connector":
        """Implement job ``name``: ``run(ctx, payload)`` returns its result."""
        self.jobs[name] = _Job(description, run)
        return self

    def webhook(self, name: str, handle: Callable[[Context, WebhookRequest], WebhookResponse]) -> "Connector":
        """Answer webhook ``name`` (declared in connector.toml)."""
        self.webhooks[name] = handle
        return self

    def event(self, name: str) -> "Connector":
        """Declare a custom event the module may emit."""
        self.events.append(name)
        return self

    # -- dispatch ----------------------------------------------------------
    def invoke(self, ctx: Context, unit_kind: str, model: str, method: str, payload: Any) -> Any:
        """Call a unit's method (the model's, else the ``*`` one)."""
        unit = self.units.get((unit_kind, model)) or self.units.get((unit_kind, "*"))
        if unit is None:
            raise Error.not_found(f"no {unit_kind} unit for model `{model}`")
        if method not in unit.methods():
            raise Error.not_found(f"the {unit_kind} of `{model}` has no method `{method}`")
        return unit.call(ctx, method, payload)

    def run_job(self, ctx: Context, name: str, payload: Any) -> Any:
        """Run job ``name``."""
        job = self.jobs.get(name)
        if job is None:
            raise Error.not_found(f"no job `{name}` in this module")
        return job.run(ctx, payload)

    def handle_webhook(self, ctx: Context, name: str, request: WebhookRequest) -> WebhookResponse:
        """Answer webhook ``name``."""
        handle = self.webhooks.get(name)
        if handle is None:
            raise Error.not_found(f"no webhook `{name}` in this module")
        return handle(ctx, request)


_EXPORTED: List[Connector] = []


def export_connector(connector: Connector) -> Connector:
    """Make ``connector`` the one the host calls (once per module)."""
    _EXPORTED[:] = [connector]
    return connector


def exported() -> Connector:
    """The exported connector (a final error when the module exported none)."""
    if not _EXPORTED:
        raise Error.fatal("the module exported no connector: call export_connector(connector)")
    return _EXPORTED[0]

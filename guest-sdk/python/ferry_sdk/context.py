"""The context of one call: the session's params and local records, units
of the backend chain, jobs, links, cursors, logs.

Every method takes and returns plain Python values (dicts, lists, str,
numbers); JSON crosses to the host and back underneath. A host error comes
back as :class:`ferry_sdk.Error` with its kind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, TypeVar

from componentize_py_types import Err
from wit_world.imports import (
    conflicts as _conflicts,
    cursors as _cursors,
    jobs as _jobs,
    links as _links,
    messaging as _messaging,
    secrets as _secrets,
    units as _units,
)
from wit_world.imports.ferry_connector_types import LogLevel

from .errors import Error, from_host

#: The context flag of writes that must not go back to the remote (imports).
NO_EXPORT = "no-export"

T = TypeVar("T")


def host(call: Callable[..., T], *args: Any) -> T:
    """Call a host function, raising :class:`Error` for its error record."""
    try:
        return call(*args)
    except Err as err:
        raise from_host(err) from None


def dumps(value: Any) -> str:
    """JSON text of ``value`` as the host expects it (compact, UTF-8)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass
class Record:
    """A local record: its id, model, field values and times (ms since the epoch)."""

    id: int
    model: str
    values: dict
    created_at: int
    updated_at: int


@dataclass
class Job:
    """A job to enqueue: ``ctx.enqueue(Job("import-record", {...}, identity_key=...))``."""

    name: str
    payload: Any
    priority: Optional[int] = None
    delay_ms: Optional[int] = None
    max_retries: Optional[int] = None
    identity_key: Optional[str] = None
    description: Optional[str] = None
    channel: Optional[str] = None


class Links:
    """The backend instance's links between local and external records."""

    def to_local(self, model: str, external_id: str) -> Optional[int]:
        """The local id bound to ``external_id``, or None."""
        link = host(_links.to_local, model, str(external_id))
        return link.local_id if link else None

    def to_external(self, model: str, local_id: int) -> Optional[str]:
        """The external id bound to ``local_id``, or None."""
        link = host(_links.to_external, model, local_id)
        return link.external_id if link else None

    def bind(self, model: str, local_id: int, external_id: str, data: Any = None) -> dict:
        """Bind ``local_id`` to ``external_id`` (replacing its link)."""
        link = host(_links.bind, model, local_id, str(external_id), _opt_json(data))
        return _link(link)

    def bind_synced(self, model: str, local_id: int, external_id: str,
                    remote_version: Optional[str], synced_revision: int, data: Any = None) -> dict:
        """Bind, recording both sides as synced: the remote at ``remote_version``,
        the local record at ``synced_revision``."""
        link = host(_links.bind_synced, model, local_id, str(external_id), remote_version,
                    synced_revision, _opt_json(data))
        return _link(link)

    def sync_state_of(self, model: str, local_id: int):
        """The link of ``local_id`` with the versions of its last sync, or None:
        ``.link``, ``.remote_version``, ``.synced_revision``, ``.revision``,
        ``.local_updated_at``."""
        return host(_links.sync_state_of, model, local_id)

    def begin_create(self, model: str, local_id: int):
        """Commit the intent to create ``local_id``'s external twin: ``.key`` (an
        idempotency key), ``.resumed`` (an earlier try made it), ``.revision``."""
        return host(_links.begin_create, model, local_id)


class Cursors:
    """Named positions in the remote's streams, committed with the job."""

    def get(self, name: str) -> Any:
        """The cursor's value, or None."""
        text = host(_cursors.get, name)
        return json.loads(text) if text is not None else None

    def set(self, name: str, value: Any) -> None:
        """Move the cursor; it commits when the job succeeds."""
        host(_cursors.set, name, dumps(value))


class Context:
    """What a unit method or a job gets: one call's session and the host's APIs."""

    links = Links()
    cursors = Cursors()

    def __init__(self, session, job=None):
        self._session = session
        self._job = job

    # -- the call ---------------------------------------------------------
    def info(self):
        """Instance, backend, module, user, flags and job id of this call."""
        return self._session.info()

    def param(self, key: str) -> Optional[str]:
        """A param of the backend instance, or None."""
        return self._session.param(key)

    def require_param(self, key: str) -> str:
        """A param that must be set (a final error names it otherwise)."""
        value = self._session.param(key)
        if value is None or value == "":
            raise Error.fatal(f"param `{key}` is not set on this backend instance")
        return value

    def params(self) -> dict:
        """Every param of the backend instance."""
        return json.loads(self._session.params())

    def has_flag(self, flag: str) -> bool:
        """Whether the call carries a context flag (e.g. ``no-export``)."""
        return self._session.has_flag(flag)

    def no_export(self) -> "Context":
        """A context whose writes fire no export (what an import writes)."""
        return Context(self._session.with_flags([NO_EXPORT]), self._job)

    # -- logs -------------------------------------------------------------
    def log(self, level: str, message: str) -> None:
        """A line in the job's log: level ``trace``, ``debug``, ``info``, ``warn``, ``error``."""
        self._session.log(LogLevel[level.upper()], message)

    def info_log(self, message: str) -> None:
        """An ``info`` line."""
        self.log("info", message)

    def warn_log(self, message: str) -> None:
        """A ``warn`` line."""
        self.log("warn", message)

    # -- local records ----------------------------------------------------
    def read(self, model: str, record_id: int) -> Record:
        """A local record."""
        r = host(self._session.read, model, record_id)
        return Record(r.id, r.model, json.loads(r.values), r.created_at, r.updated_at)

    def create(self, model: str, values: dict) -> int:
        """Create a local record; its id."""
        return host(self._session.create, model, dumps(values))

    def create_linked(self, model: str, values: dict, external_id: str) -> int:
        """Create a local record bound to ``external_id``, in one transaction."""
        return host(self._session.create_linked, model, dumps(values), str(external_id))

    def write(self, model: str, record_id: int, values: dict) -> None:
        """Merge ``values`` into a local record."""
        host(self._session.write, model, record_id, dumps(values))

    def checkpoint(self, model: str, record_id: int, message: str) -> None:
        """Flag a record for a person to review."""
        host(self._session.checkpoint, model, record_id, message)

    # -- units, jobs, secrets, messages -----------------------------------
    def call(self, kind: str, model: str, method: str, payload: Any) -> Any:
        """Call a unit of the backend chain (this module's, a parent's, in
        any language): ``ctx.call("adapter", "product", "read", {"id": "7"})``."""
        return json.loads(host(_units.call, kind, model, method, dumps(payload)))

    def call_parent(self, kind: str, model: str, method: str, payload: Any) -> Any:
        """Call the unit the parent backend has for this one (to extend it)."""
        return json.loads(host(_units.call_parent, kind, model, method, dumps(payload)))

    def enqueue(self, job: Job) -> int:
        """Enqueue a job of this backend instance; its id (an existing one
        for a pending job with the same identity key)."""
        spec = _jobs.JobSpec(job.name, dumps(job.payload), job.priority, None, job.delay_ms,
                             job.max_retries, job.identity_key, job.description, job.channel)
        return host(_jobs.enqueue, spec)

    def lock_or_retry(self, key: str) -> None:
        """Hold ``key`` for this job, or retry the job later if another holds it."""
        host(_jobs.lock_or_retry, key)

    def progress(self, total: int, done: int) -> None:
        """Report the running job's progress."""
        if self._job is not None:
            self._job.progress(total, done)

    def stop_requested(self) -> bool:
        """Whether an operator asked the running job to stop."""
        return self._job is not None and self._job.stop_requested()

    def attempt(self) -> int:
        """Which try of the running job this is, from 1 (1 outside a job)."""
        return self._job.attempt() if self._job is not None else 1

    def secret(self, name: str) -> str:
        """A secret of the backend instance the manifest lets this module reveal."""
        return host(_secrets.reveal, name)

    def publish(self, topic: str, payload: Any, key: Optional[str] = None) -> None:
        """Publish a JSON message to a topic (sent with the job's commit)."""
        host(_messaging.publish, topic, key, dumps(payload).encode(), [])

    def conflict_policy(self, model: str) -> str:
        """The model's conflict policy: ``remote-wins``, ``local-wins``,
        ``newest-wins`` or ``manual``."""
        return host(_conflicts.policy, model).name.lower().replace("_", "-")

    def report_conflict(self, model: str, local_id: int, external_id: str, local: Any,
                        remote: Any, take_local: Job, take_remote: Job) -> int:
        """Store a conflict for a person to decide; its id."""
        def ref(job: Job):
            return _conflicts.JobRef(job.name, dumps(job.payload))
        conflict = _conflicts.Conflict(model, local_id, str(external_id), dumps(local),
                                       dumps(remote), ref(take_local), ref(take_remote))
        return host(_conflicts.report, conflict)


def _opt_json(value: Any) -> Optional[str]:
    return None if value is None else dumps(value)


def _link(link) -> dict:
    return {"model": link.model, "local_id": link.local_id, "external_id": link.external_id,
            "sync_date": link.sync_date, "data": json.loads(link.data) if link.data else None}

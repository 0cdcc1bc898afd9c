"""The generic units and jobs of a two-way sync, the same protocol as the
Rust SDK's (so that a Python unit and a Rust one can stand in for each other
in a backend chain):

- :class:`LinkBinder` (``binder``): ``to_local``, ``to_external``, ``bind``
  over the host's links;
- :class:`Importer` (``importer``): ``run {external_id, resolution?}`` reads
  through the adapter, maps, writes locally with ``no-export`` and records
  both sides as synced; an unchanged record is skipped; a record changed on
  both sides is decided by the model's conflict policy;
- :class:`Exporter` (``exporter``): ``run {local_id, fields?, resolution?}``
  creates (after a create intent, with its idempotency key, so a retried
  create never makes two) or writes (``if_match``), and records both sides
  as synced; an unchanged record is skipped;
- jobs :func:`import_batch` ``{model, since?}`` (one ``import-record`` per
  changed id, then the cursor ``import:{model}`` moves, committed with the
  job), :func:`import_record` and :func:`export_record`.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable, List, Optional

from .context import Context, Job
from .errors import Error
from .mapper import id_text
from .rest import named_version


def version_of(record: Any, field: Optional[str] = None) -> str:
    """The record's version, or a hash of its content when it carries none."""
    named = named_version(record, field)
    if named is not None:
        return named
    text = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
    h = 0xCBF29CE484222325
    for byte in text:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"hash:{h:016x}"


def _local_changed(state) -> bool:
    return state.synced_revision is not None and state.synced_revision != state.revision


def _remote_changed(state, version: str) -> bool:
    return state.remote_version is not None and state.remote_version != version


def _take_local(model: str, local_id: int) -> Job:
    return Job("export-record", {"model": model, "record_id": local_id, "resolution": "local"})


def _take_remote(model: str, external_id: str) -> Job:
    return Job("import-record", {"model": model, "external_id": external_id, "resolution": "remote"})


def _settle(ctx: Context, model: str, local_id: int, external_id: str, local: dict,
            local_updated_at: int, remote: Any):
    """Which side wins a record changed on both sides: ``("local"|"remote", policy)``,
    or ``("reported", conflict_id)`` for a person to decide."""
    policy = ctx.conflict_policy(model)
    if policy == "remote-wins":
        return "remote", policy
    if policy == "local-wins":
        return "local", policy
    if policy == "newest-wins":
        remote_at = remote.get("updated_at") if isinstance(remote, dict) else None
        if isinstance(remote_at, (int, float)) and remote_at < 10**11:
            remote_at *= 1000  # seconds
        newer_remote = not isinstance(remote_at, (int, float)) or remote_at >= local_updated_at
        return ("remote" if newer_remote else "local"), policy
    conflict = ctx.report_conflict(model, local_id, external_id, local, remote,
                                   _take_local(model, local_id), _take_remote(model, external_id))
    return "reported", conflict


class LinkBinder:
    """The ``binder`` unit of a model, over the host's links."""

    def __init__(self, model: str):
        self.model = model

    def methods(self) -> List[str]:
        """``to_local``, ``to_external``, ``bind``."""
        return ["to_local", "to_external", "bind"]

    def call(self, ctx: Context, method: str, payload: Any) -> Any:
        """Translate or bind ids."""
        if method == "to_local":
            return {"local_id": ctx.links.to_local(self.model, id_text(payload["external_id"]))}
        if method == "to_external":
            return {"external_id": ctx.links.to_external(self.model, int(payload["local_id"]))}
        if method == "bind":
            return ctx.links.bind(self.model, int(payload["local_id"]),
                                  id_text(payload["external_id"]), payload.get("data"))
        raise Error.not_found(f"binder has no method `{method}`")


class Importer:
    """The ``importer`` unit of a model (see the module's docs).

    ``review(check)`` flags a record written with values for which
    ``check(values)`` names a reason."""

    def __init__(self, model: str, version_field: Optional[str] = None):
        self.model = model
        self.version_field = version_field
        self._review: Optional[Callable[[dict], Optional[str]]] = None

    def review(self, check: Callable[[dict], Optional[str]]) -> "Importer":
        """Checkpoint written records ``check`` has something to say of."""
        self._review = check
        return self

    def methods(self) -> List[str]:
        """``run``."""
        return ["run"]

    def call(self, ctx: Context, method: str, payload: Any) -> Any:
        """Import one record."""
        if method != "run":
            raise Error.not_found(f"importer has no method `{method}`")
        model, external_id = self.model, id_text(payload["external_id"])
        forced = payload.get("resolution") == "remote"
        # Two jobs importing one record at once would both create it.
        ctx.lock_or_retry(f"import:{model}:{external_id}")
        record = ctx.call("adapter", model, "read", {"id": external_id})
        version = version_of(record, self.version_field)
        local_id = ctx.call("binder", model, "to_local", {"external_id": external_id})["local_id"]
        writer = ctx.no_export()
        if local_id is None:
            values = ctx.call("mapper", model, "to_local", {"record": record, "for_create": True})
            # Record and link in one transaction, then the versions of both sides.
            local_id = writer.create_linked(model, values, external_id)
            ctx.links.bind_synced(model, local_id, external_id, version, 1)
            self._check(ctx, local_id, values)
            return {"local_id": local_id, "created": True}
        before = ctx.links.sync_state_of(model, local_id)
        if before is None:
            raise Error.retryable(f"{model} {local_id}: its link to {external_id} was removed meanwhile")
        decided = None
        if not forced:
            if before.remote_version == version:
                ctx.log("debug", f"{model} {external_id}: unchanged since the last sync ({version})")
                return {"local_id": local_id, "created": False, "skipped": True}
            if _local_changed(before) and _remote_changed(before, version):
                local = ctx.read(model, local_id)
                side, detail = _settle(ctx, model, local_id, external_id, local.values,
                                       before.local_updated_at, record)
                if side == "reported":
                    return {"local_id": local_id, "created": False, "skipped": True,
                            "conflict": "manual", "id": detail}
                if side == "local":
                    job = _take_local(model, local_id)
                    job.identity_key = f"export:{model}:{local_id}"
                    job_id = ctx.enqueue(job)
                    return {"local_id": local_id, "created": False, "skipped": True,
                            "conflict": detail, "export_job": job_id}
                decided = detail
        values = ctx.call("mapper", model, "to_local", {"record": record, "for_create": False})
        current = ctx.read(model, local_id).values
        synced = before.revision
        if any(current.get(k) != v for k, v in values.items()):
            writer.write(model, local_id, values)
            self._check(ctx, local_id, values)
            synced += 1
        ctx.links.bind_synced(model, local_id, external_id, version, synced)
        out = {"local_id": local_id, "created": False}
        if decided:
            out["conflict"] = decided
        return out

    def _check(self, ctx: Context, local_id: int, values: dict) -> None:
        reason = self._review(values) if self._review else None
        if reason:
            ctx.checkpoint(self.model, local_id, reason)


class Exporter:
    """The ``exporter`` unit of a model (see the module's docs)."""

    def __init__(self, model: str, version_field: Optional[str] = None):
        self.model = model
        self.version_field = version_field

    def methods(self) -> List[str]:
        """``run``."""
        return ["run"]

    def call(self, ctx: Context, method: str, payload: Any) -> Any:
        """Export one record."""
        if method != "run":
            raise Error.not_found(f"exporter has no method `{method}`")
        local_id = int(payload["local_id"])
        external_id = ctx.call("binder", self.model, "to_external", {"local_id": local_id})["external_id"]
        if external_id is None:
            return self._create(ctx, local_id)
        fields = payload.get("fields")
        return self._update(ctx, local_id, external_id, fields if isinstance(fields, list) else None,
                            payload.get("resolution") == "local")

    def _version_after(self, ctx: Context, answer: Any, external_id: str) -> str:
        version = answer.get("version") if isinstance(answer, dict) else None
        if version is not None:
            return id_text(version)
        record = ctx.call("adapter", self.model, "read", {"id": external_id})
        return version_of(record, self.version_field)

    def _create(self, ctx: Context, local_id: int) -> dict:
        model = self.model
        intent = ctx.links.begin_create(model, local_id)
        # Read after the intent: the values sent are at least as new as the
        # revision bound as synced.
        record = ctx.read(model, local_id)
        if intent.resumed:
            found = self._find(ctx, intent.key)
            if found is not None:
                version = self._version_after(ctx, found, found["id"])
                ctx.links.bind_synced(model, local_id, found["id"], version, intent.revision)
                ctx.info_log(f"{model} {local_id}: an earlier try created it as {found['id']} "
                             f"(found by key {intent.key}); bound instead of created again")
                return {"external_id": found["id"], "created": False, "reconciled": True}
        data = ctx.call("mapper", model, "to_external",
                        {"values": record.values, "fields": None, "for_create": True})
        answer = ctx.call("adapter", model, "create", {"values": data, "idempotency_key": intent.key})
        if answer.get("id") is None:
            raise Error.fatal(f"the adapter's create of {model} {local_id} answered no `id`")
        external_id = id_text(answer["id"])
        version = self._version_after(ctx, answer, external_id)
        ctx.links.bind_synced(model, local_id, external_id, version, intent.revision)
        return {"external_id": external_id, "created": True}

    def _find(self, ctx: Context, key: str) -> Optional[dict]:
        """The record an earlier create made with ``key``, when the adapter can
        find it (an adapter without ``find`` relies on its idempotency key)."""
        try:
            found = ctx.call("adapter", self.model, "find", {"idempotency_key": key})
        except Error as e:
            if e.kind == "not-found":
                return None
            raise
        if not isinstance(found, dict) or found.get("id") is None:
            return None
        return {"id": id_text(found["id"]), "version": found.get("version")}

    def _update(self, ctx: Context, local_id: int, external_id: str,
                fields: Optional[list], forced: bool) -> dict:
        model = self.model
        state = ctx.links.sync_state_of(model, local_id)
        if state is None:
            raise Error.retryable(f"{model} {local_id}: its link to {external_id} was removed meanwhile")
        # Bound as synced: the revision read before the values sent.
        revision = state.revision
        record = ctx.read(model, local_id)
        if not forced and state.synced_revision == state.revision:
            ctx.log("debug", f"{model} {local_id}: unchanged since the last sync")
            return {"external_id": external_id, "created": False, "skipped": True}
        remote = ctx.call("adapter", model, "read", {"id": external_id})
        version = version_of(remote, self.version_field)
        if_match = named_version(remote, self.version_field)
        decided = None
        if not forced and _remote_changed(state, version):
            side, detail = _settle(ctx, model, local_id, external_id, record.values,
                                   state.local_updated_at, remote)
            if side == "reported":
                return {"external_id": external_id, "created": False, "skipped": True,
                        "conflict": "manual", "id": detail}
            if side == "remote":
                job = _take_remote(model, external_id)
                job.identity_key = f"import:{model}:{external_id}"
                job_id = ctx.enqueue(job)
                return {"external_id": external_id, "created": False, "skipped": True,
                        "conflict": detail, "import_job": job_id}
            decided, fields = detail, None
        data = ctx.call("mapper", model, "to_external",
                        {"values": record.values, "fields": fields, "for_create": False})
        answer = ctx.call("adapter", model, "write", {"id": external_id, "values": data, "if_match": if_match})
        ctx.links.bind_synced(model, local_id, external_id,
                              self._version_after(ctx, answer, external_id), revision)
        out = {"external_id": external_id, "created": False}
        if decided:
            out["conflict"] = decided
        return out


def import_cursor(model: str) -> str:
    """The cursor of a model's batch import."""
    return f"import:{model}"


def import_batch(ctx: Context, payload: Any) -> Any:
    """Job ``import-batch {model, since?}``: enqueue one ``import-record`` per
    record the adapter's ``search`` lists as changed, then move the cursor
    (which commits with this job: a batch that fails leaves it as it was)."""
    model = payload["model"]
    cursor_name = import_cursor(model)
    given = payload.get("since")
    since = given if given is not None else ctx.cursors.get(cursor_name)
    started = int(time.time() * 1000)
    found = ctx.call("adapter", model, "search", {"since": since})
    ids = found.get("ids")
    if not isinstance(ids, list):
        raise Error.fatal("adapter `search` returned no `ids` list")
    for done, record_id in enumerate(ids):
        if ctx.stop_requested():
            ctx.warn_log(f"stopped by an operator after {done} of {len(ids)}; "
                         f"cursor `{cursor_name}` stays at {since}")
            return {"enqueued": done, "stopped": True}
        external_id = id_text(record_id)
        ctx.enqueue(Job("import-record", {"model": model, "external_id": external_id},
                        identity_key=f"import:{model}:{external_id}",
                        description=f"Import {model} {external_id}"))
        ctx.progress(len(ids), done + 1)
    if given is None:
        cursor = found.get("cursor")
        ctx.cursors.set(cursor_name, cursor if cursor is not None else started)
    ctx.info_log(f"enqueued {len(ids)} {model} imports changed since {since}")
    return {"enqueued": len(ids)}


def import_record(ctx: Context, payload: Any) -> Any:
    """Job ``import-record {model, external_id, resolution?}``: run the model's importer."""
    run = {"external_id": id_text(payload["external_id"])}
    if "resolution" in payload:
        run["resolution"] = payload["resolution"]
    return ctx.call("importer", payload["model"], "run", run)


def export_record(ctx: Context, payload: Any) -> Any:
    """Job ``export-record {model, record_id, changed_fields?, resolution?}``
    (fed by a ``record.updated`` event): run the model's exporter."""
    run = {"local_id": int(payload["record_id"]), "fields": payload.get("changed_fields")}
    if "resolution" in payload:
        run["resolution"] = payload["resolution"]
    return ctx.call("exporter", payload["model"], "run", run)

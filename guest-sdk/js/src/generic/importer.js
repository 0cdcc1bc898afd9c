// The generic importer: read through the adapter, map, write locally with
// `no-export`, and record both sides as synced.

import { FerryError } from "../errors.js";
import { jsonEqual } from "../json.js";
import { kind } from "../unit.js";
import { LOCAL, REMOTE, enqueueForced, settle, takeLocal } from "./conflict.js";
import { forced, idField, onlyRun } from "./payload.js";
import { versionOf } from "./version.js";

/**
 * The `importer` unit of a model: read through the adapter, map, write
 * locally with `no-export`, bind with the versions of both sides.
 *
 * `run` `{external_id, resolution?}` → `{local_id, created}`, plus
 * `skipped: true` when nothing was written and `conflict` (the policy's
 * name) when both sides had changed:
 * - a record whose remote version is the one of the last sync is skipped;
 * - a record changed on both sides is decided by the model's conflict
 *   policy: `remote-wins` imports, `local-wins` skips and enqueues the export
 *   of the local version, `newest-wins` picks by time, `manual` stores a
 *   conflict (the answer then names it as `id`);
 * - `resolution: "remote"` imports without asking.
 */
export class Importer {
  /** @param {string} model */
  constructor(model) {
    this.model = model;
    this.versionFieldName = undefined;
    this.check = undefined;
  }

  /**
   * Take the remote version from this field of the record (e.g. `rev`)
   * instead of `updated_at`/`etag`/`version`.
   */
  versionField(field) {
    this.versionFieldName = field;
    return this;
  }

  /**
   * Flag a record this importer wrote for a person to review (a
   * checkpoint) when `check`, given the values written, names a reason:
   * `.review((v) => v.list_price === 0 ? "sold for nothing" : undefined)`.
   * @param {(values: object) => string | undefined | null} check
   */
  review(check) {
    this.check = check;
    return this;
  }

  /** The methods it answers. */
  methods() {
    return ["run"];
  }

  /** Import one record: `run` `{external_id, resolution?}`. */
  call(ctx, method, payload) {
    onlyRun("importer", method);
    const model = this.model;
    const externalId = idField(payload, "external_id");
    const force = forced(payload, "importer", REMOTE);
    // Two jobs importing one record at once (its own import and another
    // record's dependency) would both create it.
    ctx.lockOrRetry(`import:${model}:${externalId}`);
    const record = ctx.call(kind.ADAPTER, model, "read", { id: externalId });
    const version = versionOf(record, this.versionFieldName);
    const localId = ctx.call(kind.BINDER, model, "to_local", { external_id: externalId }).local_id;
    // Written with no-export: what comes from the remote must not go back to it.
    const writer = ctx.noExport();
    if (localId === null || localId === undefined) {
      const values = ctx.call(kind.MAPPER, model, "to_local", { record, for_create: true });
      // Record and link in one transaction: a crash between the two would
      // make the next try create the record again. The versions follow.
      const created = writer.createLinked(model, values, externalId);
      // A new record is at revision 1: what was just written.
      ctx.links.bindSynced(model, created, externalId, version, 1);
      this.#review(ctx, created, values);
      return { local_id: created, created: true };
    }

    // The revision before this import's write, read before the values it is compared with.
    const before = ctx.links.syncStateOf(model, localId);
    if (!before) throw FerryError.retryable(`${model} ${localId}: its link to ${externalId} was removed meanwhile`);
    let decided;
    if (force) {
      ctx.info(`${model} ${localId}: importing ${externalId} over the local version (resolution: remote)`);
    } else {
      if (before.remoteVersion === version) {
        ctx.debug(`${model} ${externalId}: unchanged since the last sync (version ${version})`);
        return { local_id: localId, created: false, skipped: true };
      }
      if (before.localChanged() && before.remoteChanged(version)) {
        const local = ctx.read(model, localId);
        const settled = settle(ctx, {
          model,
          localId,
          externalId,
          local: local.values,
          localUpdatedAt: before.localUpdatedAt,
          remote: record,
        });
        if (settled.reported !== undefined) {
          return { local_id: localId, created: false, skipped: true, conflict: "manual", id: settled.reported };
        }
        if (settled.side === LOCAL) {
          const job = enqueueForced(ctx, takeLocal(model, localId), `export:${model}:${localId}`);
          ctx.info(`${model} ${localId}: not imported; its export is job ${job}`);
          return { local_id: localId, created: false, skipped: true, conflict: settled.policy, export_job: job };
        }
        decided = settled.policy;
      }
    }
    const values = ctx.call(kind.MAPPER, model, "to_local", { record, for_create: false });
    // The revision this import leaves synced: the one before it if it writes
    // nothing new, else the next one. A local change made meanwhile makes
    // the write land one revision later, so the link claims less than the
    // record holds and that change still goes out; it never claims more.
    const current = ctx.read(model, localId).values;
    const changes = Object.entries(values).some(([k, v]) => !jsonEqual(current[k], v));
    let synced = before.revision;
    if (changes) {
      writer.write(model, localId, values);
      this.#review(ctx, localId, values);
      synced += 1;
    }
    ctx.links.bindSynced(model, localId, externalId, version, synced);
    const out = { local_id: localId, created: false };
    if (decided) out.conflict = decided;
    return out;
  }

  /** Checkpoint `localId` when the review has something to say of `values`. */
  #review(ctx, localId, values) {
    const message = this.check?.(values);
    if (message) ctx.checkpoint(this.model, localId, message);
  }
}

// The generic exporter: read locally, map, create or write through the
// adapter, and record both sides as synced; a create is made safe to retry
// by a create intent, a write by the versions of both sides.

import { ErrorKind, FerryError } from "../errors.js";
import { kind } from "../unit.js";
import { LOCAL, enqueueForced, settle, takeRemote } from "./conflict.js";
import { forced, idField, localIdField, onlyRun } from "./payload.js";
import { namedVersion, versionOf, versionText } from "./version.js";

/**
 * The `exporter` unit of a model: read locally, map, create or write
 * through the adapter, bind with the versions of both sides.
 *
 * `run` `{local_id, fields?, resolution?}` → `{external_id, created}`, plus:
 * - for a record without a link: a create intent is committed first, and
 *   its key goes to the adapter's `create` as `idempotency_key`; when a try
 *   was cut short after the remote create, the next one finds the intent
 *   (`resumed`), asks the adapter to `find` the record by that key and
 *   binds it (`reconciled: true`) instead of creating a second one;
 * - for a linked record unchanged since the last sync: `skipped: true`,
 *   and no call to the remote;
 * - for a record changed on both sides: the model's conflict policy
 *   decides (`conflict` names it);
 * - `resolution: "local"` writes without asking.
 *
 * Writes carry `if_match`, the version the remote record carried when just
 * read (null when it carries none), so that a change made in between is
 * refused and seen by the next try.
 */
export class Exporter {
  /** @param {string} model */
  constructor(model) {
    this.model = model;
    this.versionFieldName = undefined;
  }

  /** Take the remote version from this field (use the importer's field). */
  versionField(field) {
    this.versionFieldName = field;
    return this;
  }

  /** The methods it answers. */
  methods() {
    return ["run"];
  }

  /** Export one record: `run` `{local_id, fields?, resolution?}`. */
  call(ctx, method, payload) {
    onlyRun("exporter", method);
    const localId = localIdField(payload, "local_id");
    const force = forced(payload, "exporter", LOCAL);
    const externalId = ctx.call(kind.BINDER, this.model, "to_external", { local_id: localId }).external_id;
    const exported =
      externalId === null || externalId === undefined
        ? this.#create(ctx, localId)
        : this.#update(ctx, localId, String(externalId), force ? undefined : payload.fields, force);
    if (exported.synced) {
      const { externalId: bound, version, revision } = exported.synced;
      ctx.links.bindSynced(this.model, localId, bound, version, revision);
    }
    return exported.answer;
  }

  /**
   * Export a record that has no link: reconcile with a create an earlier try
   * made, or create. The values sent are read after the create intent is
   * committed: the intent's revision is the one bound as synced.
   */
  #create(ctx, localId) {
    const model = this.model;
    const intent = ctx.links.beginCreate(model, localId);
    const record = ctx.read(model, localId);
    // An earlier try that did not bind may have created the record.
    const found = intent.resumed ? find(ctx, model, intent.key, localId) : undefined;
    if (found) {
      const externalId = idField(found, "id");
      ctx.info(
        `${model} ${localId}: an earlier try created it as ${externalId} (found by key ${intent.key}); bound instead of created again`,
      );
      return {
        answer: { external_id: externalId, created: false, reconciled: true },
        synced: this.#synced(ctx, externalId, found, intent.revision),
      };
    }
    const data = ctx.call(kind.MAPPER, model, "to_external", { values: record.values, fields: null, for_create: true });
    const answer = ctx.call(kind.ADAPTER, model, "create", { values: data, idempotency_key: intent.key });
    const externalId = idField(answer, "id");
    return {
      answer: { external_id: externalId, created: true },
      synced: this.#synced(ctx, externalId, answer, intent.revision),
    };
  }

  /** Export a linked record: skip it when unchanged, decide a conflict, write. */
  #update(ctx, localId, externalId, fields, force) {
    const model = this.model;
    const state = ctx.links.syncStateOf(model, localId);
    if (!state) throw FerryError.retryable(`${model} ${localId}: its link to ${externalId} was removed meanwhile`);
    // The revision bound as synced is the one read before the values, so
    // that a change made meanwhile is never marked as sent.
    const sentRevision = state.revision;
    const record = ctx.read(model, localId);
    if (force) {
      ctx.info(`${model} ${localId}: exporting over ${externalId} (resolution: local)`);
    } else if (state.syncedRevision === state.revision) {
      ctx.debug(`${model} ${localId}: unchanged since the last sync`);
      return { answer: { external_id: externalId, created: false, skipped: true } };
    }
    const remote = ctx.call(kind.ADAPTER, model, "read", { id: externalId });
    const ifMatch = namedVersion(remote, this.versionFieldName) ?? null;
    let decided;
    if (!force && state.remoteChanged(versionOf(remote, this.versionFieldName))) {
      const settled = settle(ctx, {
        model,
        localId,
        externalId,
        local: record.values,
        localUpdatedAt: state.localUpdatedAt,
        remote,
      });
      if (settled.reported !== undefined) {
        return {
          answer: { external_id: externalId, created: false, skipped: true, conflict: "manual", id: settled.reported },
        };
      }
      if (settled.side !== LOCAL) {
        const job = enqueueForced(ctx, takeRemote(model, externalId), `import:${model}:${externalId}`);
        ctx.info(`${model} ${localId}: not exported; the import of ${externalId} is job ${job}`);
        return {
          answer: { external_id: externalId, created: false, skipped: true, conflict: settled.policy, import_job: job },
        };
      }
      decided = settled.policy;
    }
    // The local version wins as a whole after a conflict, not only the
    // fields that changed locally.
    const data = ctx.call(kind.MAPPER, model, "to_external", {
      values: record.values,
      fields: decided ? null : (fields ?? null),
      for_create: false,
    });
    const answer = ctx.call(kind.ADAPTER, model, "write", { id: externalId, values: data, if_match: ifMatch });
    const out = { external_id: externalId, created: false };
    if (decided) out.conflict = decided;
    return { answer: out, synced: this.#synced(ctx, externalId, answer, sentRevision) };
  }

  /**
   * The link to record as synced: at `revision` and at the remote version
   * the adapter's `answer` gives, else the record read again (the version
   * recorded must be the one the importer will compare with).
   */
  #synced(ctx, externalId, answer, revision) {
    let version = versionText(answer?.version);
    if (version === undefined) {
      const record = ctx.call(kind.ADAPTER, this.model, "read", { id: externalId });
      version = versionOf(record, this.versionFieldName);
    }
    return { externalId, version, revision };
  }
}

/**
 * Ask the adapter for the record an earlier try created with `key`: its
 * answer `{id, version?}`, or undefined when the remote holds none. An
 * adapter without `find` counts as "not there", with a warning.
 */
function find(ctx, model, key, localId) {
  let answer;
  try {
    answer = ctx.call(kind.ADAPTER, model, "find", { idempotency_key: key, local_id: localId });
  } catch (e) {
    const error = FerryError.from(e);
    if (error.kind !== ErrorKind.NOT_FOUND) throw error;
    ctx.warn(
      `${model} ${localId}: an earlier try did not finish, and the adapter cannot look for its record (${error.message}); creating again with the same idempotency key ${key}`,
    );
    return undefined;
  }
  if (answer?.id === null || answer?.id === undefined) {
    ctx.info(`${model} ${localId}: an earlier try did not finish; the remote has no record with key ${key}: creating it`);
    return undefined;
  }
  return answer;
}

// Links (bindings) between local and external records, with the versions
// both sides had at the last sync, and create intents.

import { host, links as wit, num, parse, u64 } from "./host.js";

/**
 * @typedef {object} Link A binding of one local record to one external record.
 * @property {string} model model of the local record
 * @property {number} localId local record id
 * @property {string} externalId id of the record in the external system
 * @property {number | undefined} syncDate last synchronisation, ms since the epoch
 * @property {any} data connector data kept with the link
 */

/**
 * @typedef {object} Pair A couple of ids of two external systems.
 * @property {string} label what the couple means, e.g. `github-trello`
 * @property {string} leftId id in the first system
 * @property {string} rightId id in the second system
 * @property {any} data connector data kept with the couple
 * @property {number} updatedAt when it was last bound, ms since the epoch
 */

/**
 * @typedef {object} CreateIntent An intent to create the external twin of a
 * local record, committed before the create is sent.
 * @property {string} key the same on every try until the record is bound:
 *   send it as `Idempotency-Key`, or keep it in an external reference field
 * @property {boolean} resumed an earlier try made it and did not bind: find
 *   the record by `key` before creating again
 * @property {number} createdAt when the intent was first made, ms
 * @property {number} revision the local record's revision now: read its
 *   values after it, and bind as synced at it
 */

function link(l) {
  return {
    model: l.model,
    localId: num(l.localId),
    externalId: l.externalId,
    syncDate: num(l.syncDate),
    data: parse(l.data, "the data of a link"),
  };
}

function pair(p) {
  return {
    label: p.label,
    leftId: p.leftId,
    rightId: p.rightId,
    data: parse(p.data, "the data of a pair"),
    updatedAt: num(p.updatedAt),
  };
}

/** Optional connector data as the host takes it: JSON text, or none. */
function dataText(value) {
  return value === undefined || value === null ? undefined : JSON.stringify(value);
}

/**
 * What a link knew at the last sync, and where the local record stands now:
 * how an importer or exporter tells which side changed.
 */
export class SyncState {
  /** @param {any} state the WIT `sync-state` */
  constructor(state) {
    /** @type {Link} the link itself */
    this.link = link(state.link);
    /** @type {string | undefined} version of the external record at the last sync */
    this.remoteVersion = state.remoteVersion;
    /** @type {number | undefined} revision of the local record at the last sync (none for `bind`) */
    this.syncedRevision = num(state.syncedRevision);
    /** @type {number} revision of the local record now */
    this.revision = num(state.revision);
    /** @type {number} when the local record last changed, ms */
    this.localUpdatedAt = num(state.localUpdatedAt);
  }

  /**
   * Whether the local record changed since the last sync. A link that
   * recorded no revision (made by `bind`) says nothing either way: `false`.
   */
  localChanged() {
    return this.syncedRevision !== undefined && this.syncedRevision !== this.revision;
  }

  /**
   * Whether the external record changed since the last sync, given its
   * version now. Unknown (no version recorded) counts as not changed.
   * @param {string} versionNow
   */
  remoteChanged(versionNow) {
    return this.remoteVersion !== undefined && this.remoteVersion !== versionNow;
  }
}

/** The links of the current backend instance: `ctx.links`. */
export class Links {
  /**
   * Bind a local record to an external id (replacing any binding of
   * either), stamping the sync date.
   * @returns {Link}
   */
  bind(model, localId, externalId, data = undefined) {
    return link(host(() => wit.bind(model, u64(localId), String(externalId), dataText(data))));
  }

  /** The link of a local record, or undefined. */
  toExternal(model, localId) {
    const found = host(() => wit.toExternal(model, u64(localId)));
    return found === undefined ? undefined : link(found);
  }

  /** The link of an external record, or undefined. */
  toLocal(model, externalId) {
    const found = host(() => wit.toLocal(model, String(externalId)));
    return found === undefined ? undefined : link(found);
  }

  /**
   * Links of a model, by local id, optionally only those synced before a
   * time (ms); at most `limit` (and 10 000) from `offset`.
   * @returns {Link[]}
   */
  search(model, { syncedBefore, limit, offset = 0 } = {}) {
    const time = syncedBefore === undefined ? undefined : BigInt(syncedBefore);
    return host(() => wit.search(model, time, limit, offset)).map(link);
  }

  /** Remove the link of a local record; whether there was one. */
  unbind(model, localId) {
    return host(() => wit.unbind(model, u64(localId)));
  }

  /**
   * The sync state of a local record's link (versions of both sides at the
   * last sync, the local revision now); undefined when it has no link.
   * @returns {SyncState | undefined}
   */
  syncStateOf(model, localId) {
    const state = host(() => wit.syncStateOf(model, u64(localId)));
    return state === undefined ? undefined : new SyncState(state);
  }

  /**
   * Bind like {@link Links#bind} and record both sides as synced: the
   * external record at `remoteVersion`, the local one at `syncedRevision`
   * (the revision whose values were sent or written, never a later one).
   * Ends any create intent of the record.
   * @returns {Link}
   */
  bindSynced(model, localId, externalId, remoteVersion, syncedRevision, data = undefined) {
    const version = remoteVersion === undefined || remoteVersion === null ? undefined : String(remoteVersion);
    return link(
      host(() =>
        wit.bindSynced(model, u64(localId), String(externalId), version, u64(syncedRevision, "revision"), dataText(data)),
      ),
    );
  }

  /**
   * Commit (at once) an intent to create the external twin of a local
   * record, or get back the unfinished one an earlier try left (`resumed`).
   * @returns {CreateIntent}
   */
  beginCreate(model, localId) {
    const intent = host(() => wit.beginCreate(model, u64(localId)));
    return {
      key: intent.key,
      resumed: intent.resumed,
      createdAt: num(intent.createdAt),
      revision: num(intent.revision),
    };
  }

  /** Couple two external ids under a label. @returns {Pair} */
  bindPair(label, leftId, rightId, data = undefined) {
    return pair(host(() => wit.bindPair(label, String(leftId), String(rightId), dataText(data))));
  }

  /** The couple whose left id is given, or undefined. */
  pairByLeft(label, leftId) {
    const found = host(() => wit.pairByLeft(label, String(leftId)));
    return found === undefined ? undefined : pair(found);
  }

  /** The couple whose right id is given, or undefined. */
  pairByRight(label, rightId) {
    const found = host(() => wit.pairByRight(label, String(rightId)));
    return found === undefined ? undefined : pair(found);
  }

  /** Remove the couple whose left id is given; whether there was one. */
  unbindPair(label, leftId) {
    return host(() => wit.unbindPair(label, String(leftId)));
  }
}

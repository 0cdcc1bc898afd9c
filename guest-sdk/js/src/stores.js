// Cursors, conflicts, and the meta and blobs stores of the backend instance.

import { blobs, bytes, conflicts, cursors, host, meta, num, parse, text, u64 } from "./host.js";

/**
 * Cursors: how far a job has read a stream of changes (e.g.
 * `import:product`), per backend instance. In a job, `set` commits with the
 * job's `done` state: a try that fails leaves the cursor where it was.
 */
export class Cursors {
  /**
   * The committed value of stream `name`, or undefined before the first
   * commit (in a job that already set it: still the committed value).
   */
  get(name) {
    const value = host(() => cursors.get(name));
    return value === undefined ? undefined : parse(value, `cursor \`${name}\``);
  }

  /** Set stream `name` to `value` (any JSON value). */
  set(name, value) {
    host(() => cursors.set(name, text(value)));
  }
}

/**
 * How a conflict of a model is decided (per backend instance and model,
 * `manual` when the operator set nothing).
 * @readonly
 * @enum {string}
 */
export const ConflictPolicy = Object.freeze({
  /** The external record is imported over the local one. */
  REMOTE_WINS: "remote-wins",
  /** The local record is exported over the external one. */
  LOCAL_WINS: "local-wins",
  /** The side changed last wins (by timestamps). */
  NEWEST_WINS: "newest-wins",
  /** Nothing is written: a conflict is stored for a person to resolve. */
  MANUAL: "manual",
});

/**
 * @typedef {object} JobRef A job the host enqueues when a person resolves a conflict.
 * @property {string} name a job of the backend chain, e.g. `export-record`
 * @property {any} payload its payload
 */

/**
 * @typedef {object} Conflict Both versions of a record, changed since the last sync.
 * @property {string} model
 * @property {number} localId
 * @property {string} externalId
 * @property {object} local the local record's values
 * @property {object} remote the external record mapped to local fields
 * @property {JobRef} takeLocal what applies the local version (a forced export)
 * @property {JobRef} takeRemote what applies the external version (a forced import)
 */

/** Conflicts of the backend instance: the operator's policy, and reports for a person. */
export class Conflicts {
  /** The policy for `model` (a {@link ConflictPolicy} value). */
  policy(model) {
    return host(() => conflicts.policy(model));
  }

  /**
   * Store a conflict for a person (`ferry conflicts list|show|resolve`); an
   * open conflict of the same record is replaced. Returns its id.
   * @param {Conflict} conflict
   * @returns {number}
   */
  report(conflict) {
    const job = (ref) => ({ name: ref.name, payload: text(ref.payload) });
    return num(
      host(() =>
        conflicts.report({
          model: conflict.model,
          localId: u64(conflict.localId),
          externalId: String(conflict.externalId),
          local: text(conflict.local),
          remote: text(conflict.remote),
          takeLocal: job(conflict.takeLocal),
          takeRemote: job(conflict.takeRemote),
        }),
      ),
    );
  }
}

/**
 * The instance's key-value store (`[capabilities.meta]` grants prefixes).
 * Values are bytes; strings are stored as UTF-8 and other values as JSON.
 * Writes take effect at once, not with the job's commit.
 */
export class Meta {
  /** The bytes at `key` (a Uint8Array), or undefined. */
  get(key) {
    return host(() => meta.get(key));
  }

  /** The value at `key` read as JSON, or undefined. */
  getJson(key) {
    const value = this.get(key);
    return value === undefined ? undefined : parse(new TextDecoder().decode(value), `meta \`${key}\``);
  }

  /** Store `value` (bytes, a string, or any value as JSON) at `key`. */
  set(key, value) {
    host(() => meta.set(key, bytes(value)));
  }

  /** Remove `key`; whether there was a value. */
  delete(key) {
    return host(() => meta.delete(key));
  }

  /** Keys under `prefix`, in byte order, after `after`, at most `limit` (≤ 1000). */
  listKeys(prefix, { after, limit = 1000 } = {}) {
    return host(() => meta.listKeys(prefix, after, limit));
  }
}

/**
 * The instance's object store (`[capabilities.blobs]` grants prefixes).
 * Keys are `/`-separated paths; writes take effect at once.
 */
export class Blobs {
  /** The bytes at `key` (a Uint8Array), or undefined. */
  get(key) {
    return host(() => blobs.get(key));
  }

  /** Store `data` (bytes, a string, or any value as JSON) at `key`. */
  put(key, data) {
    host(() => blobs.put(key, bytes(data)));
  }

  /** Remove `key`; whether there was a blob. */
  delete(key) {
    return host(() => blobs.delete(key));
  }

  /**
   * Blobs under `prefix`, in key order, after `after`, at most `limit` (≤ 1000).
   * @returns {{key: string, size: number}[]}
   */
  list(prefix, { after, limit = 1000 } = {}) {
    return host(() => blobs.listBlobs(prefix, after, limit)).map((b) => ({ key: b.key, size: num(b.size) }));
  }
}

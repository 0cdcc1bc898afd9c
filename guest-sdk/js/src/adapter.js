// Adapters: the remote side of a model, speaking the adapter protocol the
// generic importer and exporter call (through the host, so that a child
// module that overrides the adapter is used by the parent's importer).

import { FerryError } from "./errors.js";
import { idText } from "./json.js";
import { versionText } from "./generic/version.js";
import { noMethod } from "./unit.js";

/** The methods of the adapter protocol. */
export const ADAPTER_METHODS = ["search", "read", "create", "find", "write", "delete"];

/**
 * @typedef {object} Saved A record the remote holds after a create, find or write.
 * @property {any} id its id on the remote
 * @property {any} [version] its version there, when the answer says it
 *   (none costs the exporter one more `read`)
 */

/**
 * @typedef {object} AdapterMethods What an adapter implements; all optional
 * but `search` and `read` (to import) and `create` and `write` (to export).
 * Each may be async.
 * @property {(ctx, since: any) => ({ids: any[], cursor?: any}) | Promise<{ids: any[], cursor?: any}>} [search]
 *   the ids changed since `since` (the last cursor; undefined: all), and where the next search starts
 * @property {(ctx, id: string) => any} [read] the record `id`
 * @property {(ctx, values: object, idempotencyKey: string) => Saved} [create]
 *   create a record; send the key as `Idempotency-Key` (or keep it in a reference field)
 * @property {(ctx, idempotencyKey: string, localId: number) => Saved | undefined} [find]
 *   the record an earlier create made with that key, if any
 * @property {(ctx, id: string, values: object, ifMatch: string | undefined) => any} [write]
 *   write over record `id` (only over version `ifMatch` when given; a refusal is
 *   retryable); answer its new version when the remote says it
 * @property {(ctx, id: string) => void} [delete] delete record `id`
 */

/**
 * The unit of an adapter: extend it and define the methods of
 * {@link AdapterMethods}, or pass them to {@link adapter}. It answers the
 * adapter protocol (`search {since}` → `{ids, cursor}`, `read {id}`,
 * `create {values, idempotency_key}` → `{id, version}`, `find
 * {idempotency_key, local_id}` → `{id, version}` or `{id: null}`, `write
 * {id, values, if_match}` → `{version}`, `delete {id}` → `{}`).
 */
export class Adapter {
  /** @param {AdapterMethods} [methods] the methods, when not defined by a subclass */
  constructor(methods) {
    this.#impl = methods ?? this;
  }

  #impl;

  /** The protocol methods it implements. */
  methods() {
    return ADAPTER_METHODS.filter((m) => typeof this.#impl[m] === "function");
  }

  /** Run one method of the adapter protocol. */
  async call(ctx, method, payload) {
    const impl = this.#impl;
    if (typeof impl[method] !== "function" || !ADAPTER_METHODS.includes(method)) {
      throw noMethod("the adapter", method, this.methods());
    }
    const p = payload ?? {};
    switch (method) {
      case "search": {
        const found = await impl.search(ctx, p.since ?? undefined);
        if (!Array.isArray(found?.ids)) throw FerryError.fatal("the adapter's `search` answered no `ids` list");
        return { ids: found.ids, cursor: found.cursor ?? null };
      }
      case "read":
        return impl.read(ctx, idText(p.id));
      case "create":
        return saved(await impl.create(ctx, p.values, p.idempotency_key ?? ""));
      case "find": {
        const found = await impl.find(ctx, p.idempotency_key ?? "", p.local_id);
        return found ? saved(found) : { id: null };
      }
      case "write": {
        const version = await impl.write(ctx, idText(p.id), p.values, versionText(p.if_match));
        return { version: version ?? null };
      }
      default:
        await impl.delete(ctx, idText(p.id));
        return {};
    }
  }
}

function saved(s) {
  return { id: s?.id ?? null, version: s?.version ?? null };
}

/**
 * An adapter unit from an object of methods:
 * `connector.unit(kind.ADAPTER, "note", adapter({ search, read }))`.
 * @param {AdapterMethods} methods
 */
export function adapter(methods) {
  return new Adapter(methods);
}

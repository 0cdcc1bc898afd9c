// The adapter of a usual REST collection, configured instead of written.

import { Adapter } from "../adapter.js";
import { FerryError } from "../errors.js";
import { namedVersion, newer, versionText } from "../generic/version.js";
import { Paging } from "./paging.js";

/** A version as an `If-Match` entity tag: quoted, unless it already is one. */
function entityTag(version) {
  return version.startsWith('"') || version.startsWith('W/"') ? version : `"${version}"`;
}

/**
 * The adapter of a REST collection: `GET {path}` lists (paged, filtered by
 * a "changed since" parameter), `GET {path}/{id}` reads, `POST {path}`
 * creates (with the exporter's idempotency key in a header), `PUT
 * {path}/{id}` writes (with `If-Match` over the version read: a 412 is a
 * retryable error, so the next try sees the change and checks for a
 * conflict), `DELETE {path}/{id}` deletes. Register it as the `adapter`
 * unit of a model.
 *
 * @example
 * const products = new rest.Collection("api/v1/products", (ctx) =>
 *     rest.Rest.fromParam(ctx, "url").header("x-api-key", ctx.param("api_key") ?? ""))
 *   .paging(rest.Paging.pageNumber("page").perPage("per_page", 200).lastPageAt("/pages"))
 *   .records("/items")
 *   .changedSince("updated_since", "updated_at")
 *   .idempotencyHeader("idempotency-key")
 *   .ifMatch();
 */
export class Collection extends Adapter {
  /**
   * The collection at `path` (relative to the API's base URL) of the API
   * `api` makes for each call (from the instance's params, say). By
   * default: one page, the body is the array, records keyed by `id`,
   * written with `PUT`.
   * @param {string} path
   * @param {(ctx: import("../context.js").Context) => import("./client.js").Rest | Promise<import("./client.js").Rest>} api
   */
  constructor(path, api) {
    super();
    this.path = path.replace(/\/+$/, "");
    this.api = api;
    this.config = {
      paging: Paging.none(),
      records: "",
      primaryKey: "id",
      changedSince: undefined,
      versionField: undefined,
      writeMethod: "PUT",
      ifMatch: false,
      idempotencyHeader: undefined,
      readOnly: undefined,
    };
  }

  /** How the list is paged (a `Paging`). */
  paging(paging) {
    this.config.paging = paging;
    return this;
  }

  /** Where a page's records are (a JSON pointer, e.g. `/items`). */
  records(pointer) {
    this.config.records = pointer;
    return this;
  }

  /** The field that holds a record's id (`id` unless said). */
  primaryKey(field) {
    this.config.primaryKey = field;
    return this;
  }

  /**
   * Ask only what changed since the last search with query parameter
   * `param`, set to the newest `field` listed the time before.
   */
  changedSince(param, field) {
    this.config.changedSince = { param, field };
    return this;
  }

  /** The field that holds a record's version, when not `updated_at`, `etag` or `version`. */
  versionField(field) {
    this.config.versionField = field;
    return this;
  }

  /** Write with this method (`PATCH`…) instead of `PUT`. */
  writeMethod(method) {
    this.config.writeMethod = method.toUpperCase();
    return this;
  }

  /** Send the version read as `If-Match` with every write. */
  ifMatch() {
    this.config.ifMatch = true;
    return this;
  }

  /** Send the exporter's idempotency key in this header with every create. */
  idempotencyHeader(header) {
    this.config.idempotencyHeader = header;
    return this;
  }

  /** Refuse creates, writes and deletes with this message (say how to allow them). */
  readOnly(message) {
    this.config.readOnly = message;
    return this;
  }

  /**
   * Every page of the list since `since`; the next search starts at the
   * newest change listed (or at `since` again when nothing changed).
   */
  async search(ctx, since) {
    const { changedSince, paging, records } = this.config;
    const from = versionText(since);
    const query = changedSince && from !== undefined ? { [changedSince.param]: from } : {};
    const items = await (await this.api(ctx)).list(this.path, query, paging, records);
    const ids = items.map((item) => this.#idOf(item));
    // Without a "changed since" filter every batch reads everything; the
    // importer's version check skips what did not change.
    const cursor = this.#newest(items) ?? (changedSince ? since : undefined);
    return { ids, cursor };
  }

  /** The record `id`. */
  async read(ctx, id) {
    return (await this.api(ctx)).get(`${this.path}/${encodeURIComponent(id)}`);
  }

  /** `POST` the values, with the idempotency key in its header when configured. */
  async create(ctx, values, idempotencyKey) {
    this.#writable();
    const { idempotencyHeader } = this.config;
    const headers = idempotencyHeader ? { [idempotencyHeader]: idempotencyKey } : {};
    const answer = await (await this.api(ctx)).send("POST", this.path, { json: values, headers });
    return this.#saved(answer.json());
  }

  /** Write over `id`, with `If-Match` when configured; a 412 is retryable. */
  async write(ctx, id, values, ifMatch) {
    this.#writable();
    const headers = this.config.ifMatch && ifMatch !== undefined ? { "if-match": entityTag(ifMatch) } : {};
    const path = `${this.path}/${encodeURIComponent(id)}`;
    const response = await (await this.api(ctx)).request(this.config.writeMethod, path, { json: values, headers });
    if (response.status === 412) {
      throw FerryError.retryable(`${this.path} ${id} changed remotely meanwhile: the next try checks for a conflict`);
    }
    response.errorForStatus();
    return response.body.length ? this.#saved(response.json()).version : undefined;
  }

  /** `DELETE` record `id`. */
  async delete(ctx, id) {
    this.#writable();
    await (await this.api(ctx)).send("DELETE", `${this.path}/${encodeURIComponent(id)}`);
  }

  #writable() {
    if (this.config.readOnly) throw FerryError.fatal(this.config.readOnly);
  }

  /** What a create or write answered: the id and, when it says it, the version. */
  #saved(record) {
    return { id: record?.[this.config.primaryKey], version: namedVersion(record, this.config.versionField) };
  }

  #idOf(record) {
    const id = record?.[this.config.primaryKey];
    if (id === undefined || id === null) {
      throw FerryError.fatal(
        `a record of ${this.path} has no \`${this.config.primaryKey}\` (its primary key): ${JSON.stringify(record)}`,
      );
    }
    return id;
  }

  #newest(records) {
    const field = this.config.changedSince?.field;
    if (!field) return undefined;
    const values = records.map((r) => r?.[field]).filter((v) => v !== undefined && v !== null);
    return values.length ? values.reduce(newer) : undefined;
  }
}

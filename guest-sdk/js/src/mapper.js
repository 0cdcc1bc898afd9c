// Declarative mappers: external record ⇄ local values, as lists of rules
// (direct fields, converted or not; methods that return several fields;
// rules applied only on create; bindings of ids through the links;
// submappings of child lists such as order lines).

import { FerryError } from "./errors.js";
import { idText, isObject } from "./json.js";
import { kind, noMethod } from "./unit.js";

const IMPORT = "import";
const EXPORT = "export";

/** Whether `fields` (none: every field) names `from`. */
const wanted = (fields, from) => !fields || fields.includes(from);

/**
 * A list of mapping rules; `new Mapper()` maps external records to local
 * values (import), `Mapper.export()` local values to external records.
 *
 * @example
 * const line = new Mapper().direct("qty", "quantity").directWith("price", "price_unit", convert.float);
 * const order = new Mapper()
 *   .direct("number", "name")
 *   .onCreate("created", "imported_at")
 *   .method((rec) => ({ total: rec.lines.length }))
 *   .submapping("lines", "order_lines", line);
 * order.map(undefined, { number: "S1", created: 5, lines: [{ qty: 2, price: "3.5" }] }, true);
 * // → { name: "S1", imported_at: 5, total: 1, order_lines: [{ quantity: 2, price_unit: 3.5 }] }
 */
export class Mapper {
  /** An import mapper with no rules. */
  constructor(direction = IMPORT) {
    this.#direction = direction;
  }

  #direction;
  #rules = [];

  /** An export mapper with no rules (bindings map local ids to external ids). */
  static export() {
    return new Mapper(EXPORT);
  }

  #push(rule, onlyOnCreate = false) {
    this.#rules.push({ ...rule, onlyOnCreate });
    return this;
  }

  /** Copy field `from` of the source to field `to`. */
  direct(from, to) {
    return this.#push({ type: "direct", from, to });
  }

  /**
   * Copy field `from` to `to` through `convert` (see `convert`, or any
   * function of the value).
   * @param {string} from
   * @param {string} to
   * @param {(value: any) => any} convert
   */
  directWith(from, to, convert) {
    return this.#push({ type: "direct", from, to, convert });
  }

  /** Copy `from` to `to` only when the record is being created. */
  onCreate(from, to) {
    return this.#push({ type: "direct", from, to }, true);
  }

  /**
   * Code that reads the whole source and returns an object of fields (or
   * null for none).
   * @param {(source: any) => object | null | undefined} fn
   */
  method(fn) {
    return this.#push({ type: "method", fn });
  }

  /** A method mapping applied only when the record is being created. */
  methodOnCreate(fn) {
    return this.#push({ type: "method", fn }, true);
  }

  /**
   * Field `from` holds an id of `model` on the other side: map it through
   * the links. On import an unknown external id is imported first (the
   * model's importer runs), as a dependency; on export a local id not yet
   * exported is a retryable error.
   */
  binding(from, to, model) {
    return this.#push({ type: "binding", from, to, model });
  }

  /** Field `from` is a list of children (order lines): map each with `child`. */
  submapping(from, to, child) {
    return this.#push({ type: "sub", from, to, mapper: child });
  }

  /**
   * Map one source object. `ctx` is needed only by binding rules;
   * `forCreate` enables the only-on-create rules.
   * @param {import("./context.js").Context | undefined} ctx
   * @param {object} source
   * @param {boolean} [forCreate]
   * @returns {object}
   */
  map(ctx, source, forCreate = false) {
    return this.mapFields(ctx, source, forCreate, undefined);
  }

  /**
   * Like {@link Mapper#map}, but direct, binding and submapping rules whose
   * source field is not in `fields` are skipped (an export of the fields
   * that changed). Method rules always run.
   * @param {import("./context.js").Context | undefined} ctx
   * @param {object} source
   * @param {boolean} forCreate
   * @param {string[] | undefined} fields
   */
  mapFields(ctx, source, forCreate, fields) {
    if (!isObject(source)) throw FerryError.fatal(`cannot map ${JSON.stringify(source)}: not an object`);
    const out = {};
    for (const rule of this.#rules) {
      if (rule.onlyOnCreate && !forCreate) continue;
      if (rule.type === "method") {
        Object.assign(out, fieldsOf(rule.fn, source));
        continue;
      }
      if (!Object.hasOwn(source, rule.from) || !wanted(fields, rule.from)) continue;
      const value = source[rule.from];
      if (rule.type === "direct") {
        out[rule.to] = rule.convert ? convertField(rule, value) : value;
      } else if (rule.type === "binding") {
        out[rule.to] = this.#bindId(ctx, rule.model, value);
      } else {
        out[rule.to] = submap(ctx, rule, value, forCreate);
      }
    }
    return out;
  }

  /** An id of `model` mapped through the links. */
  #bindId(ctx, model, value) {
    if (value === null || value === undefined) return null;
    if (!ctx) throw FerryError.fatal(`mapping a \`${model}\` id needs a context`);
    if (this.#direction === IMPORT) {
      const externalId = idText(value);
      const link = ctx.links.toLocal(model, externalId);
      if (link) return link.localId;
      // Import the dependency first, as Odoo's importers do.
      const out = ctx.call(kind.IMPORTER, model, "run", { external_id: externalId });
      if (out?.local_id === undefined) {
        throw FerryError.fatal(`importing ${model} ${externalId} as a dependency returned no local_id`);
      }
      return out.local_id;
    }
    if (!Number.isSafeInteger(value)) throw FerryError.fatal(`${JSON.stringify(value)} is not a local ${model} id`);
    const link = ctx.links.toExternal(model, value);
    if (!link) throw FerryError.retryable(`${model} ${value} is not exported yet`);
    return link.externalId;
  }
}

/** What a method rule returns, checked. */
function fieldsOf(fn, source) {
  const fields = fn(source);
  if (fields === null || fields === undefined) return {};
  if (!isObject(fields)) throw FerryError.fatal(`a method mapping returned ${JSON.stringify(fields)}, not an object`);
  return fields;
}

function convertField(rule, value) {
  try {
    return rule.convert(value);
  } catch (e) {
    throw FerryError.from(e).context(`field \`${rule.from}\``);
  }
}

function submap(ctx, rule, children, forCreate) {
  if (!Array.isArray(children)) throw FerryError.fatal(`field \`${rule.from}\` is not a list`);
  try {
    return children.map((child) => rule.mapper.map(ctx, child, forCreate));
  } catch (e) {
    throw FerryError.from(e).context(`submapping \`${rule.from}\``);
  }
}

const METHODS = ["to_local", "to_local_batch", "to_external"];

/**
 * The `mapper` unit of one model: an import and an export mapper.
 *
 * Methods: `to_local` `{record, for_create}` → values; `to_local_batch`
 * `{records, for_create}` → list of values; `to_external` `{values,
 * fields?, for_create}` → record (only the `fields` given, when a non-empty
 * list).
 */
export class MapperUnit {
  /**
   * @param {Mapper} importMapper external record → local values
   * @param {Mapper} exportMapper local values → external record
   */
  constructor(importMapper, exportMapper) {
    /** The import direction. */
    this.importMapper = importMapper;
    /** The export direction. */
    this.exportMapper = exportMapper;
  }

  /** The methods it answers. */
  methods() {
    return [...METHODS];
  }

  /** Run one method of the mapper protocol. */
  call(ctx, method, payload) {
    const forCreate = payload?.for_create === true;
    switch (method) {
      case "to_local":
        return this.importMapper.map(ctx, payload?.record, forCreate);
      case "to_local_batch": {
        if (!Array.isArray(payload?.records)) throw FerryError.fatal("`records` must be a list");
        return payload.records.map((r) => this.importMapper.map(ctx, r, forCreate));
      }
      case "to_external": {
        const given = payload?.fields;
        const fields = Array.isArray(given) && given.length ? given.map(idText) : undefined;
        return this.exportMapper.mapFields(ctx, payload?.values, forCreate, fields);
      }
      default:
        throw noMethod("mapper", method, METHODS);
    }
  }
}

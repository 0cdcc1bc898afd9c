// Units: pieces with one responsibility, registered per model, answering
// named methods with JSON in and JSON out.

import { FerryError } from "./errors.js";

/**
 * The standard unit kinds (any other string is a custom kind).
 * @readonly
 */
export const kind = Object.freeze({
  /** Turns external records into local values and back. */
  MAPPER: "mapper",
  /** Speaks the external system's protocol (`search`, `read`, `create`, `find`, `write`, `delete`). */
  ADAPTER: "adapter",
  /** Keeps the links between local and external ids. */
  BINDER: "binder",
  /** Imports one external record. */
  IMPORTER: "importer",
  /** Exports one local record. */
  EXPORTER: "exporter",
  /** Deletes a record on the other side. */
  DELETER: "deleter",
});

/**
 * A not-found error for a method a unit does not answer.
 * @param {string} what the unit, e.g. `mapper`
 * @param {string} method
 * @param {string[]} methods what it answers
 */
export function noMethod(what, method, methods) {
  return FerryError.notFound(`${what} has no method \`${method}\` (it has: ${methods.join(", ") || "none"})`);
}

/**
 * A unit from an object of methods, each `(ctx, payload, model) => answer`
 * (or a Promise of it):
 *
 * @example
 * const pricing = unit.fromMethods({
 *   quote: (ctx, { sku, quantity }) => ({ total: quantity * 9.5 }),
 * });
 * new Connector().unit("pricing", "product", pricing);
 *
 * @param {Record<string, (ctx: import("./context.js").Context, payload: any, model: string) => any>} methods
 */
export function fromMethods(methods) {
  const names = Object.keys(methods);
  return {
    methods: () => names,
    call(ctx, method, payload, model) {
      if (!Object.hasOwn(methods, method)) throw noMethod("unit", method, names);
      return methods[method](ctx, payload, model);
    },
  };
}

/**
 * A unit from one function that answers `methods` (it receives the method
 * name): `fromFn(["search", "read"], (ctx, method, payload) => …)`.
 * @param {string[]} methods
 * @param {(ctx: import("./context.js").Context, method: string, payload: any, model: string) => any} fn
 */
export function fromFn(methods, fn) {
  return {
    methods: () => [...methods],
    call(ctx, method, payload, model) {
      if (!methods.includes(method)) throw noMethod("unit", method, methods);
      return fn(ctx, method, payload, model);
    },
  };
}

/**
 * A unit for every model, made by `make(ctx, model)` for each call: register
 * it for `*` when the models are known only at run time.
 * @example
 * connector.unit(kind.IMPORTER, "*", unit.perModel(["run"], (ctx, model) => new generic.Importer(model)));
 * @param {string[]} methods
 * @param {(ctx: import("./context.js").Context, model: string) => any} make
 */
export function perModel(methods, make) {
  return {
    methods: () => [...methods],
    async call(ctx, method, payload, model) {
      const unit = await make(ctx, model);
      return unit.call(ctx, method, payload, model);
    },
  };
}

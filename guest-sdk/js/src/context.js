// The context of one call: the host's session (who, which backend instance,
// which flags, the local records), the running job, and the host's other
// interfaces.

import { FerryError } from "./errors.js";
import { bytes, events, host, jobs, messaging, num, optU64, parse, secrets, text, u64, units } from "./host.js";
import { Links } from "./links.js";
import { Blobs, Conflicts, Cursors, Meta } from "./stores.js";

/** The flag that keeps a write from firing record events (and so from being exported back). */
export const NO_EXPORT = "no-export";

/**
 * Conditions of {@link Context#search}: `filter.eq("active", true)`.
 * Each makes `{field, op, value}`; a plain object of that shape works too.
 */
export const filter = Object.freeze({
  /** `field == value` */
  eq: (field, value) => ({ field, op: "eq", value }),
  /** `field != value` */
  ne: (field, value) => ({ field, op: "ne", value }),
  /** `field < value` */
  lt: (field, value) => ({ field, op: "lt", value }),
  /** `field <= value` */
  le: (field, value) => ({ field, op: "le", value }),
  /** `field > value` */
  gt: (field, value) => ({ field, op: "gt", value }),
  /** `field >= value` */
  ge: (field, value) => ({ field, op: "ge", value }),
  /** SQL `LIKE` on the field's text (`%` and `_` wildcards). */
  like: (field, pattern) => ({ field, op: "like", value: pattern }),
  /** The field equals one of `values`. */
  oneOf: (field, values) => ({ field, op: "one-of", value: values }),
});

/**
 * @typedef {object} LocalRecord A local record.
 * @property {number} id id of the record in its model
 * @property {string} model model name, e.g. `product`
 * @property {object} values field values
 * @property {number} createdAt creation time, ms since the epoch
 * @property {number} updatedAt last write time, ms since the epoch
 */

function record(r) {
  return {
    id: num(r.id),
    model: r.model,
    values: parse(r.values, `the values of ${r.model} ${r.id}`),
    createdAt: num(r.createdAt),
    updatedAt: num(r.updatedAt),
  };
}

/**
 * @typedef {object} JobSpec A job to enqueue; only `name` is required.
 * @property {string} name a job of a module of the current backend chain
 * @property {any} [payload] its payload (JSON; default `{}`)
 * @property {number} [priority] lower runs first (default 10)
 * @property {number} [eta] run no earlier than this time, ms since the epoch
 * @property {number} [delayMs] or: no earlier than this many ms from now
 * @property {number} [maxRetries] tries after the first failure (default 5)
 * @property {string} [identityKey] at most one pending job with this key per instance
 * @property {string} [description] shown to operators
 * @property {string} [channel] channel to run in, e.g. `root.shop`
 */

/**
 * Everything a unit, job or handler can do, for one call. The SDK makes one
 * per call of the host and hands it to your code.
 */
export class Context {
  /**
   * @param {any} session the host's `session` resource
   * @param {any} [job] the host's `job-run` resource, in a job
   */
  constructor(session, job = undefined) {
    this.session = session;
    this.job = job;
    /** Links (bindings) of this backend instance. */
    this.links = new Links();
    /** Cursors of this backend instance (committed with the job's `done`). */
    this.cursors = new Cursors();
    /** Conflicts of this backend instance: the policy per model, and reports. */
    this.conflicts = new Conflicts();
    /** The instance's key-value store. */
    this.meta = new Meta();
    /** The instance's object store. */
    this.blobs = new Blobs();
  }

  /**
   * What this call is: `{instance, backend, module, moduleBackend, user,
   * contextFlags, jobId}`.
   */
  callInfo() {
    const info = host(() => this.session.info());
    return { ...info, jobId: num(info.jobId) };
  }

  /** A param of the backend instance (its manifest default when unset), or undefined. */
  param(key) {
    return host(() => this.session.param(key));
  }

  /** A param that must be set: a final error naming it otherwise. */
  requireParam(key) {
    const value = this.param(key);
    if (value === undefined) {
      throw FerryError.fatal(`param \`${key}\` is not set on backend instance \`${this.callInfo().instance}\``);
    }
    return value;
  }

  /** All params of the backend instance, an object. */
  params() {
    return parse(host(() => this.session.params()), "the instance's params");
  }

  /** Whether a context flag is set. */
  hasFlag(flag) {
    return host(() => this.session.hasFlag(flag));
  }

  /** A context like this one with more flags set. */
  withFlags(flags) {
    return new Context(host(() => this.session.withFlags(flags)), this.job);
  }

  /**
   * A context whose writes fire no record events: for writing what was just
   * imported, so that it is not exported back.
   */
  noExport() {
    return this.withFlags([NO_EXPORT]);
  }

  /**
   * Write a line to this run's log (kept with the job).
   * @param {"trace"|"debug"|"info"|"warn"|"error"} level
   * @param {string} message
   */
  log(level, message) {
    host(() => this.session.log(level, String(message)));
  }

  /** Write a debug line to this run's log. */
  debug(message) {
    this.log("debug", message);
  }

  /** Write an info line to this run's log. */
  info(message) {
    this.log("info", message);
  }

  /** Write a warning to this run's log. */
  warn(message) {
    this.log("warn", message);
  }

  /** Write an error line to this run's log. */
  error(message) {
    this.log("error", message);
  }

  /** Read a local record. @returns {LocalRecord} */
  read(model, id) {
    return record(host(() => this.session.read(model, u64(id))));
  }

  /**
   * Local records matching all filters (see {@link filter}), by id, from
   * `offset`, at most `limit` (and at most 10 000 per call).
   * @returns {LocalRecord[]}
   */
  search(model, filters = [], { limit, offset = 0 } = {}) {
    const wit = filters.map((f) => ({ field: f.field, op: f.op, value: text(f.value) }));
    return host(() => this.session.search(model, wit, limit, offset)).map(record);
  }

  /** Create a local record; its id. Fires `record.created` unless `no-export`. */
  create(model, values) {
    return num(host(() => this.session.create(model, text(values))));
  }

  /**
   * Create a local record bound to `externalId` of this backend instance, in
   * one transaction with its link (what importers use). Its id.
   */
  createLinked(model, values, externalId) {
    return num(host(() => this.session.createLinked(model, text(values), String(externalId))));
  }

  /** Merge values into a local record; fires `record.updated` unless `no-export`. */
  write(model, id, values) {
    host(() => this.session.write(model, u64(id), text(values)));
  }

  /** Delete a local record. */
  unlink(model, id) {
    host(() => this.session.unlink(model, u64(id)));
  }

  /** Flag a record for a person to review (`ferry checkpoints`). */
  checkpoint(model, id, message) {
    host(() => this.session.checkpoint(model, u64(id), String(message)));
  }

  /**
   * Call a unit, looked up from the instance's backend down its parents,
   * in this module or any other of the chain, whatever its language.
   * @returns {any} the unit's answer
   */
  call(kind, model, method, payload = {}) {
    return parse(host(() => units.call(kind, model, method, text(payload))), `${kind} \`${model}\`.${method}`);
  }

  /** Call the unit that the running module overrides (its parent's): `super`. */
  callParent(kind, model, method, payload = {}) {
    return parse(host(() => units.callParent(kind, model, method, text(payload))), `${kind} \`${model}\`.${method}`);
  }

  /**
   * Enqueue a job for this backend instance; its id.
   * @param {JobSpec} job
   */
  enqueue(job) {
    const spec = {
      name: job.name,
      payload: text(job.payload ?? {}),
      priority: job.priority,
      eta: job.eta === undefined ? undefined : BigInt(job.eta),
      delayMs: optU64(job.delayMs, "delayMs"),
      maxRetries: job.maxRetries,
      identityKey: job.identityKey,
      description: job.description,
      channel: job.channel,
    };
    return num(host(() => jobs.enqueue(spec)));
  }

  /**
   * Take lock `key` until this run ends; if another run holds it, a
   * retryable error (let it through: the job is tried again shortly).
   */
  lockOrRetry(key) {
    host(() => jobs.lockOrRetry(key));
  }

  /**
   * Emit a custom event (declared with `Connector#emits`) for this instance.
   * @param {string} name
   * @param {string} model
   * @param {number | undefined} recordId
   * @param {any} payload
   */
  emit(name, model, recordId, payload = {}) {
    host(() => events.emit(name, model, optU64(recordId, "record id"), text(payload)));
  }

  /**
   * Add a subscription at runtime: `event` on `models` enqueues `job`
   * (none: `handleEvent`). Its id.
   */
  subscribe({ event, models = [], job, priority = 10 }) {
    return num(host(() => events.subscribe({ event, models, job, priority })));
  }

  /** Remove a runtime subscription; whether there was one. */
  unsubscribe(id) {
    return host(() => events.unsubscribe(u64(id, "subscription id")));
  }

  /**
   * The value of secret `name` of this call's backend instance: `denied`
   * unless the manifest lists it in `[capabilities] reveal`. Prefer a sealed
   * credential (`http` option `credential`) when it only goes into requests.
   */
  secret(name) {
    return host(() => secrets.reveal(name));
  }

  /**
   * Publish `payload` (bytes, a string, or any value as JSON) to `topic`
   * (allowed by `[capabilities] publish`); in a job it is sent once the job
   * commits.
   * @param {string} topic
   * @param {any} payload
   * @param {{key?: string, headers?: Record<string, string> | [string, string][]}} [options]
   */
  publish(topic, payload, { key, headers = [] } = {}) {
    const pairs = Array.isArray(headers) ? headers : Object.entries(headers);
    host(() => messaging.publish(topic, key, bytes(payload), pairs));
  }

  /** The id of the running job, or undefined outside jobs. */
  get jobId() {
    return this.job ? num(host(() => this.job.id())) : undefined;
  }

  /** Which try of the running job this is (1 outside jobs). */
  get attempt() {
    return this.job ? host(() => this.job.attempt()) : 1;
  }

  /** Report progress of the running job: `done` of `total` (no-op outside jobs). */
  progress(total, done) {
    if (this.job) host(() => this.job.progress(BigInt(total), BigInt(done)));
  }

  /** Whether an operator asked the running job to stop. */
  stopRequested() {
    return this.job ? host(() => this.job.stopRequested()) : false;
  }
}

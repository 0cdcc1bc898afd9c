// The connector: what a module implements, and the `guest` export the host
// calls, dispatching to it.

import { Context } from "./context.js";
import { FerryError } from "./errors.js";
import { num, parse, text } from "./host.js";
import { WebhookRequest } from "./webhook.js";

/** The version of this SDK, reported by `describe` as `ferry-sdk-js <version>`. */
export const SDK_VERSION = "0.1.0";

/**
 * @typedef {object} Unit A unit: named methods, JSON in and out.
 * @property {() => string[]} methods the methods it answers (shown by `describe`)
 * @property {(ctx: Context, method: string, payload: any, model: string) => any} call
 *   run one method; may return a Promise (it is awaited)
 */

/**
 * @typedef {object} ParamDecl A parameter of a job (the host checks payloads against it).
 * @property {string} name
 * @property {"string"|"integer"|"number"|"boolean"|"enumeration"|"list"|"date"|"duration"|"url"} type
 * @property {boolean} [required]
 * @property {any} [default] the value when none is given
 * @property {number} [minimum] smallest value, or fewest items of a list
 * @property {number} [maximum] largest value, or most items of a list
 * @property {string} [pattern] a regular expression a string must match whole
 * @property {any[]} [oneOf] the allowed values
 * @property {string} [description]
 */

/**
 * @typedef {object} Event An event delivered to {@link Connector#onEvent}.
 * @property {string} name `record.created`, `record.updated`, `record.deleted` or a custom name
 * @property {string} model
 * @property {number | undefined} recordId the record, when the event is about one
 * @property {string[]} changedFields for `record.updated`: the fields that changed
 * @property {any} payload extra data (for record events: the record's values)
 */

function paramToWit(p) {
  return {
    name: p.name,
    type: p.type ?? "string",
    required: Boolean(p.required),
    default: p.default === undefined ? undefined : JSON.stringify(p.default),
    minimum: p.minimum,
    maximum: p.maximum,
    pattern: p.pattern,
    oneOf: (p.oneOf ?? []).map((v) => JSON.stringify(v)),
    description: p.description ?? "",
  };
}

/** `names` as a list for an error message. */
function known(names) {
  return names.length ? names.join(", ") : "none";
}

/**
 * The units, jobs, event handler and webhooks of one connector module.
 * Build it once at the top of the entry module and export its guest:
 *
 * @example
 * const connector = new Connector()
 *   .unit(kind.ADAPTER, "product", products)
 *   .job("import-batch", "Import what changed", generic.importBatch);
 * export const guest = connector.guest();
 */
export class Connector {
  #units = [];
  #jobs = [];
  #webhooks = new Map();
  #events = [];
  #eventHandler = undefined;

  /**
   * Register a unit of `kind` for `model` (`*` for every model).
   * @param {string} kind see `kind`
   * @param {string} model
   * @param {Unit} unit
   */
  unit(kind, model, unit) {
    if (typeof unit?.call !== "function" || typeof unit?.methods !== "function") {
      throw new TypeError(`the ${kind} unit of \`${model}\` needs methods() and call(ctx, method, payload)`);
    }
    this.#units.push({ kind, model, unit });
    return this;
  }

  /**
   * Register a job: `run(ctx, payload)` returns its result (any JSON value,
   * or a Promise of it). `options.params` declares typed parameters that
   * the host checks and fills in with defaults before the job runs.
   * @param {string} name
   * @param {string} description
   * @param {(ctx: Context, payload: any) => any} run
   * @param {{params?: ParamDecl[]}} [options]
   */
  job(name, description, run, { params = [] } = {}) {
    this.#jobs.push({ name, description, run, params });
    return this;
  }

  /**
   * Handle events subscribed to without a job (`[[subscription]]` with no `job`).
   * @param {(ctx: Context, event: Event) => any} handler
   */
  onEvent(handler) {
    this.#eventHandler = handler;
    return this;
  }

  /**
   * Handle webhook `name` (declared as `[[webhook]]` in `connector.toml`,
   * where its authentication is set); `handler` answers a `WebhookResponse`.
   * @param {string} name
   * @param {(ctx: Context, request: WebhookRequest) => any} handler
   */
  webhook(name, handler) {
    this.#webhooks.set(name, handler);
    return this;
  }

  /** Declare a custom event this module may emit (`ctx.emit`). */
  emits(event) {
    this.#events.push(event);
    return this;
  }

  /** The unit registered for `kind` and `model`, else for `kind` and `*`. */
  findUnit(kind, model) {
    const exact = this.#units.find((u) => u.kind === kind && u.model === model);
    const any = exact ?? this.#units.find((u) => u.kind === kind && u.model === "*");
    if (!any) throw FerryError.notFound(`this module has no ${kind} unit for model \`${model}\``);
    return any.unit;
  }

  /** What `describe` answers: units, jobs, events, the SDK's version. */
  describe() {
    return {
      units: this.#units.map((u) => ({ kind: u.kind, model: u.model, methods: u.unit.methods() })),
      jobs: this.#jobs.map((j) => ({
        name: j.name,
        description: j.description,
        params: j.params.map(paramToWit),
        steps: [],
      })),
      events: [...this.#events],
      sdkVersion: `ferry-sdk-js ${SDK_VERSION}`,
    };
  }

  /** Call one of this module's units in-process: what `invoke` does. */
  async invoke(ctx, kind, model, method, payload) {
    return this.findUnit(kind, model).call(ctx, method, payload, model);
  }

  /** Run job `name` in-process: what `run-job` does. */
  async runJob(ctx, name, payload) {
    const job = this.#jobs.find((j) => j.name === name);
    if (!job) {
      throw FerryError.notFound(`this module has no job \`${name}\` (it has: ${known(this.#jobs.map((j) => j.name))})`);
    }
    return job.run(ctx, payload);
  }

  /**
   * The `guest` export of the component: the entry module ends with
   * `export const guest = connector.guest();`. Every exception of your code
   * reaches the host as an error of its kind (anything not a FerryError as
   * `final`, its stack in the run's log); none traps the module.
   */
  guest() {
    const refuse = () => {
      throw FerryError.notFound("this module declares no batch jobs (steps): the JavaScript SDK runs plain jobs").toWit();
    };
    return {
      describe: () => this.describe(),
      invoke: (session, kind, model, method, payload) =>
        guarded(session, `${kind} \`${model}\`.${method}`, async () => {
          const ctx = new Context(session);
          const answer = await this.invoke(ctx, kind, model, method, parse(payload, "the payload"));
          return text(answer);
        }),
      runJob: (session, job, name, payload) =>
        guarded(session, `job \`${name}\``, async () => {
          const ctx = new Context(session, job);
          return text(await this.runJob(ctx, name, parse(payload, `the payload of job \`${name}\``)));
        }),
      handleEvent: (session, event) =>
        guarded(session, `event \`${event.name}\``, async () => {
          if (!this.#eventHandler) throw FerryError.notFound("this module does not handle events without a job");
          await this.#eventHandler(new Context(session), {
            name: event.name,
            model: event.model,
            recordId: num(event.recordId),
            changedFields: event.changedFields,
            payload: parse(event.payload, "the event's payload"),
          });
        }),
      handleWebhook: (session, hook, request) =>
        guarded(session, `webhook \`${hook}\``, async () => {
          const handler = this.#webhooks.get(hook);
          if (!handler) {
            throw FerryError.notFound(`this module has no webhook \`${hook}\` (it has: ${known([...this.#webhooks.keys()])})`);
          }
          const response = await handler(new Context(session), new WebhookRequest(request));
          return { status: response.status, headers: response.headers, body: response.body };
        }),
      runTasklet: refuse,
      readChunk: refuse,
      processChunk: refuse,
      writeChunk: refuse,
    };
  }
}

/**
 * Run `work` for the host: its answer, or the WIT error of what it threw.
 * An exception that is not a FerryError (a bug) also goes to the run's
 * log with its stack.
 */
async function guarded(session, what, work) {
  try {
    return await work();
  } catch (thrown) {
    const error = FerryError.from(thrown);
    if (!(thrown instanceof FerryError) && !thrown?.payload) {
      try {
        const stack = thrown?.stack ? `\n${thrown.stack}` : "";
        session.log("error", `${what} threw ${String(thrown)}${stack}`);
      } catch {
        // The log is best effort: the error itself still goes back.
      }
    }
    throw error.toWit();
  }
}

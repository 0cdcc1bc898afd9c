// Typed errors: what the queue does with a failure.

/**
 * The kinds of failure the host knows; the kind decides what the queue does.
 * @readonly
 * @enum {string}
 */
export const ErrorKind = Object.freeze({
  /** May succeed later (remote down, timeout, rate limit): retried with backoff. */
  RETRYABLE: "retryable",
  /** Will not succeed by trying again (bad data, refused, a bug): fails at once. */
  FINAL: "final",
  /** What was asked for does not exist (record, link, unit, job). */
  NOT_FOUND: "not-found",
  /** The manifest does not grant this (host, secret, capability). */
  DENIED: "denied",
});

const KINDS = new Set(Object.values(ErrorKind));

/**
 * An error of a connector, or one the host returned. Throw one from a unit,
 * job or handler to tell the queue what to do; any other exception becomes a
 * `final` error with its message.
 *
 * @example
 * throw FerryError.retryable("the shop is down", 30_000);
 * throw new NotFoundError(`no product ${id}`);
 */
export class FerryError extends Error {
  /**
   * @param {string} kind one of {@link ErrorKind}
   * @param {string} message a message a person can act on
   * @param {number} [retryAfterMs] for `retryable`: how long the remote asked to wait
   */
  constructor(kind, message, retryAfterMs) {
    super(message);
    this.name = "FerryError";
    /** @type {string} */
    this.kind = KINDS.has(kind) ? kind : ErrorKind.FINAL;
    /** @type {number | undefined} */
    this.retryAfterMs = retryAfterMs;
  }

  /** A failure that may go away if the job is tried again later. */
  static retryable(message, retryAfterMs) {
    return new RetryableError(message, retryAfterMs);
  }

  /** A failure that trying again will not fix. */
  static fatal(message) {
    return new FinalError(message);
  }

  /** The same as {@link FerryError.fatal}, named as the host names the kind. */
  static final(message) {
    return new FinalError(message);
  }

  /** Something asked for does not exist. */
  static notFound(message) {
    return new NotFoundError(message);
  }

  /** Something the manifest does not grant. */
  static denied(message) {
    return new DeniedError(message);
  }

  /**
   * Any thrown value as a FerryError: a FerryError as it is; an error the
   * host returned (componentize-js throws it with the record as `payload`)
   * with its kind; anything else `final`, with its message.
   * @param {unknown} thrown
   * @returns {FerryError}
   */
  static from(thrown) {
    if (thrown instanceof FerryError) return thrown;
    const record = thrown && typeof thrown === "object" ? thrown.payload ?? thrown : undefined;
    if (record && KINDS.has(record.kind) && typeof record.message === "string") {
      const after = record.retryAfterMs;
      return new FerryError(record.kind, record.message, after === undefined ? undefined : Number(after));
    }
    const message = thrown instanceof Error ? thrown.message || String(thrown) : String(thrown);
    return new FinalError(message);
  }

  /** Whether the queue will retry the job. */
  get isRetryable() {
    return this.kind === ErrorKind.RETRYABLE;
  }

  /**
   * The same error with its message prefixed by what was being done.
   * @param {string} what
   * @returns {FerryError}
   */
  context(what) {
    return new FerryError(this.kind, `${what}: ${this.message}`, this.retryAfterMs);
  }

  /** The error as the WIT `error` record the host receives. */
  toWit() {
    const after = this.retryAfterMs;
    return {
      kind: this.kind,
      message: this.message,
      retryAfterMs: after === undefined || after === null ? undefined : BigInt(Math.max(0, Math.round(after))),
    };
  }
}

/** A {@link FerryError} of kind `retryable`. */
export class RetryableError extends FerryError {
  /**
   * @param {string} message
   * @param {number} [retryAfterMs] how long the remote asked to wait
   */
  constructor(message, retryAfterMs) {
    super(ErrorKind.RETRYABLE, message, retryAfterMs);
    this.name = "RetryableError";
  }
}

/** A {@link FerryError} of kind `final`. */
export class FinalError extends FerryError {
  /** @param {string} message */
  constructor(message) {
    super(ErrorKind.FINAL, message);
    this.name = "FinalError";
  }
}

/** A {@link FerryError} of kind `not-found`. */
export class NotFoundError extends FerryError {
  /** @param {string} message */
  constructor(message) {
    super(ErrorKind.NOT_FOUND, message);
    this.name = "NotFoundError";
  }
}

/** A {@link FerryError} of kind `denied`. */
export class DeniedError extends FerryError {
  /** @param {string} message */
  constructor(message) {
    super(ErrorKind.DENIED, message);
    this.name = "DeniedError";
  }
}

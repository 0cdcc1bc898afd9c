// The host's interfaces (the WIT imports of `ferry:connector@0.1.3`), and the
// conversions every call across the boundary needs. Internal to the SDK.

import * as blobs from "ferry:connector/blobs@0.1.3";
import * as conflicts from "ferry:connector/conflicts@0.1.3";
import * as cursors from "ferry:connector/cursors@0.1.3";
import * as events from "ferry:connector/events@0.1.3";
import * as jobs from "ferry:connector/jobs@0.1.3";
import * as links from "ferry:connector/links@0.1.3";
import * as messaging from "ferry:connector/messaging@0.1.3";
import * as meta from "ferry:connector/meta@0.1.3";
import * as secrets from "ferry:connector/secrets@0.1.3";
import * as units from "ferry:connector/units@0.1.3";
import { FerryError } from "./errors.js";

export { blobs, conflicts, cursors, events, jobs, links, messaging, meta, secrets, units };

/**
 * Run `call` (a call to the host) and throw what it throws as a FerryError
 * of the host's kind.
 * @template T
 * @param {() => T} call
 * @returns {T}
 */
export function host(call) {
  try {
    return call();
  } catch (thrown) {
    throw FerryError.from(thrown);
  }
}

/** A u64 or s64 the host gave (a BigInt) as a number; none stays none. */
export function num(value) {
  return typeof value === "bigint" ? Number(value) : value;
}

/** A number as the u64 the host takes. */
export function u64(value, what = "id") {
  if (typeof value === "bigint") return value;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw FerryError.fatal(`${what} ${JSON.stringify(value)} is not a local id (a whole number)`);
  }
  return BigInt(value);
}

/** An optional number as an optional u64. */
export function optU64(value, what) {
  return value === undefined || value === null ? undefined : u64(value, what);
}

/** JSON text the host gave, parsed; a final error naming `what` when it is not JSON. */
export function parse(text, what = "the host's answer") {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw FerryError.fatal(`${what} is not JSON: ${e.message}`);
  }
}

/** A value as JSON text for the host (`undefined` as `null`). */
export function text(value) {
  return JSON.stringify(value === undefined ? null : value);
}

/** Bytes from a string (UTF-8), bytes, or anything else as JSON. */
export function bytes(value) {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return new TextEncoder().encode(value);
  return new TextEncoder().encode(text(value));
}

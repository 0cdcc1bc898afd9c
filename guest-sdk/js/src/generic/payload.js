// Reading the fields of a unit's or job's JSON payload, with errors that
// name what is missing.

import { FerryError } from "../errors.js";
import { idText } from "../json.js";
import { noMethod } from "../unit.js";

/** A text field, or a final error naming it. */
export function strField(payload, key) {
  const value = payload?.[key];
  if (typeof value !== "string") throw FerryError.fatal(`payload has no text field \`${key}\``);
  return value;
}

/** An external id (text or number, as remotes give them) as text. */
export function idField(payload, key) {
  const value = payload?.[key];
  if (typeof value !== "string" && typeof value !== "number") {
    throw FerryError.fatal(`payload has no id field \`${key}\``);
  }
  return idText(value);
}

/** A local record id. */
export function localIdField(payload, key) {
  const value = payload?.[key];
  if (!Number.isSafeInteger(value) || value < 0) throw FerryError.fatal(`payload has no local id \`${key}\``);
  return value;
}

/** Importers and exporters answer one method, `run`. */
export function onlyRun(unit, method) {
  if (method !== "run") throw noMethod(unit, method, ["run"]);
}

/**
 * Whether the payload forces one side (`resolution`), skipping the
 * conflict check. `side` is the only value the unit accepts; anything else
 * is a final error, since a resolution misread would write the wrong side.
 */
export function forced(payload, unit, side) {
  const resolution = payload?.resolution;
  if (resolution === undefined || resolution === null) return false;
  if (resolution === side) return true;
  throw FerryError.fatal(
    `${unit} got resolution ${JSON.stringify(resolution)}: it only applies \`"${side}"\` (the ${side} version wins)`,
  );
}

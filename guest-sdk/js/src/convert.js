// Ready-made converters for `Mapper#directWith`: each takes a value and
// returns the converted value (null and undefined stay null), or throws a
// final error naming what it could not read.

import { FerryError } from "./errors.js";

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

function bad(what, value) {
  return FerryError.fatal(`cannot read ${JSON.stringify(value)} as ${what}`);
}

const none = (value) => value === null || value === undefined;

/** A number, from a number or numeric text (`"19.90"` → 19.9). */
export function float(value) {
  if (none(value)) return null;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && DECIMAL.test(value.trim())) return Number(value.trim());
  throw bad("a number", value);
}

/** An integer, from a number (rounded) or integer text. */
export function int(value) {
  if (none(value)) return null;
  if (typeof value === "number" && Number.isFinite(value)) return Math.round(value);
  if (typeof value === "string" && INTEGER.test(value.trim())) return Number.parseInt(value.trim(), 10);
  throw bad("an integer", value);
}

/** Text, from anything scalar. */
export function string(value) {
  if (none(value)) return null;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw bad("text", value);
}

/** `true`/`false`, from a boolean, a number (0 is false) or text such as `"yes"`. */
export function boolean(value) {
  if (none(value)) return null;
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value !== 0;
  if (typeof value === "string") {
    const word = value.trim().toLowerCase();
    if (["true", "yes", "1", "on"].includes(word)) return true;
    if (["false", "no", "0", "off", ""].includes(word)) return false;
  }
  throw bad("true or false", value);
}

/**
 * A converter to a number as text with `digits` after the point
 * (`decimalText(2)`: 19.9 → `"19.90"`).
 * @param {number} digits
 * @returns {(value: any) => string | null}
 */
export function decimalText(digits) {
  return (value) => {
    const amount = float(value);
    return amount === null ? null : amount.toFixed(digits);
  };
}

/** Empty text becomes null; anything else stays as it is. */
export function noneIfEmpty(value) {
  return value === "" || value === undefined ? null : value;
}

/** An amount in cents (an integer) as a decimal amount. */
export function centsToAmount(value) {
  const cents = int(value);
  return cents === null ? null : cents / 100;
}

/** A decimal amount as an integer number of cents. */
export function amountToCents(value) {
  const amount = float(value);
  return amount === null ? null : Math.round(amount * 100);
}

// Small JSON helpers the SDK shares.

/** Text of an id that may be a JSON number or string (`7` → `"7"`). */
export function idText(value) {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Whether two JSON values are equal (numbers by value, objects by keys in any order). */
export function jsonEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
}

/** Whether a value is a plain JSON object (not an array, not null). */
export function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

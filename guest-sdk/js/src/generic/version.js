// Versions of external records: how the importer and exporter tell whether
// the remote changed since the last sync. A version is whatever text
// changes when the record changes: its `updated_at` (number or string),
// else its `etag`, else its `version`; a unit may name another field; a
// record with none of them gets a hash of its canonical JSON.

/** The fields looked at, in order, when a unit names none. */
const VERSION_FIELDS = ["updated_at", "etag", "version"];

/**
 * A version as text: strings as they are (unless empty), numbers in their
 * JSON form; anything else is no version (undefined).
 * @returns {string | undefined}
 */
export function versionText(value) {
  if (typeof value === "string" && value !== "") return value;
  if (typeof value === "number" && Number.isFinite(value)) return JSON.stringify(value);
  return undefined;
}

/** The version a record carries: `updated_at`, else `etag`, else `version`; or undefined. */
export function remoteVersion(record) {
  for (const field of VERSION_FIELDS) {
    const version = versionText(record?.[field]);
    if (version !== undefined) return version;
  }
  return undefined;
}

/**
 * The version the record itself carries (the named field, else
 * {@link remoteVersion}), without the hash fallback: what may go to the
 * remote as `If-Match`, which only knows its own versions.
 * @param {any} record
 * @param {string} [field]
 */
export function namedVersion(record, field) {
  return field ? versionText(record?.[field]) : remoteVersion(record);
}

/**
 * The version of a record for the generic units: {@link namedVersion},
 * else `hash:` and 16 hex digits of FNV-1a over its canonical JSON (keys
 * sorted at every level), the same hash as the Rust SDK's for the same text.
 * @param {any} record
 * @param {string} [field]
 * @returns {string}
 */
export function versionOf(record, field) {
  return namedVersion(record, field) ?? `hash:${fnv1a(canonical(record))}`;
}

/** The newer of two cursor values: numbers by value, else text by its order. */
export function newer(a, b) {
  if (typeof a === "number" && typeof b === "number") return b > a ? b : a;
  return String(b) > String(a) ? b : a;
}

/**
 * The record's `updated_at` in ms when it is a number (or a string of
 * digits): what `newest-wins` compares with the local record's last change.
 * @returns {number | undefined}
 */
export function updatedAtMs(record) {
  const value = record?.updated_at;
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string" && /^\s*-?\d+\s*$/.test(value)) return Number.parseInt(value, 10);
  return undefined;
}

/** JSON text with the keys of every object sorted. */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const fields = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`);
    return `{${fields.join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/** FNV-1a, 64 bits, of the UTF-8 of `text`, as 16 hex digits. */
function fnv1a(text) {
  const mask = (1n << 64n) - 1n;
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & mask;
  }
  return hash.toString(16).padStart(16, "0");
}

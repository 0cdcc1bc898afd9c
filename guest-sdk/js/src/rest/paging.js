// Paging: how an API splits a list into pages, and reading a whole list
// page by page.

import { FerryError } from "../errors.js";

/** Most pages one listing reads: past it the paging is surely wrong. */
export const MAX_PAGES = 10_000;

/**
 * The value at a JSON pointer (RFC 6901: `""` is the whole document,
 * `/items/0/id` a path), or undefined.
 */
export function pointer(document, path) {
  if (path === "") return document;
  let value = document;
  for (const token of path.replace(/^\//, "").split("/")) {
    const key = token.replaceAll("~1", "/").replaceAll("~0", "~");
    if (value === null || typeof value !== "object" || !Object.hasOwn(value, key)) return undefined;
    value = value[key];
  }
  return value;
}

/**
 * How an API splits a list into pages. Make one with a static method:
 * `Paging.pageNumber("page").perPage("per_page", 200).lastPageAt("/pages")`.
 */
export class Paging {
  /** @private */
  constructor(kind, options) {
    this.kind = kind;
    Object.assign(this, options);
  }

  /** One request answers everything. */
  static none() {
    return new Paging("none", {});
  }

  /**
   * `?page=1`, `?page=2`… until a page is short or empty, or the page number
   * reaches the count the body gives (see {@link Paging#lastPageAt}).
   * @param {string} param the page's query parameter
   * @param {number} [first] the first page's number
   */
  static pageNumber(param, first = 1) {
    return new Paging("page-number", { param, first, perPageParam: undefined, size: undefined, lastPage: undefined });
  }

  /** `?offset=0&limit=size`, then `offset=size`… until a page is short. */
  static offsetLimit(offset, limit, size) {
    return new Paging("offset-limit", { offset, limit, size });
  }

  /** `?param=…` with the cursor the previous page gave at pointer `next`, until none. */
  static cursor(param, next) {
    return new Paging("cursor", { param, next });
  }

  /** The next page's URL in the `Link` header (`rel="next"`). */
  static linkHeader() {
    return new Paging("link-header", {});
  }

  /** The next page's URL in the body, at pointer `next` (relative URLs allowed). */
  static nextUrl(next) {
    return new Paging("next-url", { next });
  }

  /** Page numbers: ask `size` records per page with query parameter `param`. */
  perPage(param, size) {
    return new Paging(this.kind, { ...this, perPageParam: param, size });
  }

  /** Page numbers: the page count is at pointer `path` of the body. */
  lastPageAt(path) {
    return new Paging(this.kind, { ...this, lastPage: path });
  }
}

/** The records of a page: the array at pointer `path`. */
export function recordsOf(body, path) {
  const found = pointer(body, path);
  if (Array.isArray(found)) return found;
  if ((found === undefined || found === null) && path !== "") return [];
  throw FerryError.fatal(`a page of the list has no array at \`${path}\`: say where its records are`);
}

/** `url` with `params` set (replacing any of the same name). */
function withQuery(url, params) {
  const out = new URL(url);
  for (const [name, value] of Object.entries(params)) out.searchParams.set(name, String(value));
  return out.toString();
}

/** The `rel="next"` target of a `Link` header, or undefined. */
export function nextLink(header) {
  for (const part of (header ?? "").split(",")) {
    const [target, ...params] = part.trim().split(";");
    const next = params.some((p) => /^rel="?next"?$/i.test(p.trim()));
    if (next && target.trim().startsWith("<") && target.trim().endsWith(">")) return target.trim().slice(1, -1);
  }
  return undefined;
}

/**
 * Every record of the list at `first`, page by page as `paging` says,
 * the records of each page at pointer `records`. `fetch(url)` answers
 * `{body, link}`: a page's JSON body and its `Link` header.
 * @param {string} first
 * @param {Paging} paging
 * @param {string} records
 * @param {(url: string) => Promise<{body: any, link?: string}>} fetch
 * @returns {Promise<any[]>}
 */
export async function paginate(first, paging, records, fetch) {
  const all = [];
  let position = undefined;
  for (let pages = 0; pages < MAX_PAGES; pages++) {
    const { items, next } = await readPage(first, paging, records, position, fetch);
    all.push(...items);
    // The same position twice would read the same page forever.
    if (next === undefined || next === position) return all;
    position = next;
  }
  throw FerryError.fatal(`the list at ${first} did not end within ${MAX_PAGES} pages: check its paging`);
}

/** One page from `position` (none: the first) and the next position. */
async function readPage(first, paging, records, position, fetch) {
  switch (paging.kind) {
    case "page-number": {
      const number = position ?? paging.first;
      const query = { [paging.param]: number };
      if (paging.perPageParam) query[paging.perPageParam] = paging.size;
      const { body } = await fetch(withQuery(first, query));
      const items = recordsOf(body, records);
      const last = paging.lastPage === undefined ? undefined : pointer(body, paging.lastPage);
      const more = typeof last === "number" ? number < last : paging.size ? items.length >= paging.size : items.length > 0;
      return { items, next: more && items.length ? number + 1 : undefined };
    }
    case "offset-limit": {
      const offset = position ?? 0;
      const { body } = await fetch(withQuery(first, { [paging.offset]: offset, [paging.limit]: paging.size }));
      const items = recordsOf(body, records);
      return { items, next: items.length && items.length >= paging.size ? offset + items.length : undefined };
    }
    case "cursor": {
      const url = position === undefined ? first : withQuery(first, { [paging.param]: position });
      const { body } = await fetch(url);
      const next = pointer(body, paging.next);
      const given = typeof next === "number" ? String(next) : typeof next === "string" && next ? next : undefined;
      return { items: recordsOf(body, records), next: given };
    }
    case "link-header": {
      const { body, link } = await fetch(position ?? first);
      return { items: recordsOf(body, records), next: nextLink(link) };
    }
    case "next-url": {
      const url = position ?? first;
      const { body } = await fetch(url);
      const next = pointer(body, paging.next);
      return { items: recordsOf(body, records), next: typeof next === "string" && next ? new URL(next, url).toString() : undefined };
    }
    default: {
      const { body } = await fetch(first);
      return { items: recordsOf(body, records), next: undefined };
    }
  }
}

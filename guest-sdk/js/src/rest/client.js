// A client of one REST API: its base URL, the headers (or sealed
// credential) every request carries, and lists read page by page.

import { FerryError } from "../errors.js";
import { request } from "../http.js";
import { paginate } from "./paging.js";

/**
 * A client of one REST API.
 * @example
 * const api = Rest.fromParam(ctx, "url").header("x-api-key", ctx.param("api_key") ?? "");
 * const product = await api.get("api/v1/products/7");
 */
export class Rest {
  /** A client of the API at `base` (`https://api.example.com/v2`). */
  constructor(base) {
    /** @type {string} */
    this.base = String(base).replace(/\/+$/, "");
    /** @type {Record<string, string>} */
    this.headers = {};
    /** @type {string | undefined} */
    this.sealed = undefined;
  }

  /** A client of the API whose base URL is the instance's param `name`. */
  static fromParam(ctx, name) {
    return new Rest(ctx.requireParam(name));
  }

  /** Send `name: value` with every request (an API key from a param…). */
  header(name, value) {
    this.headers[name.toLowerCase()] = String(value);
    return this;
  }

  /** Present the sealed credential `name` with every request (the host adds the secret). */
  credential(name) {
    this.sealed = name;
    return this;
  }

  /**
   * The URL of `path` (relative to the base, or absolute) with `query`
   * (entries whose value is undefined or null are left out).
   * @param {string} path
   * @param {Record<string, any>} [query]
   */
  url(path, query = {}) {
    const text = /^https?:\/\//.test(path) ? path : `${this.base}/${path.replace(/^\/+/, "")}`;
    let url;
    try {
      url = new URL(text);
    } catch (e) {
      throw FerryError.fatal(`URL \`${text}\`: ${e.message}`);
    }
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== null) url.searchParams.append(name, String(value));
    }
    return url.toString();
  }

  /**
   * Send `method path` with the client's headers and credential; statuses
   * are not checked.
   * @param {string} method
   * @param {string} path relative to the base, or a whole URL
   * @param {import("../http.js").RequestOptions & {query?: Record<string, any>}} [options]
   */
  request(method, path, { query, headers = {}, ...options } = {}) {
    return request(method, this.url(path, query), {
      ...options,
      headers: { ...this.headers, ...headers },
      credential: options.credential ?? this.sealed,
    });
  }

  /** Like {@link Rest#request}, a status of 400 or more thrown as its error. */
  async send(method, path, options) {
    return (await this.request(method, path, options)).errorForStatus();
  }

  /** `GET path` (with `query`) as JSON. */
  async get(path, query) {
    return (await this.send("GET", path, { query })).json();
  }

  /** `method path` with a JSON body, answered as JSON (null when empty). */
  async sendJson(method, path, body, options = {}) {
    const response = await this.send(method, path, { ...options, json: body });
    return response.body.length ? response.json() : null;
  }

  /**
   * Every record of the list at `path` with `query`: page by page as
   * `paging` says, the records of each page at pointer `records` (`""`
   * when the body is the array).
   * @param {string} path
   * @param {Record<string, any>} query
   * @param {import("./paging.js").Paging} paging
   * @param {string} [records]
   */
  list(path, query, paging, records = "") {
    return paginate(this.url(path, query), paging, records, async (url) => {
      const response = await this.send("GET", url);
      return { body: response.json(), link: response.header("link") };
    });
  }
}

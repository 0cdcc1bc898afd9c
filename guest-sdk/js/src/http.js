// A thin async HTTP client over `fetch` (which componentize-js runs on
// `wasi:http`): the host lets a module reach only the hosts its manifest
// allows (`allowed_hosts`), and refuses the others.

import { FerryError } from "./errors.js";

/** The most of an error body quoted in an error message. */
const SNIPPET = 200;

/** A response, with its body read. */
export class HttpResponse {
  /**
   * @param {number} status
   * @param {Record<string, string>} headers names in lower case
   * @param {Uint8Array} body
   * @param {string} [what] the request, for error messages (`GET https://…`)
   */
  constructor(status, headers, body, what = "request") {
    /** @type {number} the HTTP status code */
    this.status = status;
    /** @type {Record<string, string>} header names (lower case) and values */
    this.headers = headers;
    /** @type {Uint8Array} the body */
    this.body = body;
    /** @type {string} the request, as `METHOD url` */
    this.what = what;
  }

  /** A header's value (name in any case), or undefined. */
  header(name) {
    return this.headers[name.toLowerCase()];
  }

  /** The body as text. */
  text() {
    return new TextDecoder().decode(this.body);
  }

  /** The body parsed as JSON; a final error when it is not. */
  json() {
    try {
      return JSON.parse(this.text());
    } catch (e) {
      throw FerryError.fatal(`${this.what}: the answer is not JSON: ${e.message}`);
    }
  }

  /**
   * The response itself when its status is below 400; else the error of
   * {@link errorForStatus}, thrown.
   * @returns {HttpResponse}
   */
  errorForStatus() {
    const error = errorForStatus(this);
    if (error) throw error;
    return this;
  }
}

/**
 * The error a status means, or undefined below 400: 408, 412, 429 and 5xx
 * are retryable (after `Retry-After` seconds when the remote says it; a 412
 * means the record changed meanwhile, and the next try sees the change),
 * 404 is not-found, other 4xx are final.
 * @param {HttpResponse} response
 * @returns {FerryError | undefined}
 */
export function errorForStatus(response) {
  const { status } = response;
  if (status < 400) return undefined;
  const message = `${response.what}: the remote answered ${status}: ${response.text().slice(0, SNIPPET)}`;
  if (status === 408 || status === 412 || status === 429 || status >= 500) {
    const seconds = Number.parseInt(response.header("retry-after") ?? "", 10);
    return FerryError.retryable(message, Number.isFinite(seconds) ? seconds * 1000 : undefined);
  }
  return status === 404 ? FerryError.notFound(message) : FerryError.fatal(message);
}

/**
 * @typedef {object} RequestOptions
 * @property {Record<string, string>} [headers] headers to send
 * @property {any} [json] a body sent as JSON (sets `content-type`)
 * @property {string | Uint8Array} [body] a raw body
 * @property {string} [credential] a sealed credential (`[[capabilities.credential]]`)
 *   the host adds to the request: the guest never holds the secret
 * @property {number} [maxRedirects] follow up to this many redirects (none by
 *   default: a 3xx is answered as it is); each hop is checked by the host
 */

/** Statuses that redirect. */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Headers not sent to another origin after a redirect. */
const PRIVATE = ["authorization", "cookie", "ferry-credential"];

/**
 * Send a request and read the whole response. Statuses are not checked
 * (see `errorForStatus()`); a network failure is a retryable error (a host
 * not in the manifest's `allowed_hosts` fails the same way: the runtime's
 * `fetch` does not tell them apart; `ferry logs --transmissions` does).
 *
 * Redirects are followed only when asked (`maxRedirects`): a 303, or a 301
 * or 302 answering a POST, continues as a GET without a body, and
 * `authorization`, `cookie` and the sealed credential are dropped when a
 * redirect leaves the origin.
 * @param {string} method
 * @param {string} url
 * @param {RequestOptions} [options]
 * @returns {Promise<HttpResponse>}
 */
export async function request(method, url, { headers = {}, json, body, credential, maxRedirects = 0 } = {}) {
  const sent = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
  if (json !== undefined) {
    body = JSON.stringify(json);
    sent["content-type"] ??= "application/json";
  }
  if (credential) sent["ferry-credential"] = credential;
  for (let left = maxRedirects; ; left--) {
    const response = await send(method, url, sent, body);
    const location = REDIRECTS.has(response.status) && left > 0 ? response.header("location") : undefined;
    if (location === undefined) return response;
    const to = new URL(location, url);
    if (to.origin !== new URL(url).origin) PRIVATE.forEach((name) => delete sent[name]);
    if (response.status === 303 || ([301, 302].includes(response.status) && method === "POST")) {
      method = "GET";
      body = undefined;
      delete sent["content-type"];
    }
    url = to.toString();
  }
}

/** One request, its body read. */
async function send(method, url, headers, body) {
  const what = `${method} ${url}`;
  let response;
  try {
    response = await fetch(url, { method, headers, body, redirect: "manual" });
  } catch (e) {
    throw FerryError.retryable(
      `${what} failed: ${e?.message ?? e} (or the host is not in the manifest's allowed_hosts: \`ferry logs --transmissions\` tells)`,
    );
  }
  const received = {};
  response.headers.forEach((value, name) => {
    received[name.toLowerCase()] = value;
  });
  try {
    return new HttpResponse(response.status, received, new Uint8Array(await response.arrayBuffer()), what);
  } catch (e) {
    throw FerryError.retryable(`${what}: reading the answer failed: ${e?.message ?? e}`);
  }
}

/** `GET url`. */
export const get = (url, options) => request("GET", url, options);
/** `POST url`. */
export const post = (url, options) => request("POST", url, options);
/** `PUT url`. */
export const put = (url, options) => request("PUT", url, options);
/** `PATCH url`. */
export const patch = (url, options) => request("PATCH", url, options);
/** `DELETE url`. */
export const del = (url, options) => request("DELETE", url, options);

/**
 * `GET url` as JSON, any status of 400 or more thrown as its error.
 * @param {string} url
 * @param {RequestOptions} [options]
 */
export async function getJson(url, options) {
  return (await get(url, options)).errorForStatus().json();
}

/**
 * `method url` with a JSON body, answered as JSON (null when the answer is
 * empty), any status of 400 or more thrown as its error.
 * @param {string} method
 * @param {string} url
 * @param {any} body
 * @param {RequestOptions} [options]
 */
export async function sendJson(method, url, body, options = {}) {
  const response = (await request(method, url, { ...options, json: body })).errorForStatus();
  return response.body.length ? response.json() : null;
}

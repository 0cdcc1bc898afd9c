// Webhooks: requests the host already checked (size, authentication), and
// the answers the connector sends back.

import { FerryError } from "./errors.js";

/** A call to one of the module's webhooks (`[[webhook]]` in `connector.toml`). */
export class WebhookRequest {
  /** @param {any} request the WIT `webhook-request` */
  constructor(request) {
    /** @type {string} `POST` */
    this.method = request.method;
    /** @type {string} the request path, e.g. `/hooks/acme/product-changed` */
    this.path = request.path;
    /** @type {string} the query string without `?` */
    this.query = request.query;
    /** @type {[string, string][]} header names (lower case) and values, in order */
    this.headers = request.headers;
    /** @type {Uint8Array} */
    this.body = request.body;
  }

  /** The first value of header `name` (any case), or undefined. */
  header(name) {
    const lower = name.toLowerCase();
    return this.headers.find(([k]) => k === lower)?.[1];
  }

  /** The body as text. */
  text() {
    return new TextDecoder().decode(this.body);
  }

  /** The body as JSON; a final error when it is not. */
  json() {
    try {
      return JSON.parse(this.text());
    } catch (e) {
      throw FerryError.fatal(`the webhook's body is not JSON: ${e.message}`);
    }
  }
}

/** The answer to a webhook call, sent back as is. */
export class WebhookResponse {
  /** An answer with `status` and no body. */
  constructor(status = 200) {
    /** @type {number} */
    this.status = status;
    /** @type {[string, string][]} */
    this.headers = [];
    /** @type {Uint8Array} */
    this.body = new Uint8Array();
  }

  /** An answer with a JSON body. */
  static json(status, body) {
    return new WebhookResponse(status).header("content-type", "application/json").withBody(JSON.stringify(body));
  }

  /** An answer with a text body. */
  static text(status, body) {
    return new WebhookResponse(status).header("content-type", "text/plain; charset=utf-8").withBody(body);
  }

  /** Add a header. */
  header(name, value) {
    this.headers.push([name, String(value)]);
    return this;
  }

  /** Set the body: bytes, or a string sent as UTF-8. */
  withBody(body) {
    this.body = typeof body === "string" ? new TextEncoder().encode(body) : body;
    return this;
  }
}

// TypeScript declarations of ferry-sdk, the JavaScript SDK of Ferry
// connectors. See README.md for what each part does.

/** Any JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A value, or a Promise of it: units, jobs and handlers may be async. */
export type MaybePromise<T> = T | Promise<T>;

// ---------------------------------------------------------------- errors

/** The kinds of failure the host knows; the kind decides what the queue does. */
export declare const ErrorKind: {
  /** May succeed later: retried with backoff. */
  readonly RETRYABLE: "retryable";
  /** Trying again will not help: fails at once. */
  readonly FINAL: "final";
  /** What was asked for does not exist. */
  readonly NOT_FOUND: "not-found";
  /** The manifest does not grant this. */
  readonly DENIED: "denied";
};
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind];

/** An error of a connector, or one the host returned; throw it to tell the queue what to do. */
export declare class FerryError extends Error {
  constructor(kind: ErrorKind, message: string, retryAfterMs?: number);
  readonly kind: ErrorKind;
  /** For `retryable`: how long the remote asked to wait. */
  readonly retryAfterMs: number | undefined;
  /** A failure that may go away if the job is tried again later. */
  static retryable(message: string, retryAfterMs?: number): RetryableError;
  /** A failure that trying again will not fix. */
  static fatal(message: string): FinalError;
  /** The same as `fatal`, named as the host names the kind. */
  static final(message: string): FinalError;
  /** Something asked for does not exist. */
  static notFound(message: string): NotFoundError;
  /** Something the manifest does not grant. */
  static denied(message: string): DeniedError;
  /** Any thrown value as a FerryError (a host error keeps its kind; anything else is `final`). */
  static from(thrown: unknown): FerryError;
  /** Whether the queue will retry the job. */
  readonly isRetryable: boolean;
  /** The same error with its message prefixed by what was being done. */
  context(what: string): FerryError;
  /** The error as the WIT `error` record. */
  toWit(): { kind: ErrorKind; message: string; retryAfterMs: bigint | undefined };
}
/** A `retryable` error. */
export declare class RetryableError extends FerryError {
  constructor(message: string, retryAfterMs?: number);
}
/** A `final` error. */
export declare class FinalError extends FerryError {
  constructor(message: string);
}
/** A `not-found` error. */
export declare class NotFoundError extends FerryError {
  constructor(message: string);
}
/** A `denied` error. */
export declare class DeniedError extends FerryError {
  constructor(message: string);
}

// ---------------------------------------------------------------- units

/** The standard unit kinds (any other string is a custom kind). */
export declare const kind: {
  readonly MAPPER: "mapper";
  readonly ADAPTER: "adapter";
  readonly BINDER: "binder";
  readonly IMPORTER: "importer";
  readonly EXPORTER: "exporter";
  readonly DELETER: "deleter";
};

/** The type of `kind`. */
export type Kinds = typeof kind;

/** A unit: named methods, JSON in and out. */
export interface Unit {
  /** The methods it answers (shown by `describe`). */
  methods(): string[];
  /** Run one method; `model` is the model it was called for (for units registered for `*`). */
  call(ctx: Context, method: string, payload: any, model: string): MaybePromise<any>;
}

/** Helpers that make units. */
export declare namespace unit {
  /** The standard unit kinds, as `kind`. */
  const kind: Kinds;
  /** A unit from an object of methods, each `(ctx, payload, model) => answer`. */
  function fromMethods(methods: Record<string, (ctx: Context, payload: any, model: string) => MaybePromise<any>>): Unit;
  /** A unit from one function that answers `methods` (it receives the method name). */
  function fromFn(methods: string[], fn: (ctx: Context, method: string, payload: any, model: string) => MaybePromise<any>): Unit;
  /** A unit for every model, made by `make(ctx, model)` for each call (register it for `*`). */
  function perModel(methods: string[], make: (ctx: Context, model: string) => MaybePromise<Unit>): Unit;
  /** The not-found error of a method a unit does not answer. */
  function noMethod(what: string, method: string, methods: string[]): NotFoundError;
}

// ---------------------------------------------------------------- connector

/** The version of this SDK (`describe` says `ferry-sdk-js <version>`). */
export declare const SDK_VERSION: string;

/** A parameter of a job: the host checks payloads against it and fills in defaults. */
export interface ParamDecl {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "enumeration" | "list" | "date" | "duration" | "url";
  required?: boolean;
  default?: Json;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  oneOf?: Json[];
  description?: string;
}

/** An event delivered to `Connector#onEvent`. */
export interface Event {
  name: string;
  model: string;
  recordId: number | undefined;
  changedFields: string[];
  payload: any;
}

/** The `guest` export of a connector component (the WIT `guest` interface). */
export interface Guest {
  describe(): any;
  invoke(session: unknown, kind: string, model: string, method: string, payload: string): Promise<string>;
  runJob(session: unknown, job: unknown, name: string, payload: string): Promise<string>;
  handleEvent(session: unknown, event: unknown): Promise<void>;
  handleWebhook(session: unknown, hook: string, request: unknown): Promise<unknown>;
  runTasklet(...args: unknown[]): never;
  readChunk(...args: unknown[]): never;
  processChunk(...args: unknown[]): never;
  writeChunk(...args: unknown[]): never;
}

/** The units, jobs, event handler and webhooks of one connector module. */
export declare class Connector {
  constructor();
  /** Register a unit of `kind` for `model` (`*` for every model). */
  unit(kind: string, model: string, unit: Unit): this;
  /** Register a job; `run` returns its result (any JSON value). */
  job(name: string, description: string, run: (ctx: Context, payload: any) => MaybePromise<any>, options?: { params?: ParamDecl[] }): this;
  /** Handle events subscribed to without a job. */
  onEvent(handler: (ctx: Context, event: Event) => MaybePromise<void>): this;
  /** Handle webhook `name` (declared as `[[webhook]]` in `connector.toml`). */
  webhook(name: string, handler: (ctx: Context, request: WebhookRequest) => MaybePromise<WebhookResponse>): this;
  /** Declare a custom event this module may emit. */
  emits(event: string): this;
  /** The unit registered for `kind` and `model`, else for `*`; a not-found error otherwise. */
  findUnit(kind: string, model: string): Unit;
  /** What `describe` answers. */
  describe(): any;
  /** Call one of this module's units in-process (what `invoke` does). */
  invoke(ctx: Context, kind: string, model: string, method: string, payload: any): Promise<any>;
  /** Run a job in-process (what `run-job` does). */
  runJob(ctx: Context, name: string, payload: any): Promise<any>;
  /** The `guest` export: `export const guest = connector.guest();`. */
  guest(): Guest;
}

// ---------------------------------------------------------------- context

/** The flag that keeps a write from firing record events. */
export declare const NO_EXPORT: "no-export";

/** One condition of `Context#search`. */
export interface Filter {
  field: string;
  op: "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "like" | "one-of";
  value: any;
}
/** Conditions of `Context#search`. */
export declare const filter: {
  eq(field: string, value: any): Filter;
  ne(field: string, value: any): Filter;
  lt(field: string, value: any): Filter;
  le(field: string, value: any): Filter;
  gt(field: string, value: any): Filter;
  ge(field: string, value: any): Filter;
  like(field: string, pattern: string): Filter;
  oneOf(field: string, values: any[]): Filter;
};

/** A local record. */
export interface LocalRecord {
  id: number;
  model: string;
  values: Record<string, any>;
  createdAt: number;
  updatedAt: number;
}

/** What this call is. */
export interface CallInfo {
  instance: string;
  backend: string;
  module: string;
  moduleBackend: string;
  user: string;
  contextFlags: string[];
  jobId: number | undefined;
}

/** A job to enqueue. */
export interface JobSpec {
  name: string;
  payload?: any;
  priority?: number;
  eta?: number;
  delayMs?: number;
  maxRetries?: number;
  identityKey?: string;
  description?: string;
  channel?: string;
}

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";

/** Everything a unit, job or handler can do, for one call. */
export declare class Context {
  constructor(session: unknown, job?: unknown);
  readonly links: Links;
  readonly cursors: Cursors;
  readonly conflicts: Conflicts;
  readonly meta: Meta;
  readonly blobs: Blobs;
  callInfo(): CallInfo;
  param(key: string): string | undefined;
  requireParam(key: string): string;
  params(): Record<string, any>;
  hasFlag(flag: string): boolean;
  withFlags(flags: string[]): Context;
  /** A context whose writes fire no record events. */
  noExport(): Context;
  log(level: LogLevel, message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  read(model: string, id: number): LocalRecord;
  search(model: string, filters?: Filter[], options?: { limit?: number; offset?: number }): LocalRecord[];
  create(model: string, values: Record<string, any>): number;
  createLinked(model: string, values: Record<string, any>, externalId: string | number): number;
  write(model: string, id: number, values: Record<string, any>): void;
  unlink(model: string, id: number): void;
  checkpoint(model: string, id: number, message: string): void;
  /** Call a unit of the backend chain (this module or another, any language). */
  call(kind: string, model: string, method: string, payload?: any): any;
  /** Call the unit the running module overrides: `super`. */
  callParent(kind: string, model: string, method: string, payload?: any): any;
  enqueue(job: JobSpec): number;
  lockOrRetry(key: string): void;
  emit(name: string, model: string, recordId: number | undefined, payload?: any): void;
  subscribe(subscription: { event: string; models?: string[]; job?: string; priority?: number }): number;
  unsubscribe(id: number): boolean;
  /** The value of a secret of this instance (`[capabilities] reveal`). */
  secret(name: string): string;
  publish(topic: string, payload: any, options?: { key?: string; headers?: Record<string, string> | [string, string][] }): void;
  readonly jobId: number | undefined;
  readonly attempt: number;
  progress(total: number, done: number): void;
  stopRequested(): boolean;
}

// ---------------------------------------------------------------- links and stores

export interface Link {
  model: string;
  localId: number;
  externalId: string;
  syncDate: number | undefined;
  data: any;
}

export interface Pair {
  label: string;
  leftId: string;
  rightId: string;
  data: any;
  updatedAt: number;
}

export interface CreateIntent {
  key: string;
  resumed: boolean;
  createdAt: number;
  revision: number;
}

/** What a link knew at the last sync, and where the local record stands now. */
export declare class SyncState {
  readonly link: Link;
  readonly remoteVersion: string | undefined;
  readonly syncedRevision: number | undefined;
  readonly revision: number;
  readonly localUpdatedAt: number;
  localChanged(): boolean;
  remoteChanged(versionNow: string): boolean;
}

/** The links of the current backend instance (`ctx.links`). */
export interface Links {
  bind(model: string, localId: number, externalId: string | number, data?: any): Link;
  toExternal(model: string, localId: number): Link | undefined;
  toLocal(model: string, externalId: string | number): Link | undefined;
  search(model: string, options?: { syncedBefore?: number; limit?: number; offset?: number }): Link[];
  unbind(model: string, localId: number): boolean;
  syncStateOf(model: string, localId: number): SyncState | undefined;
  bindSynced(model: string, localId: number, externalId: string | number, remoteVersion: string | undefined, syncedRevision: number, data?: any): Link;
  beginCreate(model: string, localId: number): CreateIntent;
  bindPair(label: string, leftId: string, rightId: string, data?: any): Pair;
  pairByLeft(label: string, leftId: string): Pair | undefined;
  pairByRight(label: string, rightId: string): Pair | undefined;
  unbindPair(label: string, leftId: string): boolean;
}

/** Cursors of the backend instance (`ctx.cursors`). */
export interface Cursors {
  get(name: string): any;
  set(name: string, value: any): void;
}

/** How a conflict of a model is decided. */
export declare const ConflictPolicy: {
  readonly REMOTE_WINS: "remote-wins";
  readonly LOCAL_WINS: "local-wins";
  readonly NEWEST_WINS: "newest-wins";
  readonly MANUAL: "manual";
};
export type ConflictPolicy = (typeof ConflictPolicy)[keyof typeof ConflictPolicy];

export interface JobRef {
  name: string;
  payload: any;
}

export interface Conflict {
  model: string;
  localId: number;
  externalId: string;
  local: Record<string, any>;
  remote: Record<string, any>;
  takeLocal: JobRef;
  takeRemote: JobRef;
}

/** Conflicts of the backend instance (`ctx.conflicts`). */
export interface Conflicts {
  policy(model: string): ConflictPolicy;
  report(conflict: Conflict): number;
}

/** The key-value store of the instance (`ctx.meta`). */
export interface Meta {
  get(key: string): Uint8Array | undefined;
  getJson(key: string): any;
  set(key: string, value: Uint8Array | string | Json): void;
  delete(key: string): boolean;
  listKeys(prefix: string, options?: { after?: string; limit?: number }): string[];
}

/** The object store of the instance (`ctx.blobs`). */
export interface Blobs {
  get(key: string): Uint8Array | undefined;
  put(key: string, data: Uint8Array | string | Json): void;
  delete(key: string): boolean;
  list(prefix: string, options?: { after?: string; limit?: number }): { key: string; size: number }[];
}

// ---------------------------------------------------------------- mappers

/** A list of mapping rules: external record ⇄ local values. */
export declare class Mapper {
  /** An import mapper with no rules. */
  constructor();
  /** An export mapper with no rules. */
  static export(): Mapper;
  direct(from: string, to: string): this;
  directWith(from: string, to: string, convert: (value: any) => any): this;
  onCreate(from: string, to: string): this;
  method(fn: (source: any) => Record<string, any> | null | undefined): this;
  methodOnCreate(fn: (source: any) => Record<string, any> | null | undefined): this;
  binding(from: string, to: string, model: string): this;
  submapping(from: string, to: string, child: Mapper): this;
  map(ctx: Context | undefined, source: Record<string, any>, forCreate?: boolean): Record<string, any>;
  mapFields(ctx: Context | undefined, source: Record<string, any>, forCreate: boolean, fields: string[] | undefined): Record<string, any>;
}

/** The `mapper` unit of one model: `to_local`, `to_local_batch`, `to_external`. */
export declare class MapperUnit implements Unit {
  constructor(importMapper: Mapper, exportMapper: Mapper);
  readonly importMapper: Mapper;
  readonly exportMapper: Mapper;
  methods(): string[];
  call(ctx: Context, method: string, payload: any): any;
}

/** Ready-made converters for `Mapper#directWith`. */
export declare namespace convert {
  function float(value: any): number | null;
  function int(value: any): number | null;
  function string(value: any): string | null;
  function boolean(value: any): boolean | null;
  function decimalText(digits: number): (value: any) => string | null;
  function noneIfEmpty(value: any): any;
  function centsToAmount(value: any): number | null;
  function amountToCents(value: any): number | null;
}

// ---------------------------------------------------------------- adapters

/** A record the remote holds after a create, find or write. */
export interface Saved {
  id: any;
  version?: any;
}

/** What an adapter implements (all optional; each may be async). */
export interface AdapterMethods {
  search?(ctx: Context, since: any): MaybePromise<{ ids: any[]; cursor?: any }>;
  read?(ctx: Context, id: string): MaybePromise<any>;
  create?(ctx: Context, values: Record<string, any>, idempotencyKey: string): MaybePromise<Saved>;
  find?(ctx: Context, idempotencyKey: string, localId: number): MaybePromise<Saved | undefined>;
  write?(ctx: Context, id: string, values: Record<string, any>, ifMatch: string | undefined): MaybePromise<any>;
  delete?(ctx: Context, id: string): MaybePromise<void>;
}

/** The unit of an adapter: extend it, or pass the methods to `adapter()`. */
export declare class Adapter implements Unit {
  constructor(methods?: AdapterMethods);
  methods(): string[];
  call(ctx: Context, method: string, payload: any): Promise<any>;
}
/** An adapter unit from an object of methods. */
export declare function adapter(methods: AdapterMethods): Adapter;

// ---------------------------------------------------------------- http

export declare namespace http {
  interface RequestOptions {
    headers?: Record<string, string>;
    json?: any;
    body?: string | Uint8Array;
    /** A sealed credential the host adds to the request. */
    credential?: string;
    /** Follow up to this many redirects (none by default). */
    maxRedirects?: number;
  }
  /** A response, with its body read. */
  class HttpResponse {
    constructor(status: number, headers: Record<string, string>, body: Uint8Array, what?: string);
    readonly status: number;
    readonly headers: Record<string, string>;
    readonly body: Uint8Array;
    readonly what: string;
    header(name: string): string | undefined;
    text(): string;
    json(): any;
    /** The response itself below 400; else its error, thrown. */
    errorForStatus(): HttpResponse;
  }
  /** The error a status means (408, 412, 429, 5xx retryable; 404 not-found; other 4xx final). */
  function errorForStatus(response: HttpResponse): FerryError | undefined;
  function request(method: string, url: string, options?: RequestOptions): Promise<HttpResponse>;
  function get(url: string, options?: RequestOptions): Promise<HttpResponse>;
  function post(url: string, options?: RequestOptions): Promise<HttpResponse>;
  function put(url: string, options?: RequestOptions): Promise<HttpResponse>;
  function patch(url: string, options?: RequestOptions): Promise<HttpResponse>;
  function del(url: string, options?: RequestOptions): Promise<HttpResponse>;
  function getJson(url: string, options?: RequestOptions): Promise<any>;
  function sendJson(method: string, url: string, body: any, options?: RequestOptions): Promise<any>;
}

// ---------------------------------------------------------------- rest

export declare namespace rest {
  const MAX_PAGES: number;
  /** How an API splits a list into pages. */
  class Paging {
    static none(): Paging;
    static pageNumber(param: string, first?: number): Paging;
    static offsetLimit(offset: string, limit: string, size: number): Paging;
    static cursor(param: string, next: string): Paging;
    static linkHeader(): Paging;
    static nextUrl(next: string): Paging;
    perPage(param: string, size: number): Paging;
    lastPageAt(pointer: string): Paging;
  }
  /** A client of one REST API. */
  class Rest {
    constructor(base: string);
    static fromParam(ctx: Context, name: string): Rest;
    header(name: string, value: string): this;
    credential(name: string): this;
    url(path: string, query?: Record<string, any>): string;
    request(method: string, path: string, options?: http.RequestOptions & { query?: Record<string, any> }): Promise<http.HttpResponse>;
    send(method: string, path: string, options?: http.RequestOptions & { query?: Record<string, any> }): Promise<http.HttpResponse>;
    get(path: string, query?: Record<string, any>): Promise<any>;
    sendJson(method: string, path: string, body: any, options?: http.RequestOptions): Promise<any>;
    list(path: string, query: Record<string, any>, paging: Paging, records?: string): Promise<any[]>;
  }
  /** The adapter of a REST collection, configured instead of written. */
  class Collection extends Adapter {
    constructor(path: string, api: (ctx: Context) => MaybePromise<Rest>);
    paging(paging: Paging): this;
    records(pointer: string): this;
    primaryKey(field: string): this;
    changedSince(param: string, field: string): this;
    versionField(field: string): this;
    writeMethod(method: string): this;
    ifMatch(): this;
    idempotencyHeader(header: string): this;
    readOnly(message: string): this;
    search(ctx: Context, since: any): Promise<{ ids: any[]; cursor: any }>;
    read(ctx: Context, id: string): Promise<any>;
    create(ctx: Context, values: Record<string, any>, idempotencyKey: string): Promise<Saved>;
    write(ctx: Context, id: string, values: Record<string, any>, ifMatch: string | undefined): Promise<any>;
    delete(ctx: Context, id: string): Promise<void>;
  }
  /** Every record of a paged list; `fetch(url)` answers a page's body and `Link` header. */
  function paginate(first: string, paging: Paging, records: string, fetch: (url: string) => Promise<{ body: any; link?: string }>): Promise<any[]>;
  /** The `rel="next"` target of a `Link` header. */
  function nextLink(header: string | undefined): string | undefined;
  /** The value at a JSON pointer. */
  function pointer(document: any, path: string): any;
}

// ---------------------------------------------------------------- generic

export declare namespace generic {
  /** The `binder` unit of a model, over the host's links. */
  class LinkBinder implements Unit {
    constructor(model: string);
    methods(): string[];
    call(ctx: Context, method: string, payload: any): any;
  }
  /** The `importer` unit of a model. */
  class Importer implements Unit {
    constructor(model: string);
    versionField(field: string): this;
    review(check: (values: Record<string, any>) => string | undefined | null): this;
    methods(): string[];
    call(ctx: Context, method: string, payload: any): any;
  }
  /** The `exporter` unit of a model. */
  class Exporter implements Unit {
    constructor(model: string);
    versionField(field: string): this;
    methods(): string[];
    call(ctx: Context, method: string, payload: any): any;
  }
  /** Job `import-batch` `{model, since?}`. */
  function importBatch(ctx: Context, payload: { model: string; since?: any }): { enqueued: number; stopped?: boolean };
  /** Job `import-record` `{model, external_id, resolution?}`. */
  function importRecord(ctx: Context, payload: { model: string; external_id: string | number; resolution?: "remote" }): any;
  /** Job `export-record` `{model, record_id, changed_fields?, resolution?}`. */
  function exportRecord(ctx: Context, payload: { model: string; record_id: number; changed_fields?: string[]; resolution?: "local" }): any;
  /** The cursor of a model's batch import: `import:{model}`. */
  function importCursor(model: string): string;
  function versionText(value: any): string | undefined;
  function remoteVersion(record: any): string | undefined;
  function namedVersion(record: any, field?: string): string | undefined;
  function versionOf(record: any, field?: string): string;
  function newer(a: any, b: any): any;
  function updatedAtMs(record: any): number | undefined;
}

// ---------------------------------------------------------------- webhooks

/** A call to one of the module's webhooks. */
export declare class WebhookRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: [string, string][];
  readonly body: Uint8Array;
  header(name: string): string | undefined;
  text(): string;
  json(): any;
}

/** The answer to a webhook call. */
export declare class WebhookResponse {
  constructor(status?: number);
  status: number;
  headers: [string, string][];
  body: Uint8Array;
  static json(status: number, body: any): WebhookResponse;
  static text(status: number, body: string): WebhookResponse;
  header(name: string, value: string): this;
  withBody(body: string | Uint8Array): this;
}

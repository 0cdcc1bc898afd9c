// An in-memory host for the SDK's tests: local records with revisions,
// links with sync states, cursors, jobs, conflicts, and unit calls
// dispatched to the connector under test. It speaks the WIT types as
// componentize-js does (u64 as BigInt, errors thrown with a `payload`).

/** An error as componentize-js throws a host's `result` error. */
export function hostError(kind, message) {
  const error = new Error(`${kind}: ${message}`);
  error.payload = { kind, message };
  return error;
}

export const state = {
  /** The connector whose units `units.call` reaches. */
  connector: undefined,
  records: new Map(),
  nextId: 1,
  links: [],
  cursors: new Map(),
  jobs: [],
  conflicts: [],
  policy: "manual",
  logs: [],
  params: { url: "http://shop.test" },
  intents: new Map(),
};

/** Forget everything (between tests). */
export function reset(connector) {
  Object.assign(state, {
    connector,
    records: new Map(),
    nextId: 1,
    links: [],
    cursors: new Map(),
    jobs: [],
    conflicts: [],
    policy: "manual",
    logs: [],
    intents: new Map(),
  });
}

function key(model, id) {
  return `${model}:${id}`;
}

/** A local record, or the host's not-found error. */
export function stored(model, id) {
  const record = state.records.get(key(model, id));
  if (!record) throw hostError("not-found", `record \`${model} ${id}\` not found`);
  return record;
}

/** The host's `session` resource. */
export class FakeSession {
  constructor(flags = []) {
    this.flags = flags;
  }
  info() {
    return { instance: "test", backend: "test", module: "test", moduleBackend: "test", user: "me", contextFlags: this.flags, jobId: 7n };
  }
  param(name) {
    return state.params[name];
  }
  params() {
    return JSON.stringify(state.params);
  }
  hasFlag(flag) {
    return this.flags.includes(flag);
  }
  withFlags(flags) {
    return new FakeSession([...this.flags, ...flags]);
  }
  log(level, message) {
    state.logs.push([level, message]);
  }
  read(model, id) {
    const r = stored(model, id);
    return { id: BigInt(r.id), model, values: JSON.stringify(r.values), createdAt: 1n, updatedAt: BigInt(r.updatedAt) };
  }
  search() {
    return [];
  }
  create(model, values) {
    const id = state.nextId++;
    state.records.set(key(model, id), { id, values: JSON.parse(values), revision: 1, updatedAt: Date.now() });
    return BigInt(id);
  }
  createLinked(model, values, externalId) {
    const id = this.create(model, values);
    state.links.push({ model, localId: Number(id), externalId, remoteVersion: undefined, syncedRevision: undefined });
    return id;
  }
  write(model, id, values) {
    const r = stored(model, id);
    r.values = { ...r.values, ...JSON.parse(values) };
    r.revision += 1;
    r.updatedAt = Date.now();
  }
  unlink(model, id) {
    state.records.delete(key(model, id));
  }
  checkpoint(model, id, message) {
    state.logs.push(["checkpoint", `${model} ${id}: ${message}`]);
  }
}

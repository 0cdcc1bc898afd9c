import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import { Connector, Context, Mapper, MapperUnit, generic, kind, unit } from "../index.js";
import { FakeSession, reset, state } from "./fake/host.js";

/** A remote of products, answered synchronously (the fake host's unit calls are). */
let remote;
let writes;

const shop = unit.fromMethods({
  search: () => ({ ids: Object.keys(remote), cursor: 99 }),
  read: (ctx, { id }) => remote[id],
  create: (ctx, { values, idempotency_key }) => {
    const id = String(100 + Object.keys(remote).length);
    remote[id] = { ...values, id, updated_at: 1 };
    writes.push(["create", id, idempotency_key]);
    return { id, version: 1 };
  },
  write: (ctx, { id, values, if_match }) => {
    remote[id] = { ...remote[id], ...values, updated_at: remote[id].updated_at + 1 };
    writes.push(["write", id, values, if_match]);
    return { version: remote[id].updated_at };
  },
});

const connector = new Connector()
  .unit(kind.ADAPTER, "product", shop)
  .unit(kind.MAPPER, "product", new MapperUnit(new Mapper().direct("name", "name"), Mapper.export().direct("name", "name")))
  .unit(kind.BINDER, "product", new generic.LinkBinder("product"))
  .unit(kind.IMPORTER, "product", new generic.Importer("product"))
  .unit(kind.EXPORTER, "product", new generic.Exporter("product"));

const ctx = () => new Context(new FakeSession());
const importOne = (id) => generic.importRecord(ctx(), { model: "product", external_id: id });
const exportOne = (localId, fields) =>
  generic.exportRecord(ctx(), { model: "product", record_id: localId, changed_fields: fields });

beforeEach(() => {
  reset(connector);
  remote = { 1: { id: 1, name: "Mug", updated_at: 10 }, 2: { id: 2, name: "Cup", updated_at: 10 } };
  writes = [];
});

test("a batch enqueues one import per id and moves the cursor", () => {
  assert.deepEqual(generic.importBatch(ctx(), { model: "product" }), { enqueued: 2 });
  assert.deepEqual(
    state.jobs.map((j) => [j.name, j.identityKey]),
    [["import-record", "import:product:1"], ["import-record", "import:product:2"]],
  );
  assert.equal(state.cursors.get("import:product"), "99");
});

test("an import creates once, then skips what did not change", () => {
  assert.deepEqual(importOne("1"), { local_id: 1, created: true });
  assert.deepEqual(importOne("1"), { local_id: 1, created: false, skipped: true });
  remote[1] = { ...remote[1], name: "Big mug", updated_at: 11 };
  assert.deepEqual(importOne("1"), { local_id: 1, created: false });
  assert.equal(state.records.get("product:1").values.name, "Big mug");
  assert.equal(state.records.size, 1);
});

test("a local change is exported once, with If-Match, and not again", () => {
  importOne("1");
  new FakeSession().write("product", 1n, JSON.stringify({ name: "Local mug" }));
  assert.deepEqual(exportOne(1, ["name"]), { external_id: "1", created: false });
  assert.deepEqual(writes, [["write", "1", { name: "Local mug" }, "10"]]);
  assert.deepEqual(exportOne(1, ["name"]), { external_id: "1", created: false, skipped: true });
  assert.deepEqual(importOne("1"), { local_id: 1, created: false, skipped: true });
});

test("a record without a link is created with its intent's key", () => {
  const localId = Number(new FakeSession().create("product", JSON.stringify({ name: "New" })));
  assert.deepEqual(exportOne(localId), { external_id: "102", created: true });
  assert.deepEqual(writes, [["create", "102", `key-product:${localId}`]]);
});

test("a change on both sides is decided by the policy", () => {
  importOne("1");
  new FakeSession().write("product", 1n, JSON.stringify({ name: "Local mug" }));
  remote[1] = { ...remote[1], name: "Remote mug", updated_at: 11 };
  const manual = importOne("1");
  assert.equal(manual.conflict, "manual");
  assert.equal(state.conflicts.length, 1);
  assert.deepEqual(JSON.parse(state.conflicts[0].takeLocal.payload), { model: "product", record_id: 1, resolution: "local" });

  state.policy = "remote-wins";
  assert.deepEqual(importOne("1"), { local_id: 1, created: false, conflict: "remote-wins" });
  assert.equal(state.records.get("product:1").values.name, "Remote mug");
});

test("the guest turns every exception into the host's error record", async () => {
  const guest = new Connector()
    .unit("pricing", "*", unit.fromMethods({ quote: async (c, { n }) => ({ total: n * 2 }) }))
    .job("boom", "throws", () => null.x)
    .guest();
  const session = new FakeSession();
  assert.equal(await guest.invoke(session, "pricing", "product", "quote", '{"n": 2}'), '{"total":4}');
  await assert.rejects(guest.invoke(session, "adapter", "product", "read", "{}"), { kind: "not-found" });
  await assert.rejects(guest.runJob(session, undefined, "nope", "{}"), { kind: "not-found" });
  await assert.rejects(guest.runJob(session, undefined, "boom", "{}"), (e) => e.kind === "final" && !(e instanceof Error));
  assert.match(state.logs.at(-1)[1], /^job `boom` threw TypeError/);
  assert.equal(guest.describe().sdkVersion.startsWith("ferry-sdk-js "), true);
});

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { rest } from "../index.js";

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

/** Answer each request with `answer(url, init)` ({status, body, headers}), and keep them. */
function serve(answer) {
  const sent = [];
  globalThis.fetch = async (url, init) => {
    sent.push({ url, ...init });
    const { status = 200, body = "", headers = {} } = answer(new URL(url), init);
    return new Response(typeof body === "string" ? body : JSON.stringify(body), { status, headers });
  };
  return sent;
}

const ctx = { requireParam: () => "http://shop.test", param: () => "k" };
const products = () =>
  new rest.Collection("api/v1/products", (c) => rest.Rest.fromParam(c, "url").header("x-api-key", c.param("api_key")))
    .paging(rest.Paging.pageNumber("page").perPage("per_page", 2).lastPageAt("/pages"))
    .records("/items")
    .changedSince("updated_since", "updated_at")
    .idempotencyHeader("idempotency-key")
    .ifMatch();

test("search reads every page since the cursor and answers the newest change", async () => {
  const items = [1, 2, 3].map((id) => ({ id, updated_at: 100 + id }));
  const sent = serve((url) => {
    const page = Number(url.searchParams.get("page"));
    return { body: { items: items.slice((page - 1) * 2, page * 2), pages: 2 } };
  });
  const found = await products().call(ctx, "search", { since: 50 });
  assert.deepEqual(found, { ids: [1, 2, 3], cursor: 103 });
  assert.deepEqual(
    sent.map((r) => r.url),
    [
      "http://shop.test/api/v1/products?updated_since=50&page=1&per_page=2",
      "http://shop.test/api/v1/products?updated_since=50&page=2&per_page=2",
    ],
  );
  assert.equal(sent[0].headers["x-api-key"], "k");
});

test("creates carry the idempotency key, writes If-Match, and a 412 is retryable", async () => {
  const sent = serve((url, init) =>
    init.method === "POST"
      ? { status: 201, body: { id: 9, updated_at: 7 } }
      : { status: init.headers["if-match"] === '"7"' ? 200 : 412, body: { id: 9, updated_at: 8 } },
  );
  const collection = products();
  assert.deepEqual(await collection.call(ctx, "create", { values: { name: "Mug" }, idempotency_key: "K1" }), {
    id: 9,
    version: "7",
  });
  assert.equal(sent[0].headers["idempotency-key"], "K1");
  assert.deepEqual(await collection.call(ctx, "write", { id: 9, values: {}, if_match: "7" }), { version: "8" });
  await assert.rejects(collection.call(ctx, "write", { id: 9, values: {}, if_match: "6" }), { kind: "retryable" });
  await assert.rejects(collection.call(ctx, "find", {}), { kind: "not-found" });
});

test("statuses map to error kinds, with Retry-After", async () => {
  serve((url) => ({ status: Number(url.pathname.slice(1)), headers: { "retry-after": "3" }, body: "no" }));
  const api = new rest.Rest("http://shop.test");
  await assert.rejects(api.get("429"), { kind: "retryable", retryAfterMs: 3000 });
  await assert.rejects(api.get("503"), { kind: "retryable" });
  await assert.rejects(api.get("404"), { kind: "not-found" });
  await assert.rejects(api.get("422"), { kind: "final" });
});

test("other pagings stop where the API says", async () => {
  const fetchPages = (pages) => async (url) => pages[url];
  const link = await rest.paginate("http://a/1", rest.Paging.linkHeader(), "", fetchPages({
    "http://a/1": { body: [1], link: '<http://a/2>; rel="next"' },
    "http://a/2": { body: [2] },
  }));
  assert.deepEqual(link, [1, 2]);
  const cursor = await rest.paginate("http://a/x", rest.Paging.cursor("c", "/next"), "/data", fetchPages({
    "http://a/x": { body: { data: [1], next: "n" } },
    "http://a/x?c=n": { body: { data: [2], next: null } },
  }));
  assert.deepEqual(cursor, [1, 2]);
});

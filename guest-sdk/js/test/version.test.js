import assert from "node:assert/strict";
import { test } from "node:test";
import { FerryError, generic } from "../index.js";

test("the version is updated_at, then etag, then version", () => {
  assert.equal(generic.remoteVersion({ updated_at: 1700, etag: '"e1"', version: 3 }), "1700");
  assert.equal(generic.remoteVersion({ updated_at: null, etag: 'W/"x"' }), 'W/"x"');
  assert.equal(generic.remoteVersion({ name: "x" }), undefined);
  assert.equal(generic.versionOf({ updated_at: 1, rev: "r9" }, "rev"), "r9");
});

test("a record without a version gets the Rust SDK's hash of its content", () => {
  // Pinned by the Rust SDK's tests: both SDKs store the same version.
  assert.equal(generic.versionOf({}), "hash:08f44b07b5901a25");
  const a = generic.versionOf({ name: "Mug", tags: ["x", { b: 1, a: 2 }] });
  assert.equal(a, generic.versionOf({ tags: ["x", { a: 2, b: 1 }], name: "Mug" }));
  assert.notEqual(a, generic.versionOf({ name: "Mug!", tags: ["x", { b: 1, a: 2 }] }));
});

test("errors keep the host's kind, and anything else is final", () => {
  const host = FerryError.from({ payload: { kind: "retryable", message: "busy", retryAfterMs: 1500n } });
  assert.equal(host.kind, "retryable");
  assert.equal(host.retryAfterMs, 1500);
  assert.deepEqual(host.toWit(), { kind: "retryable", message: "busy", retryAfterMs: 1500n });
  assert.equal(FerryError.from(new TypeError("oops")).kind, "final");
  assert.equal(FerryError.from("plain").message, "plain");
  assert.equal(FerryError.notFound("x").context("reading").message, "reading: x");
});

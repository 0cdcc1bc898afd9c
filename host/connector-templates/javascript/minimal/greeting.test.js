import assert from "node:assert/strict";
import test from "node:test";
import { greet } from "./greeting.js";

test("hello greets by name", () => {
  assert.deepEqual(greet("Hello", { name: "Ada" }), { message: "Hello, Ada!" });
});

test("no name greets the world", () => {
  assert.deepEqual(greet("Hi", {}), { message: "Hi, world!" });
});

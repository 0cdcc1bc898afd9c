import assert from "node:assert/strict";
import test from "node:test";
import { priceBand } from "./rules.js";

test("from fifty on a product is premium", () => {
  assert.deepEqual(priceBand({ price: "50.00" }), { price_band: "premium" });
  assert.deepEqual(priceBand({ price: 12.5 }), { price_band: "standard" });
});

test("a price that is not a number is standard", () => {
  assert.deepEqual(priceBand({ price: "n/a" }), { price_band: "standard" });
  assert.deepEqual(priceBand({}), { price_band: "standard" });
});

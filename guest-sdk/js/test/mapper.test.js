import assert from "node:assert/strict";
import { test } from "node:test";
import { Mapper, MapperUnit, convert } from "../index.js";

test("converters read text and numbers, and name what they cannot read", () => {
  assert.equal(convert.float("19.90"), 19.9);
  assert.equal(convert.float(null), null);
  assert.equal(convert.int(" 42 "), 42);
  assert.equal(convert.int(2.6), 3);
  assert.equal(convert.boolean("yes"), true);
  assert.equal(convert.string(5), "5");
  assert.equal(convert.decimalText(2)(19.9), "19.90");
  assert.equal(convert.noneIfEmpty(""), null);
  assert.equal(convert.amountToCents("3.5"), 350);
  assert.equal(convert.centsToAmount(350), 3.5);
  assert.throws(() => convert.float("abc"), { kind: "final", message: 'cannot read "abc" as a number' });
});

test("a mapper applies direct, method, on-create and submapping rules", () => {
  const line = new Mapper().direct("qty", "quantity").directWith("price", "price_unit", convert.float);
  const order = new Mapper()
    .direct("number", "name")
    .onCreate("created", "imported_at")
    .method((rec) => ({ total: rec.lines.length }))
    .submapping("lines", "order_lines", line);
  const source = { number: "S1", created: 5, lines: [{ qty: 2, price: "3.5" }] };
  assert.deepEqual(order.map(undefined, source, true), {
    name: "S1",
    imported_at: 5,
    total: 1,
    order_lines: [{ quantity: 2, price_unit: 3.5 }],
  });
  assert.equal(order.map(undefined, source, false).imported_at, undefined);
  assert.throws(() => line.map(undefined, { price: "x" }), { message: /^field `price`: cannot read/ });
});

test("the mapper unit answers the mapper protocol, only the fields asked for", () => {
  const unit = new MapperUnit(
    new Mapper().direct("name", "name"),
    Mapper.export().direct("name", "name").directWith("list_price", "price", convert.decimalText(2)),
  );
  assert.deepEqual(unit.call(undefined, "to_local", { record: { name: "Mug", x: 1 } }), { name: "Mug" });
  const values = { name: "Mug", list_price: 9.5 };
  assert.deepEqual(unit.call(undefined, "to_external", { values, fields: ["list_price"] }), { price: "9.50" });
  assert.deepEqual(unit.call(undefined, "to_external", { values, fields: null }), { name: "Mug", price: "9.50" });
  assert.throws(() => unit.call(undefined, "explode", {}), { kind: "not-found" });
});

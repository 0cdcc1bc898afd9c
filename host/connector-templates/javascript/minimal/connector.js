// The `{{name}}` connector: one job, `hello`, to start from.
//
// Build and install: `ferry install .`; then
// `ferry backend add demo {{backend_key}}` and
// `ferry run demo hello --payload '{"name": "Ada"}' --wait`.

import { Connector } from "ferry-sdk";
import { greet } from "./greeting.js";

const connector = new Connector().job("hello", "Greet `name`", (ctx, payload) => {
  const greeting = ctx.param("greeting") ?? "Hello";
  ctx.info(`greeting ${JSON.stringify(payload.name)}`);
  return greet(greeting, payload);
});

export const guest = connector.guest();

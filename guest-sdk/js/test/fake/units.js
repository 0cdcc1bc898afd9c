import { Context } from "../../src/context.js";
import { FakeSession, hostError, state } from "./host.js";

export function call(kind, model, method, payload) {
  let unit;
  try {
    unit = state.connector.findUnit(kind, model);
  } catch {
    throw hostError("not-found", `no module implements a ${kind} unit for model \`${model}\``);
  }
  let answer;
  try {
    answer = unit.call(new Context(new FakeSession()), method, JSON.parse(payload), model);
  } catch (e) {
    throw hostError(e.kind ?? "final", e.message);
  }
  if (answer instanceof Promise) throw new Error(`the fake host calls units synchronously: ${kind}.${method} is async`);
  return JSON.stringify(answer ?? null);
}
export function callParent() {
  throw hostError("not-found", "no parent backend");
}

import { state } from "./host.js";

export function enqueue(spec) {
  state.jobs.push({ ...spec, payload: JSON.parse(spec.payload) });
  return BigInt(state.jobs.length);
}
export function lockOrRetry() {}

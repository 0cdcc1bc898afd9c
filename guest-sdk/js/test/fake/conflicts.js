import { state } from "./host.js";

export const policy = () => state.policy;
export function report(conflict) {
  state.conflicts.push(conflict);
  return BigInt(state.conflicts.length);
}

import { state } from "./host.js";

export const get = (name) => state.cursors.get(name);
export function set(name, value) {
  state.cursors.set(name, value);
}

// Runs the SDK under Node.js for its tests: the host's interfaces
// (`ferry:connector/*`) resolve to the in-memory fake host of `fake/`.
import { register } from "node:module";

register("./hooks.js", import.meta.url);

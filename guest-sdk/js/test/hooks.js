// Module resolution hook: `ferry:connector/units@0.1.3` → `fake/units.js`.
const PREFIX = "ferry:connector/";

export async function resolve(specifier, context, next) {
  if (specifier.startsWith(PREFIX)) {
    const name = specifier.slice(PREFIX.length).split("@")[0];
    return { url: new URL(`./fake/${name}.js`, import.meta.url).href, shortCircuit: true };
  }
  return next(specifier, context);
}

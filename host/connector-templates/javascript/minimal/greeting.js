// What `hello` answers: plain JavaScript, tested by `npm test` (node --test)
// on this machine (the SDK itself runs only inside the component).

/**
 * The answer to `payload` (`{"name": …}`), greeting with `greeting`.
 * @param {string} greeting
 * @param {{ name?: string }} payload
 */
export function greet(greeting, payload) {
  const name = payload?.name || "world";
  return { message: `${greeting}, ${name}!` };
}

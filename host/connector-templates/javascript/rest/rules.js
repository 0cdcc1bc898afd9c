// Mapping rules of your own: plain JavaScript, tested by `npm test`
// (node --test) on this machine (the SDK itself runs only inside the
// component).

/**
 * `premium` from 50 on, else `standard`: a field the API does not have.
 * @param {{ price?: string | number }} remote
 */
export function priceBand(remote) {
  const price = Number.parseFloat(remote?.price ?? "0");
  return { price_band: Number.isFinite(price) && price >= 50 ? "premium" : "standard" };
}

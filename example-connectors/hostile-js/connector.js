// Jobs that misbehave on purpose (the sandbox tests): `spin` loops forever,
// `grow` allocates until the memory cap, `fetch {url}` calls a host the
// manifest does not grant, `ok` answers.

import { Connector, http } from "ferry-sdk";

const connector = new Connector()
  .job("spin", "Loop forever", () => {
    for (let n = 0; ; n++);
  })
  .job("grow", "Allocate until stopped", () => {
    const hoard = [];
    for (;;) hoard.push(new Array(1 << 20).fill(hoard.length));
  })
  .job("fetch", "GET a URL", async (ctx, payload) => ({ status: (await http.get(payload.url)).status }))
  .job("ok", "Answer", () => ({ ok: true }));

export const guest = connector.guest();

// The generic binder unit, over the host's links.

import { noMethod } from "../unit.js";
import { idField, localIdField } from "./payload.js";

const METHODS = ["to_local", "to_external", "bind"];

/**
 * The `binder` unit of a model, over the host's links: `to_local`
 * `{external_id}` → `{local_id}`; `to_external` `{local_id}` →
 * `{external_id}`; `bind` `{local_id, external_id, data?}` → the link.
 */
export class LinkBinder {
  /** @param {string} model */
  constructor(model) {
    this.model = model;
  }

  /** The methods it answers. */
  methods() {
    return [...METHODS];
  }

  /** Run one method of the binder protocol. */
  call(ctx, method, payload) {
    switch (method) {
      case "to_local": {
        const link = ctx.links.toLocal(this.model, idField(payload, "external_id"));
        return { local_id: link?.localId ?? null };
      }
      case "to_external": {
        const link = ctx.links.toExternal(this.model, localIdField(payload, "local_id"));
        return { external_id: link?.externalId ?? null };
      }
      case "bind": {
        const link = ctx.links.bind(
          this.model,
          localIdField(payload, "local_id"),
          idField(payload, "external_id"),
          payload.data,
        );
        return {
          model: link.model,
          local_id: link.localId,
          external_id: link.externalId,
          sync_date: link.syncDate ?? null,
          data: link.data,
        };
      }
      default:
        throw noMethod("binder", method, METHODS);
    }
  }
}

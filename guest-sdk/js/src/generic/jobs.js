// The generic jobs: a batch that enqueues one import per changed record
// (reading from a committed cursor), and the jobs that run one import or
// one export.

import { FerryError } from "../errors.js";
import { idText } from "../json.js";
import { kind } from "../unit.js";
import { idField, localIdField, strField } from "./payload.js";

/** The cursor of a model's batch import: `import:{model}`. */
export function importCursor(model) {
  return `import:${model}`;
}

/**
 * Job `import-batch` `{model, since?}`: ask the adapter which records
 * changed and enqueue one `import-record` job per id (identity key
 * `import:{model}:{id}`, so that a record is never queued twice).
 *
 * It starts at the payload's `since` when given (a one-off re-read, e.g.
 * `since: 0`; the cursor stays as it was), else at the committed cursor
 * `import:{model}`, else at the beginning. Once every id is enqueued the
 * cursor moves to the adapter's `cursor`, or to the time the search
 * started; it commits with the batch's `done`, so a batch that fails asks
 * the same question again. A batch stopped by an operator leaves it.
 * @param {import("../context.js").Context} ctx
 * @param {{model: string, since?: any}} payload
 */
export function importBatch(ctx, payload) {
  const model = strField(payload, "model");
  const cursorName = importCursor(model);
  const given = payload.since ?? undefined;
  const since = given ?? ctx.cursors.get(cursorName) ?? null;
  const started = Date.now();
  const found = ctx.call(kind.ADAPTER, model, "search", { since });
  if (!Array.isArray(found?.ids)) throw FerryError.fatal("adapter `search` returned no `ids` list");
  const total = found.ids.length;
  let enqueued = 0;
  for (const raw of found.ids) {
    if (ctx.stopRequested()) {
      ctx.warn(`stopped by an operator after ${enqueued} of ${total}; cursor \`${cursorName}\` stays at ${JSON.stringify(since)}`);
      return { enqueued, stopped: true };
    }
    const id = idText(raw);
    ctx.enqueue({
      name: "import-record",
      payload: { model, external_id: id },
      identityKey: `import:${model}:${id}`,
      description: `Import ${model} ${id}`,
    });
    enqueued += 1;
    ctx.progress(total, enqueued);
  }
  if (given !== undefined) {
    ctx.info(`enqueued ${enqueued} ${model} imports changed since ${JSON.stringify(given)} (given; cursor \`${cursorName}\` unchanged)`);
    return { enqueued };
  }
  const cursor = found.cursor ?? started;
  ctx.cursors.set(cursorName, cursor);
  ctx.info(
    `enqueued ${enqueued} ${model} imports changed since ${JSON.stringify(since)}; cursor \`${cursorName}\` moves to ${JSON.stringify(cursor)}`,
  );
  return { enqueued };
}

/**
 * Job `import-record` `{model, external_id, resolution?}`: run the model's
 * importer (`resolution: "remote"` imports over a local change).
 */
export function importRecord(ctx, payload) {
  const model = strField(payload, "model");
  const run = { external_id: idField(payload, "external_id") };
  if (payload.resolution !== undefined) run.resolution = payload.resolution;
  return ctx.call(kind.IMPORTER, model, "run", run);
}

/**
 * Job `export-record`, fed by a `record.updated`/`record.created` event
 * `{model, record_id, changed_fields}`, or enqueued to resolve a conflict
 * `{model, record_id, resolution: "local"}`: run the model's exporter.
 */
export function exportRecord(ctx, payload) {
  const model = strField(payload, "model");
  const run = { local_id: localIdField(payload, "record_id"), fields: payload.changed_fields ?? null };
  if (payload.resolution !== undefined) run.resolution = payload.resolution;
  return ctx.call(kind.EXPORTER, model, "run", run);
}

// Deciding a conflict (a record changed on both sides since its last sync)
// by the operator's policy, shared by the generic importer and exporter so
// that both decide the same way, whichever runs first.

import { ConflictPolicy } from "../stores.js";
import { kind } from "../unit.js";
import { updatedAtMs } from "./version.js";

/** The local version wins. */
export const LOCAL = "local";
/** The external version wins. */
export const REMOTE = "remote";

/**
 * What `policy` says, given the remote record's `updated_at` (ms, when it
 * has a numeric one) and the local record's last change: `{side, why}`, or
 * `{manual: why}`. `newest-wins` gives a tie to the remote, in the importer
 * and the exporter alike; a remote without a numeric time goes to a person.
 */
function decide(policy, remoteUpdatedMs, localUpdatedAt) {
  switch (policy) {
    case ConflictPolicy.REMOTE_WINS:
      return { side: REMOTE, why: "policy remote-wins" };
    case ConflictPolicy.LOCAL_WINS:
      return { side: LOCAL, why: "policy local-wins" };
    case ConflictPolicy.NEWEST_WINS:
      if (remoteUpdatedMs === undefined) {
        return { manual: "policy newest-wins, but the remote record has no numeric `updated_at` to compare" };
      }
      return remoteUpdatedMs >= localUpdatedAt
        ? { side: REMOTE, why: `policy newest-wins: remote changed at ${remoteUpdatedMs}, local at ${localUpdatedAt}` }
        : { side: LOCAL, why: `policy newest-wins: local changed at ${localUpdatedAt}, remote at ${remoteUpdatedMs}` };
    default:
      return { manual: "policy manual" };
  }
}

/** The job that applies the local version: a forced export. */
export function takeLocal(model, localId) {
  return { name: "export-record", payload: { model, record_id: localId, resolution: "local" } };
}

/** The job that applies the external version: a forced import. */
export function takeRemote(model, externalId) {
  return { name: "import-record", payload: { model, external_id: externalId, resolution: "remote" } };
}

/** Enqueue a forced job with the identity key the other jobs of that record use. */
export function enqueueForced(ctx, job, identityKey) {
  return ctx.enqueue({ ...job, identityKey, description: `${job.name} (conflict decided by policy)` });
}

/**
 * Decide a clash by the model's policy, logging the decision (nothing is
 * overwritten silently); a manual one is reported with both versions.
 * Answers `{side, policy}` or `{reported: id}`.
 * @param {import("../context.js").Context} ctx
 * @param {{model: string, localId: number, externalId: string, local: object, localUpdatedAt: number, remote: any}} clash
 */
export function settle(ctx, clash) {
  const policy = ctx.conflicts.policy(clash.model);
  const what = `${clash.model} ${clash.localId} (external ${clash.externalId}) changed on both sides since the last sync`;
  const decision = decide(policy, updatedAtMs(clash.remote), clash.localUpdatedAt);
  if (decision.side) {
    ctx.warn(`${what}: the ${decision.side} version wins (${decision.why})`);
    return { side: decision.side, policy };
  }
  const remote = ctx.call(kind.MAPPER, clash.model, "to_local", { record: clash.remote, for_create: false });
  const id = ctx.conflicts.report({
    model: clash.model,
    localId: clash.localId,
    externalId: clash.externalId,
    local: clash.local,
    remote,
    takeLocal: takeLocal(clash.model, clash.localId),
    takeRemote: takeRemote(clash.model, clash.externalId),
  });
  ctx.warn(`${what}: nothing written, kept as conflict ${id} for a person (${decision.manual}; \`ferry conflicts show ${id}\`)`);
  return { reported: id };
}

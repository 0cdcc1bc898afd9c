import { state, stored } from "./host.js";

const find = (model, localId) => state.links.find((l) => l.model === model && l.localId === Number(localId));

function wit(l) {
  return { model: l.model, localId: BigInt(l.localId), externalId: l.externalId, syncDate: 5n, data: "{}" };
}

export function bind(model, localId, externalId) {
  state.links = state.links.filter((l) => !(l.model === model && (l.localId === Number(localId) || l.externalId === externalId)));
  const l = { model, localId: Number(localId), externalId, remoteVersion: undefined, syncedRevision: undefined };
  state.links.push(l);
  return wit(l);
}
export function toExternal(model, localId) {
  const l = find(model, localId);
  return l && wit(l);
}
export function toLocal(model, externalId) {
  const l = state.links.find((x) => x.model === model && x.externalId === externalId);
  return l && wit(l);
}
export function syncStateOf(model, localId) {
  const l = find(model, localId);
  if (!l) return undefined;
  const r = stored(model, localId);
  return {
    link: wit(l),
    remoteVersion: l.remoteVersion,
    syncedRevision: l.syncedRevision === undefined ? undefined : BigInt(l.syncedRevision),
    revision: BigInt(r.revision),
    localUpdatedAt: BigInt(r.updatedAt),
  };
}
export function bindSynced(model, localId, externalId, remoteVersion, syncedRevision) {
  bind(model, localId, externalId);
  const l = find(model, localId);
  l.remoteVersion = remoteVersion;
  l.syncedRevision = Number(syncedRevision);
  state.intents.delete(`${model}:${localId}`);
  return wit(l);
}
export function beginCreate(model, localId) {
  const k = `${model}:${localId}`;
  const resumed = state.intents.has(k);
  if (!resumed) state.intents.set(k, `key-${k}`);
  return { key: state.intents.get(k), resumed, createdAt: 1n, revision: BigInt(stored(model, localId).revision) };
}

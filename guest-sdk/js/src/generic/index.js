// Generic units and jobs: the Odoo-connector importer, exporter and binder,
// written once over the standard unit protocol so that a connector only
// writes its adapter and mappers. Every step goes through the host, so a
// unit of another module (in any language) that overrides one of them is
// used.

export { LinkBinder } from "./binder.js";
export { Exporter } from "./exporter.js";
export { Importer } from "./importer.js";
export { exportRecord, importBatch, importCursor, importRecord } from "./jobs.js";
export { namedVersion, newer, remoteVersion, updatedAtMs, versionOf, versionText } from "./version.js";

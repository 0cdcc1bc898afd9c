// ferry-sdk: write Ferry connectors in JavaScript. A connector module is an
// ES module whose `guest` export is `connector.guest()`; `ferry build`
// makes it a WebAssembly component with componentize-js. See README.md.

export { Adapter, adapter } from "./src/adapter.js";
export { Connector, SDK_VERSION } from "./src/connector.js";
export { Context, NO_EXPORT, filter } from "./src/context.js";
export * as convert from "./src/convert.js";
export { DeniedError, ErrorKind, FerryError, FinalError, NotFoundError, RetryableError } from "./src/errors.js";
export * as generic from "./src/generic/index.js";
export * as http from "./src/http.js";
export { SyncState } from "./src/links.js";
export { Mapper, MapperUnit } from "./src/mapper.js";
export * as rest from "./src/rest/index.js";
export { ConflictPolicy } from "./src/stores.js";
export * as unit from "./src/unit.js";
export { kind } from "./src/unit.js";
export { WebhookRequest, WebhookResponse } from "./src/webhook.js";

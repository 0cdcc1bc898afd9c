// The `{{name}}` connector: products between the local side and a REST API
// whose lists are page-numbered (`GET {url}/api/v1/products?page=N` ->
// `{items, pages}`) and whose records carry `id` and `updated_at`.
//
// You write the adapter (how to talk to the API) and the mapper (which field
// is which); the SDK's generic importer, exporter and binder do the rest:
// links so that a second import updates instead of duplicating, versions and
// conflicts, idempotent creates.
//
//   ferry install .
//   ferry backend add demo {{backend_key}} --param url=http://127.0.0.1:8790
//   ferry run demo import-batch --payload '{"model": "product"}' --wait
//   ferry worker --until-idle    # the import-record jobs the batch enqueued

import { Connector, Mapper, MapperUnit, convert, generic, kind, rest } from "ferry-sdk";
import { priceBand } from "./rules.js";

// The adapter of one collection: lists asked only for what changed since the
// newest `updated_at` of the last one; creates carry the exporter's key as
// `Idempotency-Key` (a create tried again after a crash gets back the record
// made the first time); writes go over the version read just before
// (`If-Match`: a change made remotely in between is refused, then checked for
// a conflict).
const products = new rest.Collection("api/v1/products", (ctx) =>
  rest.Rest.fromParam(ctx, "url").header("x-api-key", ctx.param("api_key") ?? ""),
)
  .paging(rest.Paging.pageNumber("page").perPage("per_page", 200).lastPageAt("/pages"))
  .records("/items")
  .changedSince("updated_since", "updated_at")
  .idempotencyHeader("idempotency-key")
  .ifMatch();

// Which remote field is which local one, both ways.
const productMapper = new MapperUnit(
  new Mapper()
    .direct("name", "name")
    .direct("sku", "default_code")
    .directWith("price", "list_price", convert.float)
    .method(priceBand),
  Mapper.export()
    .direct("name", "name")
    .direct("default_code", "sku")
    .directWith("list_price", "price", convert.decimalText(2)),
);

const connector = new Connector()
  .unit(kind.ADAPTER, "product", products)
  .unit(kind.MAPPER, "product", productMapper)
  .unit(kind.BINDER, "product", new generic.LinkBinder("product"))
  .unit(kind.IMPORTER, "product", new generic.Importer("product"))
  .unit(kind.EXPORTER, "product", new generic.Exporter("product"))
  .job("import-batch", "Enqueue one import-record job per record changed remotely", generic.importBatch)
  .job("import-record", "Import one record", generic.importRecord)
  .job("export-record", "Export one local record", generic.exportRecord);

export const guest = connector.guest();

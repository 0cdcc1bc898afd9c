// The `shop-js` connector: the shop's products, two-way, in JavaScript. The
// v1 REST collection is the adapter; the product mappers are the Rust `shop`
// connector's; the SDK's generic binder, importer and exporter do the rest
// (creates carry `Idempotency-Key`, writes `If-Match`, and the batch's
// cursor is the newest `updated_at` listed).

import { Connector, Mapper, MapperUnit, convert, generic, kind, rest } from "ferry-sdk";

const products = new rest.Collection("api/v1/products", (ctx) =>
  rest.Rest.fromParam(ctx, "url").header("x-api-key", ctx.param("api_key") ?? ""),
)
  .paging(rest.Paging.pageNumber("page").perPage("per_page", 200).lastPageAt("/pages"))
  .records("/items")
  .changedSince("updated_since", "updated_at")
  .idempotencyHeader("idempotency-key")
  .ifMatch();

const productMapper = new MapperUnit(
  new Mapper()
    .direct("name", "name")
    .direct("sku", "default_code")
    .directWith("price", "list_price", convert.float)
    .directWith("stock", "qty_available", convert.int)
    .direct("active", "active")
    .method((rec) => ({ price_band: (convert.float(rec.price) ?? 0) >= 50 ? "premium" : "standard" }))
    .methodOnCreate(() => ({ origin: "shop" })),
  Mapper.export()
    .direct("name", "name")
    .direct("default_code", "sku")
    .directWith("list_price", "price", convert.decimalText(2))
    .direct("qty_available", "stock")
    .direct("active", "active"),
);

const connector = new Connector()
  .unit(kind.ADAPTER, "product", products)
  .unit(kind.MAPPER, "product", productMapper)
  .unit(kind.BINDER, "product", new generic.LinkBinder("product"))
  .unit(kind.IMPORTER, "product", new generic.Importer("product"))
  .unit(kind.EXPORTER, "product", new generic.Exporter("product"))
  .job("import-batch", "Enqueue one import-record job per product changed in the shop", generic.importBatch)
  .job("import-record", "Import one product from the shop", generic.importRecord)
  .job("export-record", "Export one local product to the shop", generic.exportRecord);

export const guest = connector.guest();

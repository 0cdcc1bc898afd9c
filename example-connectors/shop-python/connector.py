"""The shop's products, two-way, in Python: the v1 REST collection as the
adapter, the product mappers, and the SDK's generic binder, importer and
exporter (the same protocol as the Rust `shop` connector's)."""

from ferry_sdk import Connector, export_connector, generic, kind
from ferry_sdk.mapper import Mapper, MapperUnit, convert
from ferry_sdk.rest import Collection


def shop(ctx):
    """Base URL and auth header of the instance's shop."""
    return ctx.require_param("url"), {"x-api-key": ctx.param("api_key") or ""}


products = (
    Collection("api/v1/products", shop)
    .paging(page="page", per_page="per_page", size=200, last_page_at="pages")
    .records("items")
    .changed_since("updated_since", "updated_at")
    .idempotency_header("idempotency-key")
    .if_match()
)


def price_band(record):
    price = convert.float(record.get("price")) or 0.0
    return {"price_band": "premium" if price >= 50.0 else "standard"}


product_mapper = MapperUnit(
    Mapper()
    .direct("name", "name")
    .direct("sku", "default_code")
    .direct("price", "list_price", convert.float)
    .direct("stock", "qty_available", convert.int)
    .direct("active", "active")
    .method(price_band)
    .method_on_create(lambda record: {"origin": "shop"}),
    Mapper.export()
    .direct("name", "name")
    .direct("default_code", "sku")
    .direct("list_price", "price", convert.decimal_text(2))
    .direct("qty_available", "stock")
    .direct("active", "active"),
)

connector = export_connector(
    Connector()
    .unit(kind.ADAPTER, "product", products)
    .unit(kind.MAPPER, "product", product_mapper)
    .unit(kind.BINDER, "product", generic.LinkBinder("product"))
    .unit(kind.IMPORTER, "product", generic.Importer("product"))
    .unit(kind.EXPORTER, "product", generic.Exporter("product"))
    .job("import-batch", "Enqueue one import-record job per product changed in the shop", generic.import_batch)
    .job("import-record", "Import one product from the shop", generic.import_record)
    .job("export-record", "Export one local product to the shop", generic.export_record)
)

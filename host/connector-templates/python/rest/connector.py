"""The `{{name}}` connector: products between the local side and a REST API
whose lists are page-numbered (`GET {url}/api/v1/products?page=N` ->
`{items, pages}`) and whose records carry `id` and `updated_at`.

You write the adapter (how to talk to the API) and the mapper (which field
is which); the SDK's generic importer, exporter and binder do the rest:
links so that a second import updates instead of duplicating, versions and
conflicts, idempotent creates.

    ferry install .
    ferry backend add demo {{backend_key}} --param url=http://127.0.0.1:8790
    ferry run demo import-batch --payload '{"model": "product"}' --wait
    ferry worker --until-idle    # the import-record jobs the batch enqueued
"""

from ferry_sdk import Connector, export_connector, generic, kind
from ferry_sdk.mapper import Mapper, MapperUnit, convert
from ferry_sdk.rest import Collection

from rules import price_band


def api(ctx):
    """Base URL and headers of the instance's API: its key as X-Api-Key."""
    return ctx.require_param("url"), {"x-api-key": ctx.param("api_key") or ""}


# The adapter of one collection: lists asked only for what changed since the
# newest `updated_at` of the last one; creates carry the exporter's key as
# `Idempotency-Key` (a create tried again after a crash gets back the record
# made the first time); writes go over the version read just before
# (`If-Match`: a change made remotely in between is refused, then checked
# for a conflict).
products = (
    Collection("api/v1/products", api)
    .paging(page="page", per_page="per_page", size=200, last_page_at="pages")
    .records("items")
    .changed_since("updated_since", "updated_at")
    .idempotency_header("idempotency-key")
    .if_match()
)

# Which remote field is which local one, both ways.
product_mapper = MapperUnit(
    Mapper()
    .direct("name", "name")
    .direct("sku", "default_code")
    .direct("price", "list_price", convert.float)
    .method(price_band),
    Mapper.export()
    .direct("name", "name")
    .direct("default_code", "sku")
    .direct("list_price", "price", convert.decimal_text(2)),
)

connector = export_connector(
    Connector()
    .unit(kind.ADAPTER, "product", products)
    .unit(kind.MAPPER, "product", product_mapper)
    .unit(kind.BINDER, "product", generic.LinkBinder("product"))
    .unit(kind.IMPORTER, "product", generic.Importer("product"))
    .unit(kind.EXPORTER, "product", generic.Exporter("product"))
    .job("import-batch", "Enqueue one import-record job per record changed remotely", generic.import_batch)
    .job("import-record", "Import one record", generic.import_record)
    .job("export-record", "Export one local record", generic.export_record)
)

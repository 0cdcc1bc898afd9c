"""Ferry's Python SDK: connectors in Python, against the same WIT contract
(``ferry:connector``) as Rust ones, built by ``ferry build`` with
componentize-py.

.. code-block:: python

    from ferry_sdk import Connector, export_connector, generic, kind
    from ferry_sdk.mapper import Mapper, MapperUnit, convert
    from ferry_sdk.rest import Collection

    connector = (Connector()
        .unit(kind.ADAPTER, "product", Collection("api/v1/products", shop))
        .unit(kind.MAPPER, "product", MapperUnit(import_mapper, export_mapper))
        .unit(kind.BINDER, "product", generic.LinkBinder("product"))
        .unit(kind.IMPORTER, "product", generic.Importer("product"))
        .unit(kind.EXPORTER, "product", generic.Exporter("product"))
        .job("import-batch", "Import what changed", generic.import_batch))
    export_connector(connector)

Units are called by kind and model through the backend chain, whatever
language each module is written in: a Python module can override only the
adapter of a Rust backend version and fall back to it for the rest.
"""

from .connector import (
    SDK_VERSION,
    Connector,
    Unit,
    WebhookRequest,
    WebhookResponse,
    export_connector,
    kind,
)
from .context import Context, Job, Record
from .errors import Error

__all__ = [
    "SDK_VERSION", "Connector", "Context", "Error", "Job", "Record", "Unit",
    "WebhookRequest", "WebhookResponse", "export_connector", "kind",
]

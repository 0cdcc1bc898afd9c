"""The `{{name}}` connector: one job, `hello`, to start from.

Build and install: `ferry install .`; then
`ferry backend add demo {{backend_key}}` and
`ferry run demo hello --payload '{"name": "Ada"}' --wait`.
"""

from ferry_sdk import Connector, export_connector

from greeting import greet


def hello(ctx, payload):
    """Greet `name` with the instance's `greeting`."""
    greeting = ctx.param("greeting") or "Hello"
    ctx.info_log(f"greeting {payload.get('name')!r}")
    return greet(greeting, payload)


connector = export_connector(Connector().job("hello", "Greet `name`", hello))

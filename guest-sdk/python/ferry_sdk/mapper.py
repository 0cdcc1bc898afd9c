"""Mappers: declarative field mappings between an external record and local
values, as Odoo's connectors have them.

- ``direct(from, to)``: copy a field (``direct(from, to, convert.float)``
  converts it);
- ``on_create(from, to)``: only when the local record is created;
- ``method(fn)``: code that reads the whole record and returns several
  fields (``method_on_create`` only on create);
- ``binding(from, to, model)``: an id of another model, translated through
  its links (on import, a record not imported yet is imported first);
- ``submapping(from, to, child)``: a list of child records, each mapped by
  ``child``.

A :class:`MapperUnit` answers the ``mapper`` unit's protocol with an import
and an export mapper: ``to_local {record, for_create}`` and
``to_external {values, fields, for_create}``.
"""

from __future__ import annotations

from typing import Any, Callable, List, Optional

from .errors import Error

Converter = Callable[[Any], Any]


def id_text(value: Any) -> str:
    """The text of an id that may be a JSON number or string."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class convert:
    """Conversions for ``direct(from, to, conversion)``; each keeps None."""

    @staticmethod
    def float(v: Any) -> Any:
        """A number, from a number or numeric text."""
        if v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)):
            return v
        if isinstance(v, str):
            try:
                return _float(v.strip())
            except ValueError:
                pass
        raise Error.fatal(f"cannot read {v!r} as a number")

    @staticmethod
    def int(v: Any) -> Any:
        """An integer, from a number (rounded) or integer text."""
        if v is None or (isinstance(v, int) and not isinstance(v, bool)):
            return v
        if isinstance(v, float):
            return round(v)
        if isinstance(v, str):
            try:
                return _int(v.strip())
            except ValueError:
                pass
        raise Error.fatal(f"cannot read {v!r} as an integer")

    @staticmethod
    def string(v: Any) -> Any:
        """Text, from text, a number or a boolean."""
        if v is None or isinstance(v, str):
            return v
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return str(v)
        raise Error.fatal(f"cannot read {v!r} as text")

    @staticmethod
    def boolean(v: Any) -> Any:
        """True or false, from a boolean, a number or yes/no text."""
        if v is None or isinstance(v, bool):
            return v
        if isinstance(v, (int, float)):
            return v != 0
        if isinstance(v, str):
            text = v.strip().lower()
            if text in ("true", "yes", "1", "on"):
                return True
            if text in ("false", "no", "0", "off", ""):
                return False
        raise Error.fatal(f"cannot read {v!r} as true or false")

    @staticmethod
    def none_if_empty(v: Any) -> Any:
        """None for empty text."""
        return None if v == "" else v

    @staticmethod
    def decimal_text(digits: int) -> Converter:
        """Text with ``digits`` decimals, from a number: ``decimal_text(2)(6.5) == "6.50"``."""
        def to_text(v: Any) -> Any:
            number = convert.float(v)
            return None if number is None else f"{number:.{digits}f}"
        return to_text


_float = float
_int = int


class Mapper:
    """A list of mapping rules, applied in order (see the module's docs)."""

    def __init__(self, direction: str = "import"):
        self.direction = direction
        self._rules: List[tuple] = []

    @classmethod
    def export(cls) -> "Mapper":
        """A mapper from local values to an external record."""
        return cls("export")

    def direct(self, source: str, target: str, conversion: Optional[Converter] = None,
               only_on_create: bool = False) -> "Mapper":
        """Copy ``source`` to ``target``, converted when a conversion is given."""
        self._rules.append(("direct", only_on_create, source, target, conversion))
        return self

    def on_create(self, source: str, target: str) -> "Mapper":
        """Copy ``source`` to ``target`` only when the record is created."""
        return self.direct(source, target, only_on_create=True)

    def method(self, fn: Callable[[dict], Optional[dict]]) -> "Mapper":
        """Fields computed from the whole record: ``fn(record) -> dict``."""
        self._rules.append(("method", False, fn))
        return self

    def method_on_create(self, fn: Callable[[dict], Optional[dict]]) -> "Mapper":
        """Like :meth:`method`, only when the record is created."""
        self._rules.append(("method", True, fn))
        return self

    def binding(self, source: str, target: str, model: str) -> "Mapper":
        """An id of ``model``, translated through its links."""
        self._rules.append(("binding", False, source, target, model))
        return self

    def submapping(self, source: str, target: str, child: "Mapper") -> "Mapper":
        """A list of child records, each mapped by ``child``."""
        self._rules.append(("sub", False, source, target, child))
        return self

    def map(self, ctx, source: Any, for_create: bool = False,
            fields: Optional[List[str]] = None) -> dict:
        """Map ``source``; with ``fields``, only the rules reading those fields
        (method rules always run)."""
        if not isinstance(source, dict):
            raise Error.fatal(f"cannot map {source!r}: not an object")
        out: dict = {}
        for rule in self._rules:
            name, only_on_create = rule[0], rule[1]
            if only_on_create and not for_create:
                continue
            if name == "method":
                produced = rule[2](source)
                if produced is None:
                    continue
                if not isinstance(produced, dict):
                    raise Error.fatal(f"a method mapping returned {produced!r}, not a dict")
                out.update(produced)
                continue
            field_from, field_to, extra = rule[2], rule[3], rule[4]
            if field_from not in source or (fields is not None and field_from not in fields):
                continue
            value = source[field_from]
            if name == "direct":
                out[field_to] = _converted(extra, value, field_from)
            elif name == "binding":
                out[field_to] = self._bound(ctx, extra, value)
            else:
                if not isinstance(value, list):
                    raise Error.fatal(f"field `{field_from}` is not a list")
                out[field_to] = [extra.map(ctx, child, for_create) for child in value]
        return out

    def _bound(self, ctx, model: str, value: Any) -> Any:
        if value is None:
            return None
        if self.direction == "import":
            external_id = id_text(value)
            local_id = ctx.links.to_local(model, external_id)
            if local_id is not None:
                return local_id
            # Import the dependency first, as Odoo's importers do.
            out = ctx.call("importer", model, "run", {"external_id": external_id})
            if "local_id" not in out:
                raise Error.fatal(f"importing {model} {external_id} as a dependency returned no local_id")
            return out["local_id"]
        external_id = ctx.links.to_external(model, int(value))
        if external_id is None:
            raise Error.retryable(f"{model} {value} is not exported yet")
        return external_id


def _converted(conversion: Optional[Converter], value: Any, field: str) -> Any:
    if conversion is None:
        return value
    try:
        return conversion(value)
    except Error as e:
        raise Error(e.kind, f"field `{field}`: {e.message}") from None


class MapperUnit:
    """The ``mapper`` unit of a model: an import and an export mapper."""

    def __init__(self, import_mapper: Mapper, export_mapper: Mapper):
        self.import_mapper = import_mapper
        self.export_mapper = export_mapper

    def methods(self) -> List[str]:
        """``to_local``, ``to_local_batch``, ``to_external``."""
        return ["to_local", "to_local_batch", "to_external"]

    def call(self, ctx, method: str, payload: Any) -> Any:
        """Map one way or the other."""
        for_create = bool(payload.get("for_create", False))
        if method == "to_local":
            return self.import_mapper.map(ctx, payload.get("record"), for_create)
        if method == "to_local_batch":
            return [self.import_mapper.map(ctx, r, for_create) for r in payload.get("records") or []]
        if method == "to_external":
            fields = payload.get("fields")
            return self.export_mapper.map(ctx, payload.get("values"), for_create,
                                          fields if isinstance(fields, list) else None)
        raise Error.not_found(f"mapper has no method `{method}`")

"""Pydantic models from values that are already checked and typed, without re-validation.

The XML decoder and `to_canonical` produce every value with its final type
(str, Decimal, datetime, enum members, nested models). Validating those again
in pydantic costs as much as producing them, on every item at line rate
(issue 15). `Blueprint.make` does what `model_construct` does, minus the
per-call walk over the model's fields: the defaults are laid out once, in
declaration order, which is also the order JSON is written in.

Only for values our own code produced: no type, no constraint is checked.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

_setattr = object.__setattr__


class Blueprint(Generic[M]):
    """A model's fields with their defaults, in declaration order, ready to be filled in."""

    __slots__ = ("cls", "defaults", "factories")

    def __init__(self, cls: type[M]) -> None:
        self.cls = cls
        #: Required fields hold PydanticUndefined: callers always give them.
        self.defaults: dict[str, Any] = {}
        self.factories: list[tuple[str, Any]] = []
        for name, info in cls.model_fields.items():
            if info.default_factory is not None:
                self.defaults[name] = None
                self.factories.append((name, info.default_factory))
            else:
                self.defaults[name] = info.default
        if cls.__pydantic_post_init__ or cls.__pydantic_root_model__:
            raise TypeError(f"{cls.__name__}: post-init hooks and root models need validation")

    def make(self, values: dict[str, Any]) -> M:
        """The model with `values` over the defaults; its fields set are `values`' keys."""
        fields = self.defaults.copy()
        fields.update(values)
        for name, factory in self.factories:
            if name not in values:
                fields[name] = factory()
        return self.wrap(fields, set(values))

    def complete(self, values: dict[str, Any]) -> M:
        """The model over `values`, which name every field in declaration order (not copied).

        Cheaper than `make` for wide models built in full (the canonical `Item`);
        the length check catches a field added to the model but not to the caller.
        """
        if len(values) != len(self.defaults):
            raise TypeError(f"{self.cls.__name__}: every field must be given, in order")
        return self.wrap(values, set(values))

    def wrap(self, fields: dict[str, Any], fields_set: set[str]) -> M:
        """The model over `fields`: every field, in declaration order (the dict is not copied)."""
        obj = self.cls.__new__(self.cls)
        _setattr(obj, "__dict__", fields)
        _setattr(obj, "__pydantic_fields_set__", fields_set)
        _setattr(obj, "__pydantic_extra__", None)
        _setattr(obj, "__pydantic_private__", None)
        return obj

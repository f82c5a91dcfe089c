"""moto's answers serialised without working out each attribute's spellings again and again.

moto 5 serialises every answer attribute by attribute through a general picker that, for each
value, builds a context and works out up to a dozen spellings of its name (written for its own
model objects). Most answers are plain dicts, and for a plain dict those spellings depend only
on the picker's kind and alias providers, the shape and the name: here they are worked out once
and remembered, and the dict's first matching entry is the answer, as the picker's; model
objects and transformed values go the general way. ``tests/functional/infra/test_moto_answers.py``
checks the answers are byte for byte moto's own.

Measured (``python -m infra.patches.measure serializer``, two runs on a two-core machine): a
``BatchGetItem`` of 100 items of eight attributes, moto in process, takes 57-80 ms without it,
16 ms with it (medians).
"""

from __future__ import annotations

from typing import Any

WRITTEN_FOR = {"moto": "==5.2.5"}  # moto.core.serialize: ResponseSerializer.get_value, AttributePicker

MOST_REMEMBERED = 20_000  # shapes made anew would otherwise pile up


def apply() -> bool:
    """Once per process; whether this call installed it."""
    from moto.core.serialize import AttributePicker, AttributePickerContext, ResponseSerializer

    general = ResponseSerializer.get_value
    if getattr(general, "general", None) is not None:
        return False
    # moto makes a picker for every answer; pickers of one kind with the same alias providers
    # try the same names, so they share entries. Shapes are botocore's, cached with the model.
    spellings: dict[tuple[Any, ...], tuple[Any, tuple[str, ...] | None]] = {}

    def names_to_try(picker: Any, shape: Any, key: str) -> tuple[str, ...] | None:
        """The names the picker tries, in order, for ``key`` of a plain dict: they depend on the
        picker's kind and alias providers, the shape and the key only (the dict has no
        ``Meta``, its class is ``dict``)."""
        cache_key = (type(picker), tuple(picker.alias_providers), key, id(shape))
        found = spellings.get(cache_key)
        if found is None or found[0] is not shape:
            context = AttributePickerContext(obj={}, key=key, shape=shape)
            names = tuple(picker.get_possible_keys(context))
            if len(spellings) >= MOST_REMEMBERED:
                spellings.clear()
            found = spellings[cache_key] = (shape, None if any("." in n for n in names) else names)
        return found[1]

    def get_value(self: Any, value: Any, key: str, shape: Any) -> Any:
        picker = self._value_picker
        if (
            type(value) is dict
            and type(picker).__call__ is AttributePicker.__call__
            and not picker.response_transformers
        ):
            names = names_to_try(picker, shape, key)
            if names is not None:
                for name in names:  # the first name the dict has, as the picker answers
                    if name in value:
                        return value[name]
                return None
        return general(self, value, key, shape)

    get_value.general = general  # type: ignore[attr-defined]  # moto's own, for ``undo`` and tests
    ResponseSerializer.get_value = get_value  # type: ignore[method-assign]
    return True


def undo() -> None:
    """moto's own ``get_value`` back (a test that installed it for itself)."""
    from moto.core.serialize import ResponseSerializer

    general = getattr(ResponseSerializer.get_value, "general", None)
    if general is not None:
        ResponseSerializer.get_value = general  # type: ignore[method-assign]

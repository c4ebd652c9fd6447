"""Account configuration (the seed's `key = value` text, so every value may be a string)
into a line's config Struct. msgspec converts numbers and true/false; the yes/no/on/off
that smsd and SMSLib users write are taken too. Unknown or wrong keys raise
msgspec.ValidationError naming the key (`Object contains unknown field `sentt``)."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

T = TypeVar("T", bound=msgspec.Struct)

_WORDS = {"yes": True, "on": True, "no": False, "off": False}


def convert_account(cls: type[T], values: dict[str, Any]) -> T:
    bool_keys = {f.encode_name for f in msgspec.structs.fields(cls) if f.type is bool}
    cleaned = {
        k: _WORDS.get(v.strip().lower(), v) if k in bool_keys and isinstance(v, str) else v
        for k, v in values.items()
    }
    return msgspec.convert(cleaned, cls, strict=False)

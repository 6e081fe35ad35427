"""Operation and variable names: stable snake_case derived from what a recording or an API
document says about a request.

An operation name is the join key between a scenario, its measurements and the SLA, so the
same request must always get the same name: `GET /api/products/123` and `GET
/api/products/456` are one operation, `get_api_products_id`, whichever product was recorded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_NAME_CHARS = 64
"""Longer names are cut (a table column and a report heading stay readable)."""

_WORD_BOUNDARY = re.compile(r"([a-z0-9])([A-Z])")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_UUID = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.I)
_HEX = re.compile(r"^[0-9a-f]{16,}$", re.I)
_NUMBER = re.compile(r"^-?\d+([.,]\d+)?$")
_PREFIXED_ID = re.compile(r"^[A-Za-z]{1,8}[_-][A-Za-z0-9]{8,}$")  # res_3f2f93..., cus-Nf8a21
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def snake_case(text: str) -> str:
    """`text` as lower snake_case: `getProductById` -> `get_product_by_id`, `/api/x-y` -> `api_x_y`."""
    spaced = _WORD_BOUNDARY.sub(r"\1_\2", text)
    return _NOT_WORD.sub("_", spaced.lower()).strip("_")


def is_id_segment(segment: str) -> bool:
    """Whether a path segment looks like one record among many (a number, a UUID, a long hex
    or random token) rather than a fixed part of the route."""
    if _NUMBER.match(segment) or _UUID.match(segment) or _HEX.match(segment):
        return True
    if _PREFIXED_ID.match(segment) and any(ch.isdigit() for ch in segment):
        return True
    # a long token mixing letters and digits (base64url ids, opaque keys)
    return (
        len(segment) >= 20
        and any(ch.isdigit() for ch in segment)
        and any(ch.isalpha() for ch in segment)
    )


def operation_name(method: str, template: str) -> str:
    """`get_api_products_id` for `GET /api/products/{id}`: the method, then the path's words
    with each `{placeholder}` read as `id`; the root path is `index`."""
    words = [
        "id" if segment.startswith("{") and segment.endswith("}") else snake_case(segment)
        for segment in template.split("/")
    ]
    path_part = "_".join(word for word in words if word) or "index"
    return clip(f"{method.lower()}_{path_part}")


def clip(name: str) -> str:
    """`name` cut to MAX_NAME_CHARS without a trailing underscore."""
    return name[:MAX_NAME_CHARS].rstrip("_")


def variable_name(text: str) -> str:
    """A name a `{placeholder}` can hold: snake_case, not starting with a digit."""
    name = snake_case(text) or "value"
    if not _VARIABLE.fullmatch(name):
        name = f"v_{name}"
    return clip(name)


def unique_name(name: str, taken: Iterable[str]) -> str:
    """`name`, or `name_2`, `name_3`, ... if it is taken already."""
    used = set(taken)
    if name not in used:
        return name
    number = 2
    while f"{name}_{number}" in used:
        number += 1
    return f"{name}_{number}"

"""HTML plumbing: the jinja2 environment (autoescape on), figure embedding, the shared plotly.js."""

from __future__ import annotations

import json
import math
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import RunDirError

if TYPE_CHECKING:
    import jinja2
    from markupsafe import Markup

    from harness.report._plot import Figure

PLOTLY_FILE = "plotly.min.js"
"""One copy of plotly.js per reports directory, shared by every page in and below it."""


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """Templates shipped inside the package; every substitution is HTML-escaped."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harness.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ms"] = lambda v: "—" if v is None else (f"{v:,.1f}" if v < 100 else f"{v:,.0f}")
    env.filters["percent"] = lambda v: "—" if v is None else f"{v * 100:.3g} %"
    env.filters["number"] = lambda v: (
        "—" if v is None else f"{v:,.4g}" if isinstance(v, float) else f"{v:,}"
    )
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def embed(figure: Figure) -> Markup:
    """A figure as JSON safe inside <script type="application/json">: no `<`, `>` or `&`
    survives literally, so no string in it can close the script element."""
    from markupsafe import Markup

    try:
        text = json.dumps(figure, separators=(",", ":"), allow_nan=False, default=_plain)
    except ValueError:  # a NaN or infinity somewhere: JSON has no word for it, plotly shows a gap
        text = json.dumps(_finite(figure), separators=(",", ":"), default=_plain)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # escaped above for a JSON script element


def _finite(value: Any) -> Any:
    """`value` with every NaN or infinite float replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    if hasattr(value, "tolist"):
        return _finite(value.tolist())
    return value


def _plain(value: object) -> object:
    """numpy scalars and arrays that plotly may leave in a figure, as plain JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot put {type(value).__name__} in a figure")


def write_atomically(path: Path, text: str) -> None:
    """Write `text` so a browser (or a crash) sees the old page or the new one, never half."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    except OSError as error:
        raise RunDirError(f"cannot write {path}: {error.strerror}") from None


def ensure_plotly(directory: Path) -> Path:
    """`directory/plotly.min.js` from the installed plotly package (never a CDN), written when
    missing or from another plotly version."""
    from plotly.offline import get_plotlyjs

    path = directory / PLOTLY_FILE
    source = get_plotlyjs()
    try:
        current = path.stat().st_size if path.exists() else -1
    except OSError:
        current = -1
    if current != len(source.encode("utf-8")):
        write_atomically(path, source)
    return path

"""The run report as one self-contained HTML file: jinja2 templates over :func:`report_data`.

Safety: every value reaches the page through jinja2's autoescaping, and the figures reach the scripts
as one JSON block in which ``<``, ``>`` and ``&`` are written as ``\\u003c``-style escapes, so a value
holding ``</script>`` cannot end the block. plotly.js is inlined once; the page makes no request.
"""

from __future__ import annotations

import html
import json
import math
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl._diskspace import writing
from automl.exceptions import Argument, DiskFull, UserError

__all__ = ["REPORT_FILE", "ReportPath", "render_html", "script_json", "write_report"]

#: the report's file name in the run directory.
REPORT_FILE = "report.html"
_TEMPLATES = Path(__file__).parent / "templates"

if TYPE_CHECKING:
    _PathBase = Path
else:
    _PathBase = type(Path())


class ReportPath(_PathBase):
    """The report's path; in a notebook it shows the report inline."""

    def _repr_html_(self) -> str:
        page = self.read_text(encoding="utf-8")
        return (
            f'<iframe srcdoc="{html.escape(page, quote=True)}" title="automl report" '
            'style="width:100%;height:820px;border:1px solid #e5e7eb"></iframe>'
        )


def _plain(value: Any) -> Any:
    """NaN and infinities as null: JSON has no spelling for them."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def script_json(value: Any) -> str:
    """``value`` as JSON that is safe inside a ``<script>`` element (and in HTML generally)."""
    try:
        text = json.dumps(value, separators=(",", ":"), allow_nan=False, default=str)
    except ValueError:
        text = json.dumps(_plain(value), separators=(",", ":"), default=str)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    source = get_plotlyjs()
    # The library is inlined in a <script>; a closing tag in it would end the element early.
    return source.replace("</script", "<\\/script")


def _with_figure_ids(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``data`` with each figure replaced by an id, and the figures by id (inlined once, as JSON)."""
    figures: dict[str, Any] = {}

    def register(figure: Any) -> str | None:
        if not figure:
            return None
        key = f"fig-{len(figures)}"
        figures[key] = figure
        return key

    studies = []
    for study in data.get("studies", []):
        study = dict(study)
        study["figure_ids"] = {name: register(f) for name, f in (study.get("figures") or {}).items()}
        study["figures"] = None
        study["missing"] = study.get("missing") or {}
        study["curves"] = [
            {**c, "figure_id": register(c.get("figure")), "figure": None} for c in study.get("curves") or []
        ]
        if study.get("retrained"):
            retrained = study["retrained"]
            study["retrained"] = {**retrained, "figure_id": register(retrained.get("figure")), "figure": None}
        studies.append(study)
    return {**data, "studies": studies}, figures


def render_html(data: dict[str, Any]) -> str:
    """The report page of :func:`automl.report.report_data`'s ``data``."""
    import jinja2
    from markupsafe import Markup

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    page, figures = _with_figure_ids(data)
    template = env.get_template("report.html.j2")
    return template.render(
        **page,
        figure_count=len(figures),
        figures_json=Markup(script_json(figures)),
        plotly_js=Markup(_plotly_js()),
    )


def write_report(run_dir: str | Path, output: str | Path | None = None) -> ReportPath:
    """Write the report of the run in ``run_dir`` to ``output`` (default ``run_dir/report.html``).

    Reads only the run's storage and files (never the dataset; no TensorFlow). The file is replaced
    atomically, so a browser reloading it during a search never reads half of it.

    Raises:
        UserError: ``run_dir`` holds no run, or ``output`` cannot be written.
        DiskFull: ``output``'s disk is full (one line naming its folder).
    """
    import logging

    from automl.report._data import report_data

    started = time.perf_counter()
    data = report_data(run_dir)
    page = render_html(data)
    path = Path(run_dir) / REPORT_FILE if output is None else Path(output)
    if path.is_dir():
        path = path / REPORT_FILE
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with writing(path.parent, resume=False):
            tmp.write_text(page, encoding="utf-8")
            tmp.replace(path)
    except DiskFull:
        tmp.unlink(missing_ok=True)
        raise
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(
            "cannot write the report to {path} ({problem}); choose another {output}",
            path=path,
            problem=exc.strerror,
            output=Argument("output"),
        ) from None
    logging.getLogger("automl.report").info(
        "report written to %s in %.2f s", path, time.perf_counter() - started
    )
    return ReportPath(path)

"""``vid2skill report``: one self-contained HTML page of a workspace, ``<workspace>/report/index.html``.

The page is rendered from Jinja2 templates shipped in ``vid2skill/report/templates/``; its plots
(matplotlib, Agg) and images are embedded as ``data:`` URIs, so the single file shows everything
wherever it is copied. A section whose stage has not run says so and names the command that makes it.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig

from vid2skill.artifacts import atomic_write_text
from vid2skill.errors import ArtifactError, Vid2SkillError
from vid2skill.report import sections
from vid2skill.workspace import Workspace

log = logging.getLogger("vid2skill")


@dataclass
class Section:
    """One section of the page: its anchor, title, the command that makes its artifacts, and what it shows."""

    id: str
    title: str
    command: str
    data: dict | None = None  # None: the stage has not run
    error: str | None = None  # the artifacts exist but could not be read
    note: str = ""  # said where the stage has not run, after the command
    seconds: float = field(default=0.0, repr=False)


def _section(
    anchor: str, title: str, command: str, collect: Callable[[], dict | None], note: str = ""
) -> Section:
    """Collect one section; a damaged artifact is shown on the page (and logged), not hidden."""
    s = Section(anchor, title, command, note=note)
    t0 = time.time()
    try:
        s.data = collect()
    except (Vid2SkillError, OSError) as e:
        s.error = str(e)
        log.warning("report: %s: %s", title, e)
    s.seconds = time.time() - t0
    return s


def collect_sections(cfg: DictConfig, ws: Path) -> list[Section]:
    """Every section of the report, in data-flow order."""
    from vid2skill.hints import suggest

    r2r = sections.real_to_robot_path(ws, cfg)  # a missing file given on the command line is an error
    return [
        _section(
            "extraction",
            "Extraction quality per clip",
            suggest("extract", cfg),
            lambda: sections.extraction_section(ws, cfg),
        ),
        _section(
            "skills", "Skill library", suggest("cluster", cfg), lambda: sections.skills_section(ws, cfg)
        ),
        _section(
            "retarget", "Retargeting", suggest("retarget", cfg), lambda: sections.retarget_section(ws, cfg)
        ),
        _section(
            "training", "Training curves", suggest("train", cfg), lambda: sections.training_section(ws, cfg)
        ),
        _section(
            "evaluation",
            "Success per skill and robot",
            suggest("evaluate", cfg),
            lambda: sections.evaluation_section(ws, cfg),
        ),
        _section(
            "rollouts",
            "Rollouts",
            suggest("evaluate", cfg),
            lambda: sections.rollouts_section(ws, cfg),
            note="(rollout videos need sim.videos of at least 1)",
        ),
        _section(
            "real_to_robot",
            "Real clips to robot",
            "python benchmarks/real_to_robot.py LABELS.csv --out PATH",
            lambda: sections.real_to_robot_section(r2r),
            note="and give the report its JSON with real_to_robot=PATH (or leave it at "
            "<workspace>/real_to_robot.json)",
        ),
    ]


def render(ws: Path, secs: list[Section]) -> str:
    """The page's HTML from the templates (autoescaped: clip names and labels come from users)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("vid2skill.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda x: "-" if x is None else f"{100 * float(x):.0f}%"
    env.filters["num"] = lambda x, digits=3: (
        "-" if x is None else (f"{x:.{digits}g}" if isinstance(x, float) else str(x))
    )
    return env.get_template("index.html.j2").render(
        workspace=str(ws),
        sections=secs,
        generated=datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        not_run=[s for s in secs if s.data is None and s.error is None],
    )


def write_report(cfg: DictConfig, ws: Path) -> Path:
    """Write ``<workspace>/report/index.html`` (atomically) and return its path."""
    if not ws.is_dir():
        raise ArtifactError(
            f"workspace={ws} does not exist; run `vid2skill demo workspace={ws}` (or the stages) first"
        )
    t0 = time.time()
    secs = collect_sections(cfg, ws)
    html = render(ws, secs)
    out = Workspace(ws).report
    atomic_write_text(out, html)
    log.info(
        "report: %s (%.1f MB) in %.1f s; %s",
        out,
        len(html.encode()) / 2**20,
        time.time() - t0,
        ", ".join(f"{s.id} {s.seconds:.1f} s" if s.data is not None else f"{s.id} not run" for s in secs),
    )
    return out

"""Weak labels of clips, from every source that speaks: a ``labels.csv`` beside a folder of videos
(the format of ``../shared/data``: one row per video, ``file`` relative to the CSV's folder and ``skills``
the skills it shows, in order, ``;``-separated, ``none`` for a clip that shows none; free-text verbs are
read too), sub-folder names, file names, annotations (EPIC, SSv2) and URL metadata. Each text is kept
with its source; the lexicon (:mod:`vid2skill.ingest.lexicon`) reads skills from them, and the first
source in priority order that it can read gives the clip's label.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, replace
from pathlib import Path

from vid2skill.errors import ConfigError
from vid2skill.ingest.lexicon import LabelError, Lexicon, default_lexicon

log = logging.getLogger(__name__)

REQUIRED = ("file", "skills")
READERS = ("csv", "subfolder", "filename")  # the folder source's label readers (source.label_from)


@dataclass(frozen=True)
class LabelRow:
    video: Path  # resolved
    skills: list[str]  # in order, as the lexicon reads them; empty for "none"
    row: int  # line number in the CSV
    text: str = ""  # the cell as written


def split_skills(text: str | None) -> list[str]:
    """``"pick; Place"`` -> ``["pick", "place"]``; empty parts and ``none`` dropped."""
    return [s for s in (x.strip().lower() for x in (text or "").split(";")) if s and s != "none"]


def read_labels(path: str | Path, lexicon: Lexicon | None = None) -> tuple[list[LabelRow], list[dict]]:
    """(rows, problems). Each bad row is reported in ``problems`` (``{"row", "error"}``, the error naming
    the fix) and skipped: a missing video, an empty ``skills`` cell, a label the lexicon cannot read
    (another language, odd characters), missing cells, or a header without the ``file``/``skills``
    columns (then every row). An unreadable file is a ConfigError."""
    path = Path(path).expanduser()
    lexicon = lexicon or default_lexicon()
    try:
        f = open(path, newline="", encoding="utf-8-sig")
    except OSError as e:
        raise ConfigError(f"cannot read the labels file {path}: {e.strerror}") from None
    rows, problems = [], []
    with f:
        try:
            reader = csv.DictReader(f)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            for n, r in enumerate(reader, start=2):
                row = _label_row(path, lexicon, n, r, missing)
                if isinstance(row, LabelRow):
                    rows.append(row)
                else:
                    problems.append({"row": n, "error": row})
        except (UnicodeDecodeError, csv.Error) as e:
            raise ConfigError(
                f"{path}: not a readable CSV ({e}); save it as UTF-8 with a file,skills header"
            ) from None
    return rows, problems


def _label_row(path: Path, lexicon: Lexicon, n: int, r: dict, missing: list[str]) -> LabelRow | str:
    """Row ``n`` of a labels CSV read through the lexicon, or what is wrong with it (ending in
    "row skipped")."""
    if missing:
        return (
            f"missing column(s) {', '.join(missing)} in the header; "
            "a labels CSV needs file,skills (e.g. videos/a.mp4,pick;place); row skipped"
        )
    name, text = (r.get("file") or "").strip(), (r.get("skills") or "").strip()
    video = (path.parent / name).resolve()
    if r.get("skills") is None:
        return f"{name or '?'}: the row has no skills cell (too few fields); write file,skills; row skipped"
    if not name or not video.is_file():
        return f"no video at {video}; fix the file column or add the video; row skipped"
    if not text:
        return f"{name}: empty skills cell (write none for a clip without a skill); row skipped"
    try:
        skills = lexicon.map(text, "csv")
    except LabelError as e:
        return f"{name}: {e}; row skipped"
    return LabelRow(video, skills or [], n, text)


def find_labels(folder: Path) -> Path | None:
    """``labels.csv`` in ``folder`` or its parent (where ``../shared/data`` keeps it), if any."""
    for candidate in (folder / "labels.csv", folder.parent / "labels.csv"):
        if candidate.is_file():
            return candidate
    return None


def filename_text(video: Path) -> str:
    """A video's file name as label text (the lexicon tokenises it on ``_ - .`` and spaces)."""
    return video.stem


def subfolder_text(video: Path, root: Path) -> str | None:
    """The name of the video's folder below ``root``, or None for a video in ``root`` itself."""
    return video.parent.name if video.parent.resolve() != root.resolve() else None


def choose_label(texts: list[dict], lexicon: Lexicon) -> tuple[str | None, list[str] | None, str | None]:
    """(label text, skills, source) from the first text, in the given (priority) order, that the
    lexicon reads as skills or as an explicit none; (None, None, None) when none does. A text the
    lexicon cannot read is logged and passed over; context (``"label": False``, an EPIC noun) is not read."""
    for t in texts:
        if t.get("label") is False:
            continue
        try:
            skills = lexicon.map(t["text"], t["source"])
        except LabelError as e:
            log.warning("label from %s skipped: %s", t["source"], e)
            continue
        if skills is not None:
            return (t["text"] if skills else None), skills, t["source"]
    return None, None, None


def with_labels(clip, texts: list[dict], lexicon: Lexicon, keep_label: bool = False):
    """``clip`` carrying ``texts`` and the label chosen from them (:func:`choose_label`); with
    ``keep_label`` its ``label`` stays the source's own (an EPIC verb, an SSv2 template)."""
    texts = [{k: (str(v) if k == "text" else v) for k, v in t.items()} for t in texts if t.get("text")]
    if not texts:
        return clip
    label, skills, source = choose_label(texts, lexicon)
    return replace(
        clip, label=clip.label if keep_label else label, skills=skills, label_source=source, label_texts=texts
    )


def field_texts(source: str, record: dict, lexicon: Lexicon, context: tuple[str, ...] = ()) -> list[dict]:
    """Texts of an annotation ``record`` in the order the lexicon's ``sources.<source>.fields`` gives,
    then its ``context`` fields (kept with the clip, never read as a label)."""
    fields = list(lexicon.source_rule(source, "fields", []) or [])
    out = [{"source": source, "field": f, "text": record[f]} for f in fields if record.get(f)]
    for f in context:
        value = record.get(f)
        if value:
            out.append(
                {
                    "source": source,
                    "field": f,
                    "text": value if isinstance(value, str) else ", ".join(map(str, value)),
                    "label": False,
                }
            )
    return out


def label_readers(label_from) -> list[str]:
    """``source.label_from`` as a priority list: ``none``, one reader, or a list of them."""
    from omegaconf import OmegaConf

    if label_from is None:
        return []
    names = (
        list(label_from)
        if OmegaConf.is_list(label_from) or isinstance(label_from, (list, tuple))
        else [str(label_from)]
    )
    names = [n for n in names if n != "none"]
    bad = [n for n in names if n not in READERS]
    if bad:
        raise ConfigError(
            f"source.label_from={label_from!r}: use none, or one or a list of {', '.join(READERS)} "
            "(in priority order, e.g. [csv,subfolder,filename])"
        )
    return names


def folder_texts(
    videos: list[Path],
    root: Path,
    readers: list[str],
    lexicon: Lexicon,
    labels_path: Path | None = None,
    required: bool = True,
) -> tuple[dict[Path, list[dict]], list[dict]]:
    """Per video (resolved), its label texts from ``readers`` in that order; and the labels CSV's bad
    rows (``{"row", "error"}``). ``csv`` reads ``labels_path``, else ``labels.csv`` in ``root`` or its
    parent; without one it is a ConfigError when ``required``, else that reader says nothing."""
    by_csv: dict[Path, LabelRow] = {}
    problems: list[dict] = []
    if "csv" in readers:
        path = labels_path or find_labels(root)
        if path is None and required:
            raise ConfigError(
                f"source.label_from=csv: no labels.csv in {root} or its parent; give source.labels=PATH"
            )
        if path is not None:
            rows, problems = read_labels(path, lexicon)
            by_csv = {r.video: r for r in rows}
            problems = [{**p, "file": str(path)} for p in problems]
    out = {}
    for v in videos:
        rv, texts = v.resolve(), []
        for reader in readers:
            if reader == "csv" and rv in by_csv:
                texts.append({"source": "csv", "text": by_csv[rv].text})
            elif reader == "subfolder" and subfolder_text(v, root):
                texts.append({"source": "subfolder", "text": subfolder_text(v, root)})
            elif reader == "filename":
                texts.append({"source": "filename", "text": filename_text(v)})
        out[rv] = texts
    return out, problems

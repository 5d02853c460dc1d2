"""Annotated datasets as sources: EPIC-KITCHENS-100 action segments and Something-Something-v2 labels.

Each annotation becomes a clip with a weak label; a bad annotation (stop before start, a segment
past the video's end, a missing video, a malformed row) is recorded as a failure with why, and
the rest go on.
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

from vid2skill.artifacts import atomic_write_json, file_hash, stable_hash
from vid2skill.errors import ConfigError, VideoError
from vid2skill.ingest.labels import field_texts, with_labels
from vid2skill.ingest.lexicon import lexicon_of
from vid2skill.ingest.types import Clip, ClipSet, safe_id
from vid2skill.video import VIDEO_SUFFIXES, probe

log = logging.getLogger(__name__)

EPIC_COLUMNS = ("narration_id", "video_id", "start_timestamp", "stop_timestamp", "verb", "noun")


def parse_timestamp(text: str) -> float:
    """Seconds from EPIC's ``HH:MM:SS.ff`` (also ``MM:SS.ff`` or plain seconds)."""
    parts = text.strip().split(":")
    if not 1 <= len(parts) <= 3 or not all(parts):
        raise ValueError(f"not a timestamp: {text!r}")
    seconds = 0.0
    for part in parts:
        try:
            seconds = seconds * 60 + float(part)
        except ValueError:
            raise ValueError(f"not a timestamp: {text!r} (expected HH:MM:SS.ff)") from None
    if seconds < 0:
        raise ValueError(f"negative timestamp: {text!r}")
    return seconds


class _VideoIndex:
    """Videos under a folder by file stem (any video suffix, any depth), listed once on first use."""

    def __init__(self, root: Path):
        self.root = root
        self._by_stem: dict[str, Path] | None = None

    def find(self, name: str) -> Path | None:
        if self._by_stem is None:
            self._by_stem = {}
            for p in sorted(self.root.rglob("*")):
                if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file():
                    self._by_stem.setdefault(p.stem, p)
        return self._by_stem.get(name)


class _VideoFacts:
    """Per-video hash and duration, computed once however many segments a video has."""

    def __init__(self):
        self._facts: dict[Path, tuple[str, float]] = {}

    def __call__(self, path: Path) -> tuple[str, float]:
        if path not in self._facts:
            info = probe(path)
            self._facts[path] = (file_hash(path), info.frames / info.fps)
        return self._facts[path]


def epic_source(cfg, out_dir: Path, workers: int) -> ClipSet:
    """One clip per row of an EPIC-KITCHENS-100 style CSV, cut by its start and stop timestamps,
    weakly labelled by its verb (``label_from: verb``) or ``verb noun``; ``verbs`` and ``nouns``
    filter the rows (empty: keep all)."""
    csv_path, root = Path(str(cfg.annotations)).expanduser(), Path(str(cfg.videos)).expanduser()
    if not csv_path.is_file():
        raise ConfigError(f"source.annotations={cfg.annotations}: no such CSV file")
    if not root.is_dir():
        raise ConfigError(f"source.videos={cfg.videos}: not a folder of videos")
    if cfg.label_from not in ("verb", "verb_noun"):
        raise ConfigError(f"source.label_from={cfg.label_from!r}: use verb or verb_noun")
    verbs, nouns = set(cfg.verbs or []), set(cfg.nouns or [])
    lexicon = lexicon_of(cfg)
    clips, failures, index, facts, seen = [], [], _VideoIndex(root), _VideoFacts(), set()
    try:
        with open(csv_path, newline="") as f:
            reader = csv.DictReader(f)
            fieldnames = reader.fieldnames or []
            rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as e:
        raise ConfigError(
            f"{csv_path}: not a readable UTF-8 CSV file ({e}); give an EPIC-KITCHENS-100 annotation CSV"
        ) from None
    missing = [c for c in EPIC_COLUMNS if c not in fieldnames]
    if missing:
        raise ConfigError(f"{csv_path}: not an EPIC-KITCHENS-100 annotation file; missing columns {missing}")
    for line, row in enumerate(rows, start=2):
        item = f"{csv_path.name}:{line} ({row.get('narration_id') or '?'})"
        try:
            short = [c for c in EPIC_COLUMNS if row.get(c) is None]
            if short:
                raise ValueError(f"the row has no {', '.join(short)} (too few fields)")
            verb, noun = (row["verb"] or "").strip(), (row["noun"] or "").strip()
            if (verbs and verb not in verbs) or (nouns and noun not in nouns):
                continue
            start, stop = parse_timestamp(row["start_timestamp"]), parse_timestamp(row["stop_timestamp"])
            if stop <= start:
                raise ValueError(f"stop {row['stop_timestamp']} is not after start {row['start_timestamp']}")
            video = index.find(row["video_id"].strip())
            if video is None:
                raise ValueError(f"no video {row['video_id']}.* under {root}")
            h, duration = facts(video)
            if start >= duration:
                raise ValueError(f"starts at {start:.2f} s, past the end of {video.name} ({duration:.2f} s)")
            stop = min(stop, duration)
        except (ValueError, TypeError, VideoError, OSError) as e:
            failures.append({"item": item, "error": str(e)})
            continue
        key = stable_hash({"video": h, "start": round(start, 3), "stop": round(stop, 3)}, 16)
        if key in seen:
            continue
        seen.add(key)
        label = verb if cfg.label_from == "verb" else f"{verb} {noun}".strip()
        clip_id = f"{safe_id(row['narration_id'].strip() or row['video_id'])}_{key[:6]}"
        clip = Clip(clip_id, str(video.resolve()), "epic", key, label or None, start_s=start, end_s=stop)
        clips.append(
            with_labels(clip, field_texts("epic", row, lexicon, ("noun",)), lexicon, keep_label=True)
        )
    return ClipSet(clips, failures)


def ssv2_source(cfg, out_dir: Path, workers: int) -> ClipSet:
    """One clip per entry of a Something-Something-v2 style JSON list (``id``, ``label``,
    ``template``, ``placeholders``) over a folder of ``<id>.webm`` (or any video suffix); the weak
    label is the template without brackets ("putting something into something"); ``templates``
    keeps only entries whose template contains one of the given phrases."""
    json_path, root = Path(str(cfg.labels)).expanduser(), Path(str(cfg.videos)).expanduser()
    if not json_path.is_file():
        raise ConfigError(f"source.labels={cfg.labels}: no such JSON file")
    if not root.is_dir():
        raise ConfigError(f"source.videos={cfg.videos}: not a folder of videos")
    try:
        entries = json.loads(json_path.read_text())
    except json.JSONDecodeError as e:
        raise ConfigError(
            f"{json_path}: not valid JSON ({e.msg} at line {e.lineno}); expected a list of labels"
        ) from None
    except UnicodeDecodeError as e:
        raise ConfigError(
            f"{json_path}: not valid JSON (not UTF-8 text: {e.reason}); expected a list of labels"
        ) from None
    if not isinstance(entries, list):
        raise ConfigError(
            f"{json_path}: expected a JSON list of {{id, label, template, placeholders}} entries"
        )
    wanted = [t.lower() for t in (cfg.templates or [])]
    lexicon = lexicon_of(cfg)
    clips, failures, index, seen = [], [], _VideoIndex(root), set()
    for i, entry in enumerate(entries):
        item = f"{json_path.name}[{i}]"
        try:
            if not isinstance(entry, dict) or "id" not in entry or "template" not in entry:
                raise ValueError("entry needs at least 'id' and 'template'")
            template = " ".join(str(entry["template"]).replace("[", "").replace("]", "").lower().split())
            if wanted and not any(w in template for w in wanted):
                continue
            video = index.find(str(entry["id"]))
            if video is None:
                raise ValueError(f"no video {entry['id']}.* under {root}")
            h = file_hash(video)
        except (ValueError, OSError) as e:
            failures.append({"item": item, "error": str(e)})
            continue
        if h in seen:
            continue
        seen.add(h)
        clip = Clip(f"ssv2_{safe_id(str(entry['id']))}_{h[:6]}", str(video.resolve()), "ssv2", h, template)
        clips.append(
            with_labels(
                clip, field_texts("ssv2", entry, lexicon, ("placeholders",)), lexicon, keep_label=True
            )
        )
    return ClipSet(clips, failures)


class _QuietLog:
    """yt-dlp's logger interface, routed to ours (it prints errors itself otherwise)."""

    def debug(self, msg):
        log.debug("yt-dlp: %s", msg)

    warning = info = debug

    def error(self, msg):
        log.debug("yt-dlp error: %s", msg)


def _fetched(yt_dlp, url: str, out_dir: Path, stem: str, timeout_s: float) -> Path:
    """The video of ``url`` in ``out_dir`` as ``<stem>.<ext>``, fetched with yt-dlp unless an earlier
    run fetched it, with its title and description beside it (``<stem>.meta.json``: weak labels for
    later runs too). Raises ValueError when yt-dlp wrote no video."""

    def video() -> list[Path]:
        return [p for p in out_dir.glob(f"{stem}.*") if p.suffix.lower() in VIDEO_SUFFIXES]

    if not video():
        opts = {
            "outtmpl": str(out_dir / f"{stem}.%(ext)s"),
            "quiet": True,
            "no_warnings": True,
            "noprogress": True,
            "enable_file_urls": True,
            "logger": _QuietLog(),
            "socket_timeout": timeout_s,
            "retries": 1,
        }
        with yt_dlp.YoutubeDL(opts) as ydl:
            info = ydl.extract_info(url, download=True) or {}
        atomic_write_json(
            out_dir / f"{stem}.meta.json", {k: info.get(k) for k in ("title", "description", "webpage_url")}
        )
    found = video()
    if not found:
        raise ValueError("yt-dlp finished but wrote no video file")
    return found[0]


def urls_source(cfg, out_dir: Path, workers: int) -> ClipSet:
    """Videos fetched with yt-dlp (an optional extra: ``pip install 'vid2skill[urls]'``) into
    ``out_dir``, one clip each; ``labels`` (optional, same length as ``urls``) gives weak labels.
    A URL fetched before is not fetched again; a URL that fails is recorded and the rest go on.
    ``file://`` URLs work without a network."""
    try:
        import yt_dlp
    except ImportError:
        raise ConfigError(
            "source=urls needs yt-dlp: pip install 'vid2skill[urls]' (or pip install yt-dlp)"
        ) from None
    urls, labels = list(cfg.urls or []), list(cfg.labels or [])
    if not urls:
        raise ConfigError(
            "source.urls is empty; give a list, e.g. source.urls='[https://..., file:///videos/a.mp4]'"
        )
    if labels and len(labels) != len(urls):
        raise ConfigError(
            f"source.labels has {len(labels)} entries for {len(urls)} urls; give one per url or none"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    clips, failures, seen, lexicon = [], [], set(), lexicon_of(cfg)
    for i, url in enumerate(urls):
        stem = f"url_{stable_hash(url, 12)}"
        try:
            video = _fetched(yt_dlp, str(url), out_dir, stem, float(cfg.timeout_s))
            probe(video)
            h = file_hash(video)
        except (yt_dlp.utils.DownloadError, ValueError, VideoError, OSError) as e:
            failures.append({"item": str(url), "error": str(e).replace("ERROR: ", "").splitlines()[0]})
            continue
        if h in seen:
            continue
        seen.add(h)
        clip = Clip(f"{stem}_{h[:6]}", str(video.resolve()), "urls", h, labels[i] if labels else None)
        meta_path = out_dir / f"{stem}.meta.json"
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        texts = ([{"source": "urls", "text": labels[i]}] if labels else []) + field_texts(
            "url_meta", meta, lexicon
        )
        clips.append(with_labels(clip, texts, lexicon, keep_label=True))
    return ClipSet(clips, failures)

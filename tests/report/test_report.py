"""``vid2skill report``: the page's sections from a workspace's artifacts, its images, and the page as
headless Chromium shows it (console, images, a screenshot that is not blank)."""

from __future__ import annotations

import base64
import io
import json
import os
import select
import shutil
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers import make_cfg
from vid2skill.report.page import write_report
from vid2skill.stats import wilson_interval

SECTIONS = ["extraction", "skills", "retarget", "training", "evaluation", "rollouts", "real_to_robot"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Page(HTMLParser):
    """The report's sections (id -> class), its images (src, class, alt, enclosing section) and the
    text of each section."""

    def __init__(self, html: str):
        super().__init__()
        self.sections: dict[str, str] = {}
        self.images: list[dict] = []
        self.text: dict[str, str] = {}
        self._section: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self._section = a["id"]
            self.sections[a["id"]] = a.get("class", "")
            self.text[a["id"]] = ""
        elif tag == "img":
            self.images.append({**a, "section": self._section})

    def handle_endtag(self, tag):
        if tag == "section":
            self._section = None

    def handle_data(self, data):
        if self._section:
            self.text[self._section] += data

    def in_section(self, section: str, cls: str | None = None) -> list[dict]:
        return [i for i in self.images if i["section"] == section and (cls is None or i.get("class") == cls)]


def decode(src: str) -> Image.Image:
    """The image of a data URI (PNG or GIF), fully decoded."""
    head, payload = src.split(",", 1)
    assert head in ("data:image/png;base64", "data:image/gif;base64"), head
    img = Image.open(io.BytesIO(base64.b64decode(payload)))
    img.load()
    assert img.format == ("PNG" if "png" in head else "GIF")
    return img


def report(ws: Path, *overrides: str) -> Page:
    cfg = make_cfg([f"workspace={ws}", *overrides])
    out = write_report(cfg, ws)
    assert out == ws / "report" / "index.html"
    return Page(out.read_text())


def test_an_empty_workspace_says_which_stages_have_not_run(tmp_path):
    page = report(tmp_path)
    assert list(page.sections) == SECTIONS
    assert set(page.sections.values()) == {"missing"}
    assert not page.images
    for section, stage in [
        ("extraction", "extract"),
        ("skills", "cluster"),
        ("retarget", "retarget"),
        ("training", "train"),
        ("evaluation", "evaluate"),
        ("rollouts", "evaluate"),
    ]:
        assert f"Not yet run: run vid2skill {stage} workspace={tmp_path}" in page.text[section], section
    assert "benchmarks/real_to_robot.py" in page.text["real_to_robot"]


def test_a_damaged_artifact_is_shown_and_the_rest_still_renders(tmp_path):
    run = tmp_path / "eval" / "bc_mlp" / "panda"
    run.mkdir(parents=True)
    (run / "results.json").write_text("[{")
    page = report(tmp_path)
    assert page.sections["evaluation"] == "broken"
    assert "results.json is damaged" in page.text["evaluation"]
    assert page.sections["extraction"] == "missing"


def test_a_partly_run_workspace_shows_extraction_with_thumbnails(synthetic_ws, tmp_path):
    ws0, _ = synthetic_ws
    ws = tmp_path / "ws"
    shutil.copytree(ws0, ws)
    page = report(ws, "report.thumbnails=2")
    assert page.sections["extraction"] == "present"
    assert [page.sections[s] for s in SECTIONS[1:]] == ["missing"] * 6
    thumbs = page.in_section("extraction", "thumbnail")
    assert len(thumbs) == 2  # report.thumbnails
    for t in thumbs:
        img = decode(t["src"])
        assert max(img.size) == 240  # report.thumbnail_px
        # the overlay's colours (the landmarks' magenta) are on the frame
        rgb = np.asarray(img.convert("RGB")).reshape(-1, 3).astype(int)
        assert np.any((rgb[:, 0] > 200) & (rgb[:, 1] < 110) & (rgb[:, 2] > 120))
    quality = json.loads((ws / "extract" / "quality.json").read_text())
    for q in quality:
        assert q["clip"] in page.text["extraction"]


def _real_to_robot_json(path: Path) -> Path:
    """A small result in the shape benchmarks/real_to_robot.py writes."""
    seg = {
        "skill": "slide_open",
        "found": True,
        "how": "grasp",
        "start_s": 0.5,
        "end_s": 2.25,
        "error": None,
        "success": {"panda": {"rate": 0.75, "episodes": 4, "crashed": 0, "progress": None}},
    }
    report = {
        "clips": [
            {"clip": "kitchen_drawer", "skills": ["slide_open"], "unknown_skills": [], "segments": [seg]},
            {
                "clip": "broken_clip",
                "skills": ["pick"],
                "unknown_skills": [],
                "segments": [],
                "error": "no hand",
            },
        ],
        "skills": {"pick": {"panda": 0.0, "clips": 1}, "slide_open": {"panda": 0.75, "clips": 1}},
        "mean_over_skills": {"panda": 0.375},
        "found_in_order": {"pairs": 2, "found": 1, "rate": 0.5},
        "episodes": 4,
        "seed": 0,
    }
    path.write_text(json.dumps(report))
    return path


def test_a_missing_real_to_robot_file_is_one_line(tmp_path, monkeypatch, capsys):
    from vid2skill import cli

    monkeypatch.setattr(
        sys,
        "argv",
        ["vid2skill", "report", f"workspace={tmp_path}", f"real_to_robot={tmp_path / 'nope.json'}"],
    )
    with pytest.raises(SystemExit) as e:
        cli.main()
    assert e.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "nope.json: no such file" in err


def test_a_whole_workspace_in_headless_chromium(pipeline_ws, tmp_path, monkeypatch, capsys):
    from vid2skill import cli
    from vid2skill.skills.library import SkillLibrary

    ws, _ = pipeline_ws
    r2r = _real_to_robot_json(tmp_path / "r2r.json")
    monkeypatch.setattr(sys, "argv", ["vid2skill", "report", f"workspace={ws}", f"real_to_robot={r2r}"])
    cli.main()  # (its time on the demo workspace: benchmarks/report_speed.py)
    out = ws / "report" / "index.html"
    assert capsys.readouterr().out.strip() == str(out)
    html = out.read_text()
    assert len(html.encode()) <= 20 * 2**20
    page = Page(html)

    assert page.sections == {s: "present" for s in SECTIONS}
    assert all(i["src"].startswith("data:image/") for i in page.images)  # self-contained
    assert "http://" not in html and "https://" not in html and "file://" not in html
    for img in page.images:
        w, h = decode(img["src"]).size
        assert w >= 32 and h >= 32, img.get("alt")
    lib = SkillLibrary.load(ws / "skills")
    assert len(page.in_section("skills")) == len(lib.skills) + 1  # the map and one plot per skill
    assert len(page.in_section("extraction", "thumbnail")) == 6  # debug=tiny: 3 clips of each of 2 skills
    assert len(page.in_section("training")) == 1 and len(page.in_section("evaluation")) == 1
    gifs = page.in_section("rollouts", "rollout")
    assert len(gifs) == len(lib.skills)  # debug=tiny: one video per skill
    assert all(decode(g["src"]).n_frames > 5 for g in gifs)
    # the table's interval is the Wilson interval of the recorded successes
    results = json.loads((ws / "eval" / "bc_mlp" / "panda" / "results.json").read_text())
    for r in results:
        lo, hi = wilson_interval(r["successes"], r["episodes"])
        assert f"{100 * lo:.0f}% - {100 * hi:.0f}%" in page.text["evaluation"]
    assert (
        "kitchen_drawer" in page.text["real_to_robot"]
        and "not extracted: no hand" in page.text["real_to_robot"]
    )

    if CHROMIUM is None:
        pytest.skip(
            "chromium is not installed (apt-get install -y chromium; .ci/run installs it): "
            "the page was checked as HTML only"
        )
    shot, problems, images = view_in_chromium(out, tmp_path)
    assert problems == []
    assert len(images) == len(page.images) and all(ok and w > 0 for ok, w in images)
    import cv2

    pixels = cv2.imdecode(np.frombuffer(shot, np.uint8), cv2.IMREAD_COLOR)
    assert pixels is not None and pixels.shape[1] == 1280 and pixels.shape[0] > 2000  # the whole page
    assert pixels.std() > 20  # not blank
    assert (pixels.min(axis=2) < 200).mean() > 0.05  # ink and pictures on a good part of it


# --- Chromium through its DevTools protocol on a pipe (no extra Python package) ------------------


class DevTools:
    """Headless Chromium driven over ``--remote-debugging-pipe``: JSON messages ending in NUL, read
    from its fd 4 and written to its fd 3."""

    def __init__(self, profile: Path, width: int = 1280, height: int = 900):
        to_child, self._out = os.pipe()
        self._in, from_child = os.pipe()

        def wire():  # in the child: our pipes become its fds 3 and 4
            a, b = os.dup(to_child), os.dup(from_child)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [
                CHROMIUM,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            pass_fds=(3, 4),
            preexec_fn=wire,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child)
        os.close(from_child)
        self._buf, self._id, self.events = b"", 0, []

    def call(self, method: str, session: str | None = None, timeout: float = 60, **params):
        self._id += 1
        msg = {
            "id": self._id,
            "method": method,
            "params": params,
            **({"sessionId": session} if session else {}),
        }
        os.write(self._out, json.dumps(msg).encode() + b"\0")
        while True:
            m = self._next(timeout)
            if m.get("id") == self._id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m["result"]
            self.events.append(m)

    def wait_for(self, method: str, timeout: float = 60) -> dict:
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._next(timeout))
        return next(e for e in self.events if e.get("method") == method)

    def _next(self, timeout: float) -> dict:
        end = time.time() + timeout
        while b"\0" not in self._buf:
            ready, _, _ = select.select([self._in], [], [], max(0.0, end - time.time()))
            if not ready:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed its DevTools pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=10)
        except (RuntimeError, TimeoutError, OSError):
            self.proc.kill()
        self.proc.wait(20)
        os.close(self._in)
        os.close(self._out)


def view_in_chromium(page: Path, tmp: Path) -> tuple[bytes, list[str], list[tuple[bool, int]]]:
    """Open ``page`` in headless Chromium; return a full-page PNG screenshot, the console's errors
    and warnings, uncaught exceptions and failed loads, and each image's (complete, natural width)."""
    browser = DevTools(tmp / "chromium_profile")
    try:
        target = browser.call("Target.createTarget", url="about:blank")["targetId"]
        s = browser.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            browser.call(f"{domain}.enable", session=s)
        browser.call("Page.navigate", session=s, url=page.as_uri())
        browser.wait_for("Page.loadEventFired")
        js = "JSON.stringify(Array.from(document.images).map(i => [i.complete, i.naturalWidth]))"
        images = json.loads(
            browser.call("Runtime.evaluate", session=s, expression=js, returnByValue=True)["result"]["value"]
        )
        height = browser.call(
            "Runtime.evaluate",
            session=s,
            expression="document.documentElement.scrollHeight",
            returnByValue=True,
        )["result"]["value"]
        shot = browser.call(
            "Page.captureScreenshot",
            session=s,
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": 1280, "height": height, "scale": 1},
        )
        problems = []
        for e in browser.events:
            p = e.get("params", {})
            if e.get("method") == "Runtime.consoleAPICalled" and p.get("type") in (
                "error",
                "warning",
                "assert",
            ):
                problems.append(f"console.{p['type']}: {p.get('args')}")
            elif e.get("method") == "Runtime.exceptionThrown":
                problems.append(f"exception: {p.get('exceptionDetails', {}).get('text')}")
            elif e.get("method") == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
                problems.append(f"log {p['entry']['level']}: {p['entry']['text']} ({p['entry'].get('url')})")
        return base64.b64decode(shot["data"]), problems, [tuple(i) for i in images]
    finally:
        browser.close()

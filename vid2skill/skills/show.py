"""Looking at the skill library: ``vid2skill skills`` (a table) and ``vid2skill skills show NAME``
(a card and a plot of its trajectories)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vid2skill.artifacts import atomic_save_figure
from vid2skill.errors import ArtifactError
from vid2skill.skills.library import SkillCard, SkillLibrary, latest_version, version_dir
from vid2skill.stats import format_table

COLUMNS = [
    "skill",
    "clips",
    "outliers",
    "flagged",
    "origin",
    "labels",
    "signature",
    "mean_duration_s",
    "mean_end_m",
    "made",
]


def origin_text(card: SkillCard) -> str:
    """``labels(csv,filename)`` or ``motion``; ``-`` for libraries written before origins were kept."""
    origin = card.stats.get("origin") or {}
    if origin.get("from") == "labels":
        return "labels(" + ",".join(sorted(origin.get("sources", {}))) + ")"
    return origin.get("from", "-")


def library_rows(lib: SkillLibrary) -> list[dict]:
    rows = []
    for name, card in sorted(lib.skills.items()):
        labels = sorted({str(m.get("label")) for m in card.members if m.get("label")})
        rows.append(
            {
                "skill": name,
                "clips": len(card.members),
                "outliers": len(card.stats.get("outliers", [])),
                "flagged": len(card.stats.get("flagged", [])),
                "origin": origin_text(card),
                "labels": ",".join(labels[:3]) + ("..." if len(labels) > 3 else ""),
                "signature": card.stats.get(
                    "signature", "-"
                ),  # libraries written before signatures have none
                "mean_duration_s": card.stats.get("mean_duration_s", ""),
                "mean_end_m": card.stats.get("mean_end_m", ""),
                "made": ",".join(sorted(card.made)) or "-",
            }
        )
    return rows


def library_summary(root: Path, version: int | None = None) -> str:
    """The library's skills as a table, with its version and the versions on disk."""
    lib = SkillLibrary.load(root, version)
    head = (
        f"skill library {root} v{lib.version:04d} (latest v{latest_version(root):04d}), "
        f"{len(lib.skills)} skills, {sum(len(c.members) for c in lib.skills.values())} clips"
    )
    return head + "\n" + format_table(library_rows(lib), COLUMNS)


def card_text(card: SkillCard) -> str:
    lines = [f"skill {card.name}: {len(card.members)} clips"]
    for k, v in card.stats.items():
        if k != "flagged":  # shown beside its members
            lines.append(f"  {k}: {v}")
    for k, v in card.made.items():
        lines.append(f"  made {k}: {v}")
    lines.append("  members (clip, label, duration s, outlier, flag):")
    outliers = set(card.stats.get("outliers", []))
    flags = {f["clip"]: f["reason"] for f in card.stats.get("flagged", [])}
    for m in card.members:
        clip = m["clip"]
        lines.append(
            f"    {clip}  {m.get('label') or '-'}  {card.durations_s.get(clip, float('nan')):.2f}"
            f"{'  outlier' if clip in outliers else ''}"
            f"{'  flagged: ' + flags[clip] if clip in flags else ''}"
        )
    return "\n".join(lines)


def card_figure(card: SkillCard):
    """A matplotlib figure of each member's displacement (x, y, z in the contact frame), rotation
    angle since the grasp, image path (in hand lengths, what the descriptors measure) and fingers'
    direction in the image, over normalised time, with the prototype drawn thick."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(2, 3, figsize=(13, 6))
    panels = [(ax[0, 0], 0, "x (into the object), m"), (ax[0, 1], 1, "y, m"), (ax[1, 0], 2, "z, m")]
    for clip, traj in card.trajectories.items():
        s = np.linspace(0, 1, len(traj))
        for a, k, _ in panels:
            a.plot(s, traj[:, k], color="tab:blue", alpha=0.35, lw=1)
        ax[1, 1].plot(
            s, np.degrees(np.linalg.norm(card.rotation(clip), axis=1)), color="tab:orange", alpha=0.35, lw=1
        )
        image = card.image(clip)
        ax[0, 2].plot(image[:, 0], image[:, 1], color="tab:green", alpha=0.5, lw=1)
        ax[1, 2].plot(s, np.degrees(image[:, 2]), color="tab:purple", alpha=0.35, lw=1)
    proto = card.prototype
    s = np.linspace(0, 1, len(proto))
    for a, k, label in panels:
        a.plot(s, proto[:, k], color="black", lw=2.5)
        a.set_ylabel(label)
    ax[1, 1].set_ylabel("rotation since grasp, deg")
    ax[0, 2].set_xlabel("image right, hand lengths")
    ax[0, 2].set_ylabel("image up, hand lengths")
    ax[0, 2].set_aspect("equal", adjustable="datalim")
    ax[1, 2].set_ylabel("fingers' direction in the image, deg")
    for a in (ax[0, 0], ax[0, 1], ax[1, 0], ax[1, 1], ax[1, 2]):
        a.set_xlabel("normalised time")
    signature = card.stats.get("signature")
    fig.suptitle(
        f"skill {card.name}: {len(card.members)} clips (black: prototype)"
        + (f"; motion signature {signature}" if signature else "")
    )
    fig.tight_layout()
    return fig


def plot_card(card: SkillCard, out: Path) -> Path:
    """The card's :func:`card_figure`, written atomically as PNG to ``out``."""
    atomic_save_figure(card_figure(card), out)
    return out


def show_skill(root: Path, name: str, version: int | None = None) -> tuple[str, Path]:
    """A card as text, and the path of its trajectory plot (``<version>/plots/<name>.png``)."""
    lib = SkillLibrary.load(root, version)
    if name not in lib.skills:
        raise ArtifactError(f"no skill {name!r} in library v{lib.version:04d}; it has {sorted(lib.skills)}")
    plot = plot_card(lib.skills[name], version_dir(root, lib.version) / "plots" / f"{name}.png")
    return card_text(lib.skills[name]), plot

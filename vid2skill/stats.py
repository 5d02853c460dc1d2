"""Success rates with confidence intervals, and the plain-text table: shared by sim, skills and report."""

from __future__ import annotations

import math


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score 95% interval for a binomial proportion (sensible at 0 and n, unlike the normal one)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def success_record(skill: str, successes: int, episodes: int, **extra) -> dict:
    lo, hi = wilson_interval(successes, episodes)
    return {
        "skill": skill,
        **extra,
        "episodes": episodes,
        "successes": successes,
        "success_rate": round(successes / episodes, 4) if episodes else 0.0,
        "ci_low": round(lo, 4),
        "ci_high": round(hi, 4),
    }


def format_table(records: list[dict], columns: list[str]) -> str:
    """A plain-text table (one header line, one line per record)."""
    rows = [[str(r.get(c, "")) for c in columns] for r in records]
    widths = [max(len(c), *(len(row[i]) for row in rows)) if rows else len(c) for i, c in enumerate(columns)]
    line = lambda cells: "  ".join(cell.ljust(w) for cell, w in zip(cells, widths))  # noqa: E731
    return "\n".join([line(columns), line(["-" * w for w in widths]), *map(line, rows)])

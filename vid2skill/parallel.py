"""Running a function over many items on all cores, recording per-item failures instead of stopping."""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Callable, Iterable

from tqdm import tqdm

from vid2skill.errors import Vid2SkillError

log = logging.getLogger(__name__)


def resolve_workers(workers: int) -> int:
    """``workers`` if positive, else the number of usable cores."""
    if workers and workers > 0:
        return int(workers)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _call(fn: Callable, item: Any) -> tuple[Any, str | None]:
    try:
        return fn(item), None
    except Vid2SkillError as e:
        return None, str(e)
    except Exception as e:  # a batch records any per-item crash and goes on; the message names the item
        return None, f"{type(e).__name__}: {e}"


def map_items(fn: Callable, items: Iterable, workers: int, desc: str,
              cost: Callable[[Any], float] | None = None) -> list[tuple[Any, Any, str | None]]:
    """Apply ``fn`` to every item; returns (item, result or None, error message or None) in input order.

    ``fn`` must be a picklable top-level function. Workers are spawned (not forked) so that
    libraries holding threads in the parent (torch, MediaPipe) cannot deadlock them. With
    ``cost`` (an estimate of each item's work), items are handed out costliest first, so that a
    long item started last does not leave the other cores idle at the end of the batch.
    """
    items = list(items)
    n = min(resolve_workers(workers), max(len(items), 1))
    results: list[tuple[Any, Any, str | None]] = [None] * len(items)  # type: ignore[list-item]
    bar = tqdm(total=len(items), desc=desc, unit="item", leave=False, disable=None)
    try:
        if n <= 1:
            for i, item in enumerate(items):
                out, err = _call(fn, item)
                results[i] = (item, out, err)
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn")) as pool:
                order = sorted(range(len(items)), key=lambda i: -cost(items[i])) if cost else range(len(items))
                futures = {pool.submit(_call, fn, items[i]): i for i in order}
                for fut in as_completed(futures):
                    i = futures[fut]
                    out, err = fut.result()
                    results[i] = (items[i], out, err)
                    bar.update()
    finally:
        bar.close()
    return results

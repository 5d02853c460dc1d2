"""Running a function over many items on all cores, recording per-item failures instead of stopping.

Two executors: a process pool on this machine (the default), or Ray (``executor=ray``), whose
tasks run on a Ray cluster (``ray.address=auto`` joins the one this machine belongs to, an address
joins that one, none starts a local one). The executor is chosen once per command
(:func:`use_executor`, from the configuration) and every batch of the command goes through it.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import pickle
import threading
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from tqdm import tqdm

from vid2skill.errors import Vid2SkillError

log = logging.getLogger(__name__)


_EXECUTOR = {"name": "pool", "address": None}


def use_executor(name: str, address: str | None = None) -> None:
    """Send every later batch of this process to ``name`` (``pool`` or ``ray``)."""
    if name not in ("pool", "ray"):
        raise Vid2SkillError(f"executor={name!r}: choose pool or ray")
    if name == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            raise Vid2SkillError(
                "executor=ray needs Ray: pip install 'vid2skill[ray]' (or pip install ray)"
            ) from None
        if address:
            _check_ray_address(str(address))
    _EXECUTOR.update(name=name, address=address or None)


def _check_ray_address(address: str, timeout_s: float = 3.0) -> None:
    """Fail at once, in one line, where no Ray cluster answers at ``address`` (Ray itself retries
    for minutes). ``auto`` must find a cluster started on this machine."""
    import socket

    hint = "start one with `ray start --head`, or leave ray.address unset for a local Ray"
    if address == "auto":
        try:  # Ray's own lookup of this machine's cluster (a private function: skipped where it moved)
            from ray._private.services import canonicalize_bootstrap_address_or_die
        except ImportError:
            return
        try:
            canonicalize_bootstrap_address_or_die("auto")
        except (Exception, SystemExit):  # ConnectionError, or an exit, where none runs here
            raise Vid2SkillError(
                f"executor=ray: no Ray cluster runs on this machine for ray.address=auto; {hint}"
            ) from None
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout_s):
            pass
    except (OSError, ValueError):
        raise Vid2SkillError(
            f"executor=ray: no Ray cluster answers at ray.address={address}; {hint}"
        ) from None


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


def map_items(
    fn: Callable, items: Iterable, workers: int, desc: str, cost: Callable[[Any], float] | None = None
) -> list[tuple[Any, Any, str | None]]:
    """Apply ``fn`` to every item; returns (item, result or None, error message or None) in input order.

    ``fn`` must be a picklable top-level function. With ``workers`` > 1, this process works through
    the items too, beside ``workers`` - 1 spawned processes, all taking the next item from one
    queue: this process has everything imported already and starts at once, while a spawned worker
    spends a second or two importing before its first item. Workers are spawned (not forked) so
    that libraries holding threads in the parent (torch, MediaPipe) cannot deadlock them. With
    ``cost`` (an estimate of each item's work), items are handed out costliest first, so that a
    long item started last does not leave the other cores idle at the end of the batch.
    """
    items = list(items)
    n = min(resolve_workers(workers), max(len(items), 1))
    order = sorted(range(len(items)), key=lambda i: -cost(items[i])) if cost else list(range(len(items)))
    results: list[tuple[Any, Any, str | None]] = [None] * len(items)  # type: ignore[list-item]
    bar = tqdm(total=len(items), desc=desc, unit="item", leave=False, disable=None)
    try:
        if _EXECUTOR["name"] == "ray" and items:
            _on_ray(fn, items, order, n, results, bar, _EXECUTOR["address"])
        elif n <= 1:
            for i in order:
                out, err = _call(fn, items[i])
                results[i] = (items[i], out, err)
                bar.update()
        else:
            _here_and_in_pool(fn, items, order, n - 1, results, bar)
    finally:
        bar.close()
    return results


def _on_ray(
    fn: Callable, items: list, order: list[int], workers: int, results: list, bar, address: str | None
) -> None:
    """Run every item as a Ray task (costliest first), recording results as they finish. Without an
    address a local Ray instance with ``workers`` CPUs is started (once per process)."""
    import ray

    if not ray.is_initialized():
        kw = {"address": address} if address else {"num_cpus": workers}
        ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False, **kw)
    task = ray.remote(num_cpus=1)(_call)
    fn_ref = ray.put(fn)
    refs = {task.remote(fn_ref, items[i]): i for i in order}
    pending = list(refs)
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        i = refs[done[0]]
        try:
            out, err = ray.get(done[0])
        except Exception as e:
            # The task's worker died (a crash in native code): the item fails, the batch goes on.
            out, err = None, f"{type(e).__name__}: {e}"
        results[i] = (items[i], out, err)
        bar.update()


def _here_and_in_pool(fn: Callable, items: list, order: list[int], spawned: int, results: list, bar) -> None:
    """Run ``items`` (in ``order``) in this process and in ``spawned`` worker processes at once."""
    pending = deque(order)
    lock = threading.Condition()
    finished = 0

    def take() -> int | None:
        with lock:
            return pending.popleft() if pending else None

    def record(i: int, out: Any, err: str | None) -> None:
        nonlocal finished
        results[i] = (items[i], out, err)
        bar.update()
        with lock:
            finished += 1
            lock.notify_all()

    with ProcessPoolExecutor(max_workers=spawned, mp_context=mp.get_context("spawn")) as pool:

        def feed() -> None:
            """Give the pool the next item; it asks again as each of its items ends."""
            i = take()
            if i is None:
                return
            try:
                future = pool.submit(_call, fn, items[i])
            except Exception:  # a broken pool (a worker killed outright): this process takes the item back
                with lock:
                    pending.appendleft(i)
                    lock.notify_all()
                return
            future.add_done_callback(lambda f, i=i: done(i, f))

        def done(i: int, future) -> None:
            out, err, broken = _pool_outcome(future)
            # A broken pool takes no more and this process takes the items left. No submit then:
            # Python 3.12+ runs this callback while the pool holds the lock submit() takes.
            if not broken:
                feed()  # before recording, so that nothing is submitted once every item is recorded
            record(i, out, err)

        # This process runs its own copy of fn: the pool pickles fn in its feeder threads while this
        # process runs items, and a call that changes fn's state (a policy's memory of its last
        # step) must not change it under the pickler ("dictionary changed size during iteration").
        own = pickle.loads(pickle.dumps(fn))
        mine = take()  # this process starts at once: it takes the first (costliest) item itself
        for _ in range(spawned):
            feed()
        while mine is not None:
            record(mine, *_call(own, items[mine]))
            with lock:  # the next item, or wait for the pool to finish (or hand one back)
                lock.wait_for(lambda: pending or finished == len(items))
                mine = pending.popleft() if pending else None


def _pool_outcome(future) -> tuple[Any, str | None, bool]:
    """A finished pool call as (result or None, error message or None, whether the pool broke), so
    that a failed call fails its item only."""
    try:
        out, err = future.result()
    except BrokenProcessPool as e:
        # A worker died (a crash in native code): the item fails, the batch goes on.
        return None, f"{type(e).__name__}: {e}", True
    except Exception as e:  # any other failure of the call in the pool (a result that cannot pickle)
        return None, f"{type(e).__name__}: {e}", False
    return out, err, False

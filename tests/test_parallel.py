import time

import pytest

from vid2skill.parallel import map_items


def _slow_square(x: int) -> tuple[int, float]:
    started = time.monotonic()
    time.sleep(0.05 * x)
    if x == 3:
        raise ValueError("three is not allowed")
    return x * x, started


def test_costliest_items_start_first_and_results_keep_input_order():
    items = [1, 2, 3, 4, 8]
    out = map_items(_slow_square, items, workers=2, desc="test", cost=lambda x: x)
    assert [item for item, _, _ in out] == items
    assert [r[0] if r else None for _, r, _ in out] == [1, 4, None, 16, 64]
    assert out[2][2] == "ValueError: three is not allowed"
    # Handed out costliest first: the longest item is among the first two to start (in input
    # order it would start last, after the other worker had run three short ones).
    starts = sorted(r[1] for _, r, _ in out if r)
    assert dict((r[0], r[1]) for _, r, _ in out if r)[64] <= starts[1]


def _pid_after(x: tuple[str, float, int]) -> int:
    """Sleeps, then returns the pid; item "die" kills a spawned worker outright (not the test process)."""
    import os

    name, seconds, parent = x
    if name == "die" and os.getpid() != parent:
        os._exit(1)
    time.sleep(seconds)
    return os.getpid()


def test_this_process_works_beside_the_pool_and_a_dead_worker_fails_one_item():
    import os

    me = os.getpid()
    # Costliest first: this process takes "long" at once, the spawned worker gets "die" and dies
    # with it; the items left are taken back by this process, and the batch goes on.
    items = [("a", 0.1, me), ("die", 0.2, me), ("long", 3.0, me), ("b", 0.1, me)]
    out = map_items(_pid_after, items, workers=2, desc="test", cost=lambda x: x[1])
    assert [item for item, _, _ in out] == items
    by_name = {item[0]: (res, err) for item, res, err in out}
    assert by_name["long"] == (me, None) and by_name["a"] == (me, None) and by_name["b"] == (me, None)
    assert by_name["die"][0] is None and "BrokenProcessPool" in by_name["die"][1]


class _Remembers:
    """A stateful callable, as a policy that remembers its last step is: each call grows its state."""

    def __init__(self):
        self.seen = {}

    def __call__(self, x: int) -> int:
        self.seen[f"item{x}"] = x
        time.sleep(0.01)
        return len(self.seen)


def test_the_pool_never_pickles_a_callable_this_process_is_changing():
    """The pool pickles the callable in its feeder threads while this process runs items with it:
    this process runs a copy, so the original is never changed under the pickler (a policy that
    grew an attribute while pickled failed with "dictionary changed size during iteration")."""
    fn = _Remembers()
    out = map_items(fn, list(range(12)), workers=2, desc="test")
    assert all(err is None for _, _, err in out) and len(out) == 12
    assert fn.seen == {}  # the caller's object is untouched; each process counted on its own copy


def test_ray_with_no_cluster_at_the_address_fails_at_once_in_one_line():
    pytest.importorskip("ray", reason="executor=ray needs Ray (the dev extra installs it)")
    from vid2skill.errors import Vid2SkillError
    from vid2skill.parallel import use_executor

    with pytest.raises(Vid2SkillError, match=r"no Ray cluster answers at ray.address=127.0.0.1:1;") as e:
        use_executor("ray", "127.0.0.1:1")
    assert "\n" not in str(e.value)
    with pytest.raises(Vid2SkillError, match="choose pool or ray"):
        use_executor("dask")

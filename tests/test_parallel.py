import time

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

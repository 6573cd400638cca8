"""How finalize's join splits its pieces into S3 parts: copied server side where S3 allows, within its limits."""

from batch_core.dal.storage import _join_plan

MIB = 1024 * 1024
GIB = 1024 * MIB


def test_a_piece_larger_than_one_copied_part_is_copied_in_equal_ranges_of_at_most_5_gib() -> None:
    plan = _join_plan([("small", 1 * MIB), ("huge", 12 * GIB), ("tail", 10)])

    copied = [ranges[0] for is_copied, ranges in plan if is_copied]
    assert [(start, end) for _, start, end in copied] == [
        (4 * MIB, 4 * MIB + (12 * GIB - 4 * MIB) // 3),
        (4 * MIB + (12 * GIB - 4 * MIB) // 3, 4 * MIB + 2 * (12 * GIB - 4 * MIB) // 3),
        (4 * MIB + 2 * (12 * GIB - 4 * MIB) // 3, 12 * GIB),
    ]
    assert all(5 * MIB <= end - start <= 5 * GIB for _, start, end in copied)
    assert plan[0] == (False, [("small", 0, 1 * MIB), ("huge", 0, 4 * MIB)])
    assert plan[-1] == (False, [("tail", 0, 10)])

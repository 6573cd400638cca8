from collections.abc import Iterator
from typing import Any

import pytest

from batch_core.inputs import input_lines
from batch_core.validation import MAX_LINE_BYTES


class ChunkedBlobs:
    """A blob store whose object arrives in the given chunks, as S3 streams it."""

    def __init__(self, chunks: list[bytes]):
        self._chunks = chunks

    def chunks(self, key: str) -> Iterator[bytes]:
        return iter(self._chunks)


def lines_of(data: bytes, chunk: int) -> list[tuple[int, int, bytes]]:
    blobs: Any = ChunkedBlobs([data[start : start + chunk] for start in range(0, len(data), chunk)])
    return list(input_lines(blobs, "input.jsonl"))


@pytest.mark.parametrize("chunk", [1, 2, 5, 1024])
def test_lines_keep_their_byte_ranges_across_chunk_boundaries(chunk: int) -> None:
    data = b'{"a": 1}\n\r\n{"b": 22}\r\n{"c": 3}'

    assert lines_of(data, chunk) == [
        (0, 9, b'{"a": 1}\n'),
        (9, 11, b"\r\n"),
        (11, 22, b'{"b": 22}\r\n'),
        (22, 30, b'{"c": 3}'),
    ]


@pytest.mark.parametrize("chunk", [1, 1024])
def test_a_bom_opening_the_input_is_outside_every_line(chunk: int) -> None:
    assert lines_of(b'\xef\xbb\xbf{"a": 1}\n{"b": 2}\n', chunk) == [
        (3, 12, b'{"a": 1}\n'),
        (12, 21, b'{"b": 2}\n'),
    ]


def test_an_oversize_line_is_cut_but_keeps_its_true_range() -> None:
    data = b"x" * (MAX_LINE_BYTES + 10) + b"\n{}\n"

    (start, end, head), after = lines_of(data, 64 * 1024)

    assert (start, end, len(head)) == (0, MAX_LINE_BYTES + 11, MAX_LINE_BYTES + 1)
    assert after == (MAX_LINE_BYTES + 11, MAX_LINE_BYTES + 14, b"{}\n")

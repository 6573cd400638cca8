"""Blobs: whole and ranged reads, versions by ETag, copies pinned to a version, the multipart writer."""

import pytest

from batch_core.dal.stores import Stores
from batch_core.errors import StorageError

KEY = "batches/tenant-a/batch_1/input.jsonl"


def test_an_object_reads_whole_in_ranges_and_in_chunks(stores: Stores) -> None:
    stores.blobs.put(KEY, b"0123456789")

    assert stores.blobs.get(KEY) == b"0123456789"
    assert stores.blobs.get_range(KEY, 2, 5) == b"234"
    assert stores.blobs.get_range(KEY, 8, 20) == b"89"
    assert list(stores.blobs.chunks(KEY, size=4)) == [b"0123", b"4567", b"89"]
    head = stores.blobs.head(KEY)
    assert head is not None and head.size == 10


def test_a_missing_object_heads_as_none_and_reads_as_a_storage_error(stores: Stores) -> None:
    assert stores.blobs.head("missing") is None
    with pytest.raises(StorageError):
        stores.blobs.get("missing")
    with pytest.raises(StorageError):
        stores.blobs.get_range("missing", 0, 1)
    with pytest.raises(StorageError):
        list(stores.blobs.chunks("missing"))
    with pytest.raises(StorageError):
        stores.blobs.copy("missing", "target")


def test_a_range_starting_past_the_end_is_a_storage_error(stores: Stores) -> None:
    stores.blobs.put(KEY, b"0123")

    with pytest.raises(StorageError):
        stores.blobs.get_range(KEY, 4, 8)


def test_a_copy_pinned_to_a_version_fails_cleanly_once_the_source_changed(stores: Stores) -> None:
    stores.blobs.put(KEY, b"first")
    first = stores.blobs.head(KEY)
    assert first is not None

    pinned = stores.blobs.copy_version(KEY, first.etag, "copy-1")
    stores.blobs.put(KEY, b"second")
    stale = stores.blobs.copy_version(KEY, first.etag, "copy-2")
    stores.blobs.delete(KEY)
    gone = stores.blobs.copy_version(KEY, first.etag, "copy-3")

    assert (pinned, stale, gone) == (True, False, False)
    assert stores.blobs.get("copy-1") == b"first"
    assert (stores.blobs.head("copy-2"), stores.blobs.head("copy-3")) == (None, None)


def test_the_same_bytes_keep_their_etag_and_other_bytes_change_it(stores: Stores) -> None:
    stores.blobs.put("a", b"same")
    stores.blobs.put("b", b"same")
    stores.blobs.put("c", b"other")

    etags = [head.etag for head in (stores.blobs.head(key) for key in "abc") if head is not None]

    assert etags[0] == etags[1] != etags[2]


def test_the_writer_puts_a_small_object_once_and_a_large_one_in_parts(stores: Stores) -> None:
    line = b"x" * 1023 + b"\n"
    with (
        stores.blobs.writer("small") as small,
        stores.blobs.writer("large") as large,
        stores.blobs.writer("empty") as empty,
    ):
        small.write(b"a\n")
        small.write(b"b\n")
        for _ in range(9 * 1024):
            large.write(line)

    assert (small.written, large.written, empty.written) == (True, True, False)
    assert stores.blobs.get("small") == b"a\nb\n"
    head = stores.blobs.head("large")
    assert head is not None and head.size == 9 * 1024 * 1024 and head.etag.strip('"').endswith("-2")
    assert stores.blobs.head("empty") is None


def test_an_error_inside_the_writer_leaves_no_object_and_no_upload(stores: Stores) -> None:
    with pytest.raises(RuntimeError), stores.blobs.writer("aborted") as writer:
        for _ in range(9):
            writer.write(b"x" * 1024 * 1024)
        raise RuntimeError("the lines stopped coming")

    assert stores.blobs.head("aborted") is None
    assert stores.blobs.open_uploads() == []


def test_deleting_many_objects_leaves_the_others(stores: Stores) -> None:
    for key in ("a", "b", "c"):
        stores.blobs.put(key, key.encode())

    stores.blobs.delete_many(["a", "c", "never-written"])

    assert [stores.blobs.head(key) is not None for key in "abc"] == [False, True, False]


MIB = 1024 * 1024


def test_joining_copies_large_pieces_and_gathers_small_ones_in_order(stores: Stores) -> None:
    # Small pieces first, then a large one that lends them what they lack; a large one alone; a small tail.
    sizes = {"a": 2 * MIB, "b": 1 * MIB, "c": 9 * MIB, "d": 6 * MIB, "e": 1000}
    pieces = []
    for name, size in sizes.items():
        stores.blobs.put(f"pieces/{name}", name.encode() * size)
        pieces.append((f"pieces/{name}", size))

    size = stores.blobs.join("joined", pieces)

    joined = stores.blobs.get("joined")
    assert size == len(joined) == sum(sizes.values())
    assert joined == b"".join(name.encode() * size for name, size in sizes.items())
    assert stores.blobs.open_uploads() == []


def test_a_single_small_piece_joins_into_an_object_of_its_own(stores: Stores) -> None:
    stores.blobs.put("pieces/a", b"line\n")

    assert stores.blobs.join("joined", [("pieces/a", 5)]) == 5
    assert stores.blobs.get("joined") == b"line\n"


def test_a_join_that_fails_leaves_no_upload_and_no_object(stores: Stores) -> None:
    stores.blobs.put("pieces/a", b"a" * (6 * MIB))

    with pytest.raises(StorageError):
        stores.blobs.join("joined", [("pieces/a", 6 * MIB), ("pieces/missing", 10)])

    assert stores.blobs.head("joined") is None
    assert stores.blobs.open_uploads() == []

"""batchapi: submit, watch and read batches of any deployment (BATCH_API_URL, BATCH_API_KEY)."""

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from batch_core.models.batch import ENDPOINTS
from batchapi.client import BatchClient
from batchapi.create import create_batch
from batchapi.errors import ApiError, UsageError
from batchapi.keys import add_key_commands
from batchapi.progress import Progress

TERMINAL = {"completed", "failed", "expired", "cancelled"}


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        return arguments.run(arguments)
    except UsageError as problem:
        print(f"batchapi: {problem}", file=sys.stderr)
        return 2
    except ApiError as failure:
        print(
            f"batchapi: {failure.message} (HTTP {failure.status})"
            if failure.status
            else f"batchapi: {failure.message}",
            file=sys.stderr,
        )
        return 1


def _client(arguments: argparse.Namespace) -> BatchClient:
    if not arguments.key:
        raise UsageError("no API key: pass --key or set BATCH_API_KEY")
    return BatchClient(arguments.url, arguments.key)


def submit(arguments: argparse.Namespace) -> int:
    metadata = dict(pair.split("=", 1) for pair in arguments.metadata) if arguments.metadata else None
    options = {"completion_window": arguments.completion_window, "metadata": metadata}
    client = _client(arguments)
    batch = create_batch(client, Path(arguments.file), arguments.endpoint, options, upload=arguments.upload)
    print(batch["id"])
    if not arguments.wait:
        return 0
    return watch(client, batch, arguments.poll)


def watch(client: BatchClient, batch: dict[str, Any], poll_seconds: float) -> int:
    progress = Progress(batch["request_counts"]["total"])
    while True:
        counts = batch["request_counts"]
        # A batch of a file counts its lines once prepare has read them: until then its total is 0.
        progress.total = counts["total"]
        done = counts["completed"] + counts["failed"] + counts["cancelled"] + counts.get("expired", 0)
        progress.update(done, counts["failed"], batch["status"], batch.get("waiting_for_capacity"))
        if batch["status"] in TERMINAL:
            break
        time.sleep(poll_seconds)
        batch = client.get(batch["id"])
    progress.finish()
    counts = batch["request_counts"]
    print(
        f"{batch['id']} {batch['status']}: {counts['completed']} completed, {counts['failed']} failed, "
        f"{counts['cancelled']} cancelled, {counts.get('expired', 0)} expired",
        file=sys.stderr,
    )
    return 0 if batch["status"] == "completed" else 1


def status(arguments: argparse.Namespace) -> int:
    print(json.dumps(_client(arguments).get(arguments.batch_id), indent=2))
    return 0


def list_batches(arguments: argparse.Namespace) -> int:
    for batch in _client(arguments).list_batches(arguments.status, arguments.limit):
        counts = batch["request_counts"]
        ran = counts["completed"] + counts["failed"]
        print(f"{batch['id']}  {batch['status']:<11} {ran}/{counts['total']}  {batch['endpoint']}")
    return 0


def items(arguments: argparse.Namespace) -> int:
    for item in _client(arguments).items(arguments.batch_id, arguments.status, arguments.limit, arguments.skip):
        print(json.dumps(item))
    return 0


def results(arguments: argparse.Namespace) -> int:
    data = _client(arguments).results(arguments.batch_id, arguments.status)
    if arguments.output:
        Path(arguments.output).write_bytes(data)
        lines = data.count(b"\n")
        print(f"wrote {lines} lines to {arguments.output}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
    return 0


def watch_batch(arguments: argparse.Namespace) -> int:
    client = _client(arguments)
    return watch(client, client.get(arguments.batch_id), arguments.poll)


def retry(arguments: argparse.Namespace) -> int:
    """A new batch of the lines that did not succeed; prints its id, then watches it with --wait."""
    client = _client(arguments)
    batch = client.retry(arguments.batch_id)
    print(batch["id"])
    return watch(client, batch, arguments.poll) if arguments.wait else 0


def cancel(arguments: argparse.Namespace) -> int:
    batch = _client(arguments).cancel(arguments.batch_id)
    print(f"{batch['id']} {batch['status']}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="batchapi", description=__doc__)
    parser.add_argument("--url", default=os.environ.get("BATCH_API_URL", "http://127.0.0.1:3000"), help="API base URL")
    parser.add_argument("--key", default=os.environ.get("BATCH_API_KEY"), help="API key")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    command = commands.add_parser("submit", help="create a batch from an OpenAI batch input JSONL file")
    command.add_argument("file")
    command.add_argument("--endpoint", choices=ENDPOINTS)
    command.add_argument("--completion-window", default=None)
    command.add_argument("--metadata", action="append", metavar="KEY=VALUE")
    command.add_argument(
        "--upload", action="store_true", help="send the file through the Uploads API even if it fits in one request"
    )
    command.add_argument("--wait", action="store_true", help="show live progress until the batch ends")
    command.add_argument("--poll", type=float, default=1.0, help="seconds between progress checks")
    command.set_defaults(run=submit)

    for name, run, text in [("status", status, "show a batch"), ("cancel", cancel, "cancel a batch")]:
        command = commands.add_parser(name, help=text)
        command.add_argument("batch_id")
        command.set_defaults(run=run)

    command = commands.add_parser("watch", help="show a batch's live progress until it ends")
    command.add_argument("batch_id")
    command.add_argument("--poll", type=float, default=1.0, help="seconds between progress checks")
    command.set_defaults(run=watch_batch)

    command = commands.add_parser("retry", help="run a batch's failed, expired and cancelled lines again")
    command.add_argument("batch_id")
    command.add_argument("--wait", action="store_true", help="show live progress until the new batch ends")
    command.add_argument("--poll", type=float, default=1.0, help="seconds between progress checks")
    command.set_defaults(run=retry)

    command = commands.add_parser("list", help="list batches, newest first")
    command.add_argument("--status")
    command.add_argument("--limit", type=int)
    command.set_defaults(run=list_batches)

    command = commands.add_parser("items", help="per-line status, one JSON object a line")
    command.add_argument("batch_id")
    command.add_argument("--status")
    command.add_argument("--limit", type=int)
    command.add_argument("--skip", type=int)
    command.set_defaults(run=items)

    command = commands.add_parser("results", help="the JSONL results of the lines that ran")
    command.add_argument("batch_id")
    command.add_argument("--status", choices=["succeeded", "failed"])
    command.add_argument("-o", "--output", help="write to this file instead of stdout")
    command.set_defaults(run=results)

    add_key_commands(commands)
    return parser

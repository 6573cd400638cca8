"""A moto server with the local stack's fixes to moto, for benches that run steps in processes of their own.

    python -m bench.moto_server PORT

Plain moto copies a whole table on every transaction and sorts every item of it on every query, costs that grow
with the batch and would be measured instead of the service (embedded/moto_fixes.py says which)."""

import sys
import threading

from moto.server import ThreadedMotoServer

from embedded.lambdas import LocalLambdas
from embedded.moto_patches import moto_patches
from embedded.template import Stack


def main() -> None:
    port = int(sys.argv[1])
    # No Lambda function runs here: the benches invoke the core directly.
    lambdas = LocalLambdas(Stack(name="bench", region="us-east-1", template={}, parameters={}))
    with moto_patches(lambdas):
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        threading.Event().wait()


if __name__ == "__main__":
    main()

"""A margo server used by the cross-process tests.

Usage: rpc_server.py --protocol P --addr-file F [--marker-dir D] [--rpc-threads N] [--progress-thread]

It writes its address to F (atomically), enables remote shutdown, serves until
finalized, and prints PREFINALIZE / FINALIZE / FINALIZED on stdout as it stops.

RPCs (provider id 0 unless said otherwise):
  echo(*args, **kwargs) -> {"args": [...], "kwargs": {...}}
  sum(*numbers)         -> sum(numbers)
  whoami                -> provider id 1 answers "one", provider id 2 answers "two"
  getpid()              -> the server's pid
  never_respond()       -> never answers
  hang()                -> touches <marker-dir>/hang, then blocks (the test kills the process)
  boom()                -> raises (so no response)
  bulk_pull(bulk, size) -> pulls `size` bytes from the caller's bulk, returns them
  bulk_push(bulk, data, offset) -> pushes `data` into the caller's bulk at `offset`, returns len
"""

import argparse
import os
import sys
import threading
import time

import mochi.margo
from mochi.margo.bulk import pull, push, read_only, read_write


def exit_with_parent(max_lifetime=600.0):
    """Never outlive the test process, even if it dies without killing us."""
    parent = os.getppid()
    start = time.monotonic()

    def watch():
        while os.getppid() == parent and time.monotonic() - start < max_lifetime:
            time.sleep(0.2)
        os._exit(3)

    threading.Thread(target=watch, daemon=True).start()


def main():
    exit_with_parent()
    parser = argparse.ArgumentParser()
    parser.add_argument("--protocol", default="ofi+tcp://127.0.0.1:0")
    parser.add_argument("--addr-file", required=True)
    parser.add_argument("--marker-dir", default=None)
    parser.add_argument("--rpc-threads", type=int, default=0)
    parser.add_argument("--progress-thread", action="store_true")
    args = parser.parse_args()

    engine = mochi.margo.Engine(args.protocol, mochi.margo.server,
                                use_progress_thread=args.progress_thread,
                                num_rpc_threads=args.rpc_threads)

    def marker(name):
        if args.marker_dir:
            with open(os.path.join(args.marker_dir, name), "w") as f:
                f.write(str(os.getpid()))

    def echo(handle, *a, **kw):
        handle.respond({"args": list(a), "kwargs": kw})

    def total(handle, *numbers):
        handle.respond(sum(numbers))

    def getpid(handle):
        handle.respond(os.getpid())

    def never_respond(handle):
        marker("never_respond")

    def hang(handle):
        marker("hang")
        time.sleep(600)

    def boom(handle):
        raise ValueError("boom on purpose")

    def bulk_pull(handle, remote_bulk, size):
        local = bytearray(size)
        local_bulk = engine.create_bulk(local, read_write)
        engine.transfer(pull, handle.address, remote_bulk, 0, local_bulk, 0, size)
        handle.respond(bytes(local))

    def bulk_push(handle, remote_bulk, data, offset):
        local = bytearray(data)
        local_bulk = engine.create_bulk(local, read_only)
        engine.transfer(push, handle.address, remote_bulk, offset, local_bulk, 0, len(local))
        handle.respond(len(local))

    exposed = []  # kept alive so peers may keep using the handles

    def expose(handle, size):
        memory = bytearray(b"e" * size)
        bulk = engine.create_bulk(memory, read_write)
        exposed.append((memory, bulk))
        handle.respond(bulk)

    engine.register("expose", expose)
    engine.register("echo", echo)
    engine.register("sum", total)
    engine.register("whoami", lambda h: h.respond("one"), provider_id=1)
    engine.register("whoami", lambda h: h.respond("two"), provider_id=2)
    engine.register("getpid", getpid)
    engine.register("never_respond", never_respond)
    engine.register("hang", hang)
    engine.register("boom", boom)
    engine.register("bulk_pull", bulk_pull)
    engine.register("bulk_push", bulk_push)

    engine.on_prefinalize(lambda: print("PREFINALIZE", flush=True))
    engine.on_finalize(lambda: print("FINALIZE", flush=True))
    engine.enable_remote_shutdown()

    tmp = args.addr_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(engine.addr()))
    os.replace(tmp, args.addr_file)

    engine.wait_for_finalize()
    print("FINALIZED", flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()

"""Example margo server: an echo RPC, a sum RPC and a bulk RPC.

    python3 examples/margo/server.py --addr-file /tmp/addr --protocol tcp

It writes its address to --addr-file and serves until a client shuts it down
remotely (see client.py).
"""

import argparse
import os

import mochi.margo
from mochi.margo.bulk import pull, read_write


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--addr-file", required=True, help="where to write the server address")
    parser.add_argument("--protocol", default="tcp", help="e.g. tcp, ofi+tcp, na+sm")
    parser.add_argument("--provider-id", type=int, default=0)
    args = parser.parse_args()

    engine = mochi.margo.Engine(args.protocol, mochi.margo.server)

    def echo(handle, *values, **kwvalues):
        handle.respond({"args": list(values), "kwargs": kwvalues})

    def add(handle, *numbers):
        handle.respond(sum(numbers))

    def checksum(handle, remote_bulk, size):
        """Pull `size` bytes from the client's bulk and answer (length, sum of bytes)."""
        local = bytearray(size)
        local_bulk = engine.create_bulk(local, read_write)
        engine.transfer(pull, handle.address, remote_bulk, 0, local_bulk, 0, size)
        handle.respond((len(local), sum(local)))

    engine.register("echo", echo, provider_id=args.provider_id)
    engine.register("sum", add, provider_id=args.provider_id)
    engine.register("checksum", checksum, provider_id=args.provider_id)
    engine.on_finalize(lambda: print("server: finalized", flush=True))
    engine.enable_remote_shutdown()

    address = str(engine.addr())
    tmp = args.addr_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(address)
    os.replace(tmp, args.addr_file)
    print(f"server: listening on {address}", flush=True)

    engine.wait_for_finalize()


if __name__ == "__main__":
    main()

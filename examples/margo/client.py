"""Example margo client for server.py: RPCs, a bulk pull, then a remote shutdown.

    python3 examples/margo/client.py --addr-file /tmp/addr --protocol tcp

Exits with status 0 if every answer is right.
"""

import argparse
import sys
import time

import mochi.margo
from mochi.margo.bulk import read_only


def read_address(path, timeout):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path) as f:
                text = f.read().strip()
            if text:
                return text
        except FileNotFoundError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"client: no address in {path} after {timeout} s")
        time.sleep(0.05)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--addr-file", required=True, help="file where server.py wrote its address")
    parser.add_argument("--protocol", default="tcp", help="must match the server's protocol")
    parser.add_argument("--provider-id", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=10000.0, help="per-RPC timeout (ms)")
    parser.add_argument("--no-shutdown", action="store_true", help="leave the server running")
    args = parser.parse_args()

    server_addr = read_address(args.addr_file, 30)
    with mochi.margo.Engine(args.protocol, mochi.margo.client) as engine:
        address = engine.lookup(server_addr)
        pid = args.provider_id
        echo = engine.register("echo").on(address, pid)
        add = engine.register("sum").on(address, pid)
        checksum = engine.register("checksum").on(address, pid)

        out = echo("hello", 42, key="value", timeout=args.timeout)
        assert out == {"args": ["hello", 42], "kwargs": {"key": "value"}}, out
        print(f"client: echo -> {out}")

        total = add(*range(101), timeout=args.timeout)
        assert total == 5050, total
        print(f"client: sum(0..100) -> {total}")

        data = bytes(i % 251 for i in range(1 << 20))
        bulk = engine.create_bulk(data, read_only)
        size, s = checksum(bulk, len(data), timeout=args.timeout)
        assert (size, s) == (len(data), sum(data)), (size, s)
        print(f"client: bulk pull of {size} bytes -> checksum {s}")

        if not args.no_shutdown:
            address.shutdown()
            print("client: server shut down")
    print("client: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())

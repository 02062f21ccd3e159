"""A Yokan server for the cross-process tests: one engine, one or more providers, serving
until killed (or remotely shut down).

    python yokan_server.py --protocol ofi+tcp://127.0.0.1:0 --addr-file F \
        --provider '42={"database":{"type":"map"}}' [--provider ...]

Prints the address on stdout and writes it to --addr-file once every provider is up.
"""

import argparse
import json
import os
import sys

os.environ.setdefault("FI_TCP_IFACE", "lo")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--protocol", default="ofi+tcp://127.0.0.1:0")
    parser.add_argument("--addr-file", required=True)
    parser.add_argument("--rpc-threads", type=int, default=2)
    parser.add_argument("--provider", action="append", default=[],
                        help="ID=JSON config (repeatable)")
    args = parser.parse_args()

    from mochi.margo import Engine, server
    from mochi.yokan.server import Provider

    config = {"use_progress_thread": True, "rpc_thread_count": args.rpc_threads}
    engine = Engine(args.protocol, server, config=json.dumps(config))
    engine.enable_remote_shutdown()
    providers = []
    for spec in args.provider or ['42={"database":{"type":"map"}}']:
        pid, cfg = spec.split("=", 1)
        providers.append(Provider(engine, int(pid), cfg))
    address = str(engine.addr())
    tmp = args.addr_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(address)
    os.replace(tmp, args.addr_file)
    print(address, flush=True)
    engine.wait_for_finalize()
    del providers
    return 0


if __name__ == "__main__":
    sys.exit(main())

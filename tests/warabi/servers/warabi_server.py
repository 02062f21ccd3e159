"""A Warabi server for the cross-process tests.

Usage: warabi_server.py --protocol P --addr-file F --providers JSON [--rpc-threads N]

--providers is a JSON object {"<provider id>": <provider config dict>, ...}. The server
creates every provider, writes its address to F (atomically: tests poll for it), and serves
until killed or remotely shut down. It never outlives the test process that started it.
"""

import argparse
import json
import os
import sys
import threading
import time

import mochi.margo
from mochi.warabi.server import Provider


def exit_with_parent(max_lifetime=600.0):
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
    parser.add_argument("--providers", required=True)
    parser.add_argument("--rpc-threads", type=int, default=1)
    args = parser.parse_args()

    engine = mochi.margo.Engine(args.protocol, mochi.margo.server, num_rpc_threads=args.rpc_threads)
    engine.enable_remote_shutdown()
    providers = []
    for pid, config in json.loads(args.providers).items():
        providers.append(Provider(engine, int(pid), config))
    tmp = args.addr_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(engine.addr()))
    os.replace(tmp, args.addr_file)
    print("READY", flush=True)
    engine.wait_for_finalize()
    providers.clear()
    return 0


if __name__ == "__main__":
    sys.exit(main())

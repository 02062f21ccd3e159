"""Finds a bedrock service group from its flock group file and uses every rank.

    mpirun -n 2 bedrock tcp -c examples/bedrock/config.json     # writes bedrock.flock
    python examples/bedrock/client.py bedrock.flock

For each member of the group: reads its effective config through bedrock, stores a key in
its yokan provider ("kv") and a blob in its warabi provider ("blobs"), and reads both back.
"""

import argparse
import sys

import mochi.margo
from mochi.bedrock.client import Client as BedrockClient
from mochi.yokan.client import Client as YokanClient

try:
    from mochi.warabi.client import Client as WarabiClient
except ImportError:  # a build without warabi
    WarabiClient = None


def provider_id_of(config, name):
    for p in config["providers"]:
        if p["name"] == name:
            return p["provider_id"]
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("group_file", nargs="?", default="bedrock.flock")
    parser.add_argument("--protocol", default=None, help="client protocol (default: that of the group's addresses)")
    args = parser.parse_args()

    with open(args.group_file) as f:
        import json

        first = json.load(f)["members"][0]["address"]
    protocol = args.protocol or first.split("://")[0]

    engine = mochi.margo.Engine(protocol, mochi.margo.client)
    try:
        group = BedrockClient(engine).make_service_group_handle_from_flock(args.group_file)
        print(f"group of {group.size} servers")
        yokan = YokanClient(engine)
        warabi = WarabiClient(engine) if WarabiClient else None
        for rank in range(group.size):
            service = group[rank]
            config = service.config
            address = service.address
            print(f"rank {rank} at {address}: providers {[p['name'] for p in config['providers']]}")

            kv_id = provider_id_of(config, "kv")
            db = yokan.make_database_handle(engine.lookup(address), kv_id)
            key, value = f"greeting-{rank}".encode(), f"hello from rank {rank}".encode()
            db.put(key, value)
            buf = bytearray(db.length(key))
            db.get(key, buf)
            assert bytes(buf) == value
            print(f"  yokan  {key.decode()} -> {buf.decode()}")

            blob_id = provider_id_of(config, "blobs")
            if warabi and blob_id is not None:
                target = warabi.make_target_handle(address, blob_id)
                data = bytes(range(256)) * 16
                region = target.create_and_write(data, persist=True)
                back = target.read(region, offset=0, size=len(data))
                assert bytes(back) == data
                print(f"  warabi region {region}: {len(data)} bytes written and read back")
        print("all ranks OK")
    finally:
        engine.finalize()
    return 0


if __name__ == "__main__":
    sys.exit(main())

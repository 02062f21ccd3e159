"""Yokan from Python: put/get of 16-byte keys and 64-byte values, single and in batches of
1,000 (put_multi, get_multi, put_packed, get_packed), list_keyvals pages of 100, over na+sm
and tcp, with the map and rocksdb backends; the server runs in a subprocess. Measured in the
same run for comparison: a mochi.margo echo RPC round trip to the same server process.

    PYTHONPATH=... python3 bench/yokan/python_kv.py [--quick]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("FI_TCP_IFACE", "lo")

SERVER = r"""
import json, sys
from mochi.margo import Engine, server
from mochi.yokan.server import Provider
protocol, addr_file, config = sys.argv[1], sys.argv[2], sys.argv[3]
# The default engine config, as in kv_bench.cpp (a progress thread adds a cross-thread
# hand-off per request: see docs/performance.md).
e = Engine(protocol, server)
e.enable_remote_shutdown()
e.register("echo", lambda h, x: h.respond(x))
p = Provider(e, 42, config)
open(addr_file + ".tmp", "w").write(str(e.address))
import os; os.replace(addr_file + ".tmp", addr_file)
e.wait_for_finalize()
"""

KEY, VAL, BATCH, PAGE = 16, 64, 1000, 100


def keys_values(n, tag):
    keys = [f"{tag}{i:0{KEY - len(tag)}d}".encode() for i in range(n)]
    assert all(len(k) == KEY for k in keys)
    vals = [(b"v%07d" % i).ljust(VAL, b".") for i in range(n)]
    return keys, vals


def timed(fn, reps):
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def bench(protocol, backend, workdir, quick):
    from mochi.margo import Engine, client
    from mochi.yokan.client import Client

    cfg = {"type": backend}
    if backend == "rocksdb":
        cfg["config"] = {"path": os.path.join(workdir, f"rocks-{protocol.split(':')[0]}"), "create_if_missing": True}
    addr_file = os.path.join(workdir, f"addr-{backend}-{abs(hash(protocol))}")
    proc = subprocess.Popen([sys.executable, "-c", SERVER, protocol, addr_file, json.dumps({"database": cfg})])
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(addr_file) and time.monotonic() < deadline:
            time.sleep(0.02)
        c = Engine(protocol, client)
        addr = c.lookup(open(addr_file).read())
        db = Client(c).make_database_handle(addr, 42)
        echo = c.register("echo").on(addr)
        singles = 300 if quick else 3000
        reps = 5 if quick else 30
        res = {}

        for _ in range(200):
            echo(b"x" * 8)
        res["echo_rpc"] = timed(lambda: echo(b"x" * 8), singles) * 1e6

        keys, vals = keys_values(singles, "s")
        it = iter(range(singles))
        res["put"] = timed(lambda: (lambda i: db.put(keys[i], vals[i]))(next(it)), singles) * 1e6
        buf = bytearray(VAL)
        it = iter(range(singles))
        res["get"] = timed(lambda: (lambda i: db.get(keys[i], buf))(next(it)), singles) * 1e6

        bkeys, bvals = keys_values(BATCH, "b")
        pairs = list(zip(bkeys, bvals))
        res["put_multi"] = timed(lambda: db.put_multi(pairs), reps) * 1e6 / BATCH
        outs = [(k, bytearray(VAL)) for k in bkeys]
        res["get_multi"] = timed(lambda: db.get_multi(outs), reps) * 1e6 / BATCH
        pk, pv = b"".join(bkeys), b"".join(bvals)
        ks, vs = [KEY] * BATCH, [VAL] * BATCH
        res["put_packed"] = timed(lambda: db.put_packed(pk, ks, pv, vs), reps) * 1e6 / BATCH
        out = bytearray(VAL * BATCH)
        res["get_packed"] = timed(lambda: db.get_packed(pk, ks, out), reps) * 1e6 / BATCH

        page = [(bytearray(KEY), bytearray(VAL)) for _ in range(PAGE)]
        res["list_keyvals_page"] = timed(lambda: db.list_keyvals(page, from_key=b"b", filter=b"b"), reps * 4) * 1e6

        for name, unit in [("echo_rpc", "us/op"), ("put", "us/op"), ("get", "us/op"),
                           ("put_multi", "us/key"), ("get_multi", "us/key"), ("put_packed", "us/key"),
                           ("get_packed", "us/key"), ("list_keyvals_page", "us/page")]:
            ratio = res[name] / res["echo_rpc"]
            print(f"yokan-python protocol={protocol.split(':')[0]} backend={backend} op={name} "
                  f"median={res[name]:.2f} {unit} ratio_to_echo={ratio:.2f}", flush=True)
        del db
        addr.shutdown()
        proc.wait(timeout=30)
        c.finalize()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    from mochi.yokan.backends import available_backends

    with tempfile.TemporaryDirectory() as d:
        for protocol in ("na+sm", "ofi+tcp://127.0.0.1:0"):
            for backend in ("map", "rocksdb"):
                if backend in available_backends:
                    bench(protocol, backend, d, args.quick)


if __name__ == "__main__":
    main()

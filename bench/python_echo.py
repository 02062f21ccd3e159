"""Python echo RPC round trip (two processes, na+sm and tcp) and what the Python layer adds.

Four pairings per protocol, measured in the same run:
    C++ client  -> C++ server      the engine's own figure (baseline)
    Py client   -> C++ server      what the Python client side costs
    C++ client  -> Py server       what a Python handler costs
    Py client   -> Py server       the py-mochi-margo use case
The C++ halves come from kinako-bench-engine (--serve / --echo); pass its path with
--engine-bench, or let the script find it in build/*/bench or on PATH.

    PYTHONPATH=... python3 bench/python_echo.py [--iters N] [--engine-bench PATH]
"""
import argparse
import glob
import os
import pickle
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("FI_TCP_IFACE", "lo")

PY_SERVER = r"""
import os, sys
from mochi.margo import Engine
e = Engine(sys.argv[1])
e.enable_remote_shutdown()
e.register("echo", lambda h, x: h.respond(x))
open(sys.argv[2] + ".tmp", "w").write(str(e.address))
os.replace(sys.argv[2] + ".tmp", sys.argv[2])
e.wait_for_finalize()
"""

PROTOCOLS = {"na+sm": ("na+sm", "na+sm"), "tcp": ("ofi+tcp://127.0.0.1:0", "ofi+tcp")}


def find_engine_bench(explicit):
    if explicit:
        return explicit
    here = os.path.dirname(os.path.abspath(__file__))
    found = sorted(glob.glob(os.path.join(here, "..", "build", "*", "bench", "kinako-bench-engine")),
                   key=os.path.getmtime)
    return found[-1] if found else shutil.which("kinako-bench-engine")


def wait_for(path, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server did not publish its address ({path})")
        time.sleep(0.02)
    return open(path).read().strip()


def start_server(kind, listen, workdir, engine_bench):
    addr_file = os.path.join(workdir, f"addr-{kind}-{time.monotonic_ns()}")
    if kind == "py":
        proc = subprocess.Popen([sys.executable, "-c", PY_SERVER, listen, addr_file])
    else:
        proc = subprocess.Popen([engine_bench, "--serve", listen, addr_file])
    return proc, wait_for(addr_file, proc)


def py_echo(client_proto, address, iters):
    from mochi.margo import Engine, client
    c = Engine(client_proto, client)
    addr = c.lookup(address)
    f = c.register("echo").on(addr)
    payload = b"x" * 8
    for _ in range(1000):
        f(payload)
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        f(payload)
        times.append((time.perf_counter() - t0) * 1e6)
    addr.shutdown()
    del f, addr
    c.finalize()
    return statistics.median(times)


def cpp_echo(engine_bench, client_proto, address, iters, python_server):
    cmd = [engine_bench, "--echo", client_proto, address, str(iters)]
    if python_server:
        # What a Python caller sends for f(b"x" * 8): the handler unpickles it.
        cmd.append(pickle.dumps({"args": (b"x" * 8,), "kwargs": {}}, protocol=pickle.HIGHEST_PROTOCOL).hex())
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=600).stdout
    m = re.search(r"median_us=([0-9.]+)", out)
    if not m:
        raise RuntimeError(f"unexpected kinako-bench-engine output: {out!r}")
    return float(m.group(1))


def shutdown_cpp_client_side(client_proto, address):
    from mochi.margo import Engine, client
    c = Engine(client_proto, client)
    c.lookup(address).shutdown()
    c.finalize()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=20000)
    ap.add_argument("--engine-bench", default=None)
    args = ap.parse_args()
    engine_bench = find_engine_bench(args.engine_bench)
    if not engine_bench or not os.path.exists(engine_bench):
        sys.exit("kinako-bench-engine not found: build first or pass --engine-bench")
    with tempfile.TemporaryDirectory() as workdir:
        for name, (listen, client_proto) in PROTOCOLS.items():
            figures = {}
            for server_kind in ("cpp", "py"):
                for client_kind in ("cpp", "py"):
                    proc, address = start_server(server_kind, listen, workdir, engine_bench)
                    try:
                        if client_kind == "py":
                            figures[(client_kind, server_kind)] = py_echo(client_proto, address, args.iters)
                        else:
                            figures[(client_kind, server_kind)] = cpp_echo(engine_bench, client_proto, address, args.iters,
                                                                            server_kind == "py")
                            shutdown_cpp_client_side(client_proto, address)
                        proc.wait(timeout=30)
                    finally:
                        if proc.poll() is None:
                            proc.kill()
                            proc.wait()
            base = figures[("cpp", "cpp")]
            for (client_kind, server_kind), us in figures.items():
                print(f"python-echo protocol={name} client={client_kind} server={server_kind} "
                      f"op=echo_8B median_us={us:.2f} added_us={us - base:+.2f} n={args.iters}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()

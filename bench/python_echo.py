"""Python echo RPC round trip (two processes, na+sm and tcp) and what the Python layer adds.

Headline figures: each compares a C++ echo with a Python one call by call, in one process, on one
engine and one connection to one server, so that the drift of the round trip over a run (several
microseconds on tcp on this VM, more than the difference being measured) hits both alike.

    op=client_added_us   One Python client process against a C++ server (kinako-bench-engine
                         --serve). It alternates a forward done and timed in C++ with the GIL
                         released (_kinako_bench.timed_forward) with f(b"x" * 8) through the
                         mochi.margo API (f = engine.register("echo").on(addr)), timed with
                         time.perf_counter. The C++ forward sends the very bytes the Python call
                         puts on the wire (the pickle of its arguments), so only the Python
                         layer differs.
    op=handler_added_us  One Python server process holding a C++ echo handler
                         (_kinako_bench.define_native_echo) and the Python echo handler
                         (lambda h, x: h.respond(x)); kinako-bench-engine --echo-pair alternates
                         calls to the two, sending that same pickle to both.
Each line gives the median of the per-pair differences (py_i - cpp_i, the most robust figure),
the difference of the two medians, both medians and the request size in bytes. Which side goes
first alternates from pair to pair.

Then, for context, the four pairings measured in separate runs against separate servers (the
Python ones send the pickle, the C++ client to the C++ server sends 8 raw bytes); their
differences carry the run-to-run drift:
    C++ client  -> C++ server      the engine's own figure (baseline)
    Py client   -> C++ server      what the Python client side costs
    C++ client  -> Py server       what a Python handler costs
    Py client   -> Py server       the py-mochi-margo use case

The C++ halves come from kinako-bench-engine (--serve / --echo / --echo-pair); pass its path with
--engine-bench, or let the script find it in build/*/bench or on PATH. _kinako_bench is the
extension built next to it (bench/python/_kinako_bench.cpp); the script looks for it there.

    PYTHONPATH=... python3 bench/python_echo.py [--iters N] [--engine-bench PATH] [--no-separate]
"""
import argparse
import glob
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("FI_TCP_IFACE", "lo")

# argv: listen address, address file, directory holding _kinako_bench.
PY_SERVER = r"""
import os, sys
sys.path.append(sys.argv[3])
from mochi.margo import Engine
e = Engine(sys.argv[1])
e.enable_remote_shutdown()
e.register("echo", lambda h, x: h.respond(x))
e.register("echo_py", lambda h, x: h.respond(x))
try:
    import _kinako_bench
    _kinako_bench.define_native_echo(e, "echo_native")
except ImportError:
    pass  # only the separate-run pairings, which do not call echo_native
open(sys.argv[2] + ".tmp", "w").write(str(e.address))
os.replace(sys.argv[2] + ".tmp", sys.argv[2])
e.wait_for_finalize()
"""

PROTOCOLS = {"na+sm": ("na+sm", "na+sm"), "tcp": ("ofi+tcp://127.0.0.1:0", "ofi+tcp")}
ARG = b"x" * 8
WARMUP = 1000


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
        module_dir = os.path.dirname(os.path.abspath(engine_bench))
        proc = subprocess.Popen([sys.executable, "-c", PY_SERVER, listen, addr_file, module_dir])
    else:
        proc = subprocess.Popen([engine_bench, "--serve", listen, addr_file])
    return proc, wait_for(addr_file, proc)


def wire_payload(engine):
    """The bytes f(ARG) sends: the pickle of its arguments, as the Python handler expects them."""
    from mochi.margo import serialization
    return serialization.dumps(engine.mid, {"args": (ARG,), "kwargs": {}})


def stop(proc):
    if proc.poll() is None:
        proc.kill()
        proc.wait()


# ---- interleaved: the headline figures

def time_py_call(f):
    t0 = time.perf_counter()
    f(ARG)
    return (time.perf_counter() - t0) * 1e6


def interleaved_client(client_proto, address, iters):
    """Python client vs C++ forward, call by call, same engine and address: (cpp, py, diff) lists."""
    import _kinako_bench
    from mochi.margo import Engine, client
    c = Engine(client_proto, client)
    addr = c.lookup(address)
    f = c.register("echo").on(addr)
    wire = wire_payload(c)
    # Capsules, looked up once, so that little runs between the calls.
    mid, hg_addr, timed = c.mid, addr.hg_addr, _kinako_bench.timed_forward
    timed(mid, hg_addr, "echo", wire, WARMUP)
    for _ in range(WARMUP):
        f(ARG)
    cpp, py = [], []
    for i in range(iters):
        if i % 2 == 0:
            cpp.extend(timed(mid, hg_addr, "echo", wire, 1))
            py.append(time_py_call(f))
        else:
            py.append(time_py_call(f))
            cpp.extend(timed(mid, hg_addr, "echo", wire, 1))
    addr.shutdown()
    del f, addr
    c.finalize()
    return cpp, py, len(wire)


def interleaved_handler(engine_bench, client_proto, address, iters, wire):
    """C++ client alternating the C++ and the Python handler of one Python server."""
    cmd = [engine_bench, "--echo-pair", client_proto, address, "echo_native", "echo_py", str(iters), wire.hex()]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=600).stdout
    m = re.search(r"a_median_us=([0-9.]+) .* b_median_us=([0-9.]+) diff_median_us=([-0-9.]+)", out)
    if not m:
        raise RuntimeError(f"unexpected kinako-bench-engine output: {out!r}")
    return float(m.group(1)), float(m.group(2)), float(m.group(3))


def print_added(name, op, cpp_median, py_median, pair_diff_median, request_bytes, iters):
    print(f"python-echo protocol={name} op={op} median_pair_diff_us={pair_diff_median:+.2f} "
          f"median_diff_us={py_median - cpp_median:+.2f} py_median_us={py_median:.2f} "
          f"cpp_median_us={cpp_median:.2f} request_bytes={request_bytes} n={iters}")
    sys.stdout.flush()


def run_interleaved(name, listen, client_proto, workdir, engine_bench, iters):
    proc, address = start_server("cpp", listen, workdir, engine_bench)
    try:
        cpp, py, nbytes = interleaved_client(client_proto, address, iters)
        proc.wait(timeout=30)
    finally:
        stop(proc)
    diffs = [p - c for p, c in zip(py, cpp)]
    print_added(name, "client_added_us", statistics.median(cpp), statistics.median(py),
                statistics.median(diffs), nbytes, iters)

    proc, address = start_server("py", listen, workdir, engine_bench)
    try:
        wire = client_wire_payload(client_proto)
        cpp_med, py_med, diff_med = interleaved_handler(engine_bench, client_proto, address, iters, wire)
        shutdown_server(client_proto, address)
        proc.wait(timeout=30)
    finally:
        stop(proc)
    print_added(name, "handler_added_us", cpp_med, py_med, diff_med, len(wire), iters)


# ---- separate runs: the four pairings, for context

def py_echo(client_proto, address, iters):
    from mochi.margo import Engine, client
    c = Engine(client_proto, client)
    addr = c.lookup(address)
    f = c.register("echo").on(addr)
    for _ in range(WARMUP):
        f(ARG)
    times = [time_py_call(f) for _ in range(iters)]
    addr.shutdown()
    del f, addr
    c.finalize()
    return statistics.median(times)


def cpp_echo(engine_bench, client_proto, address, iters, payload=None):
    cmd = [engine_bench, "--echo", client_proto, address, str(iters)]
    if payload is not None:
        cmd.append(payload.hex())
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=600).stdout
    m = re.search(r"median_us=([0-9.]+)", out)
    if not m:
        raise RuntimeError(f"unexpected kinako-bench-engine output: {out!r}")
    return float(m.group(1))


def client_wire_payload(client_proto):
    """What a Python caller sends for f(ARG), from a throwaway client engine."""
    from mochi.margo import Engine, client
    c = Engine(client_proto, client)
    try:
        return wire_payload(c)
    finally:
        c.finalize()


def shutdown_server(client_proto, address):
    from mochi.margo import Engine, client
    c = Engine(client_proto, client)
    c.lookup(address).shutdown()
    c.finalize()


def run_separate(name, listen, client_proto, workdir, engine_bench, iters):
    figures = {}
    for server_kind in ("cpp", "py"):
        for client_kind in ("cpp", "py"):
            proc, address = start_server(server_kind, listen, workdir, engine_bench)
            try:
                if client_kind == "py":
                    figures[(client_kind, server_kind)] = py_echo(client_proto, address, iters)
                else:
                    # A Python handler needs the pickle; the C++ server gets 8 raw bytes.
                    payload = client_wire_payload(client_proto) if server_kind == "py" else None
                    figures[(client_kind, server_kind)] = cpp_echo(engine_bench, client_proto, address, iters,
                                                                    payload)
                    shutdown_server(client_proto, address)
                proc.wait(timeout=30)
            finally:
                stop(proc)
    base = figures[("cpp", "cpp")]
    for (client_kind, server_kind), us in figures.items():
        print(f"python-echo protocol={name} client={client_kind} server={server_kind} "
              f"op=echo_8B_separate_runs median_us={us:.2f} added_us={us - base:+.2f} n={iters}")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=20000)
    ap.add_argument("--engine-bench", default=None)
    ap.add_argument("--no-separate", action="store_true", help="only the interleaved (headline) figures")
    args = ap.parse_args()
    engine_bench = find_engine_bench(args.engine_bench)
    if not engine_bench or not os.path.exists(engine_bench):
        sys.exit("kinako-bench-engine not found: build first or pass --engine-bench")
    # _kinako_bench is built next to kinako-bench-engine. A build dir made before it existed
    # still gives the separate-run pairings.
    sys.path.append(os.path.dirname(os.path.abspath(engine_bench)))
    try:
        import _kinako_bench  # noqa: F401
        interleaved = True
    except ImportError as e:
        print(f"python-echo: _kinako_bench not found next to {engine_bench} ({e}); build the _kinako_bench "
              "target for the interleaved figures. Separate runs only.", file=sys.stderr)
        interleaved = False
    with tempfile.TemporaryDirectory() as workdir:
        if interleaved:
            for name, (listen, client_proto) in PROTOCOLS.items():
                run_interleaved(name, listen, client_proto, workdir, engine_bench, args.iters)
        if args.no_separate and not interleaved:
            sys.exit("nothing to run: --no-separate without _kinako_bench")
        if not args.no_separate:
            for name, (listen, client_proto) in PROTOCOLS.items():
                run_separate(name, listen, client_proto, workdir, engine_bench, args.iters)


if __name__ == "__main__":
    main()

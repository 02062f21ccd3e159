"""Python echo RPC round trip (two processes, na+sm and tcp): what the Python layer adds on top
of the C++ engine figures printed by kinako-bench-engine in the same run."""
import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("FI_TCP_IFACE", "lo")
SERVER = r"""
import sys
from mochi.margo import Engine
e = Engine(sys.argv[1])
e.enable_remote_shutdown()
e.register("echo", lambda h, x: h.respond(x))
open(sys.argv[2], "w").write(str(e.address))
e.wait_for_finalize()
"""


def bench(protocol, iters=5000):
    from mochi.margo import Engine, client
    with tempfile.TemporaryDirectory() as d:
        addr_file = os.path.join(d, "addr")
        proc = subprocess.Popen([sys.executable, "-c", SERVER, protocol, addr_file])
        deadline = time.monotonic() + 30
        while not (os.path.exists(addr_file) and os.path.getsize(addr_file)) and time.monotonic() < deadline:
            time.sleep(0.05)
        c = Engine(protocol, client)
        addr = c.lookup(open(addr_file).read())
        f = c.register("echo").on(addr)
        for _ in range(500):
            f(b"x" * 8)
        times = []
        for _ in range(iters):
            t0 = time.perf_counter()
            f(b"x" * 8)
            times.append((time.perf_counter() - t0) * 1e6)
        addr.shutdown()
        proc.wait(timeout=30)
        c.finalize()
        print(f"python protocol={protocol} op=echo_8B median_us={statistics.median(times):.2f} n={iters}")


if __name__ == "__main__":
    for p in ("na+sm", "ofi+tcp://127.0.0.1:0"):
        bench(p)

"""RPCs and bulk transfers with the server in another process."""

import os
import socket
import threading
import time

import numpy as np
import pytest

from mochi.margo import Engine, client
from mochi.margo.bulk import pull, push, read_only, read_write
from mochi.margo.core import MargoException

from conftest import SM, TCP, wait_until

T = 10000

pytestmark = pytest.mark.timeout(90, method="thread")


def connect(engine, server, name, provider_id=0):
    return engine.register(name).on(engine.lookup(server.address), provider_id)


def test_round_trip(shared_server, client_engine):
    echo = connect(client_engine, shared_server, "echo")
    assert echo(1, "a", k=[1, 2], timeout=T) == {"args": [1, "a"], "kwargs": {"k": [1, 2]}}
    assert connect(client_engine, shared_server, "sum")(1, 2, 3, 4, timeout=T) == 10
    assert connect(client_engine, shared_server, "getpid")(timeout=T) == shared_server.proc.pid
    big = os.urandom(3 << 20)
    assert echo(big, timeout=30000)["args"][0] == big


def test_server_engine_as_client(shared_server, engine):
    assert connect(engine, shared_server, "sum")(5, 6, timeout=T) == 11


def test_provider_ids(shared_server, client_engine):
    assert connect(client_engine, shared_server, "whoami", 1)(timeout=T) == "one"
    assert connect(client_engine, shared_server, "whoami", 2)(timeout=T) == "two"


def test_non_blocking_forward(shared_server, client_engine):
    f = connect(client_engine, shared_server, "sum")
    reqs = [f(i, 1, blocking=False, timeout=T) for i in range(20)]
    assert [r.wait() for r in reqs] == [i + 1 for i in range(20)]
    with pytest.raises(MargoException, match="already waited"):
        reqs[0].wait()


@pytest.mark.parametrize("progress_thread", [False, True])
def test_concurrent_rpcs_from_8_threads(shared_server, progress_thread):
    c = Engine(TCP, client, use_progress_thread=progress_thread)
    try:
        f = connect(c, shared_server, "sum")
        n_threads, per_thread = 8, 125
        results = [None] * (n_threads * per_thread)
        errors = []

        def worker(k):
            try:
                for j in range(per_thread):
                    i = k * per_thread + j
                    results[i] = f(i, 1000, timeout=30000)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(repr(exc))

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(80)
        assert not any(t.is_alive() for t in threads)
        assert errors == []
        assert results == [i + 1000 for i in range(n_threads * per_thread)]
    finally:
        c.finalize()


def test_timeout_then_continue(shared_server, client_engine):
    silent = connect(client_engine, shared_server, "never_respond")
    ok = connect(client_engine, shared_server, "sum")
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        silent(timeout=200)
    assert time.monotonic() - t0 < 5
    assert ok(1, 1, timeout=T) == 2
    with pytest.raises(TimeoutError):
        silent(blocking=False, timeout=200).wait()
    assert [ok(i, timeout=T) for i in range(10)] == list(range(10))


def test_handler_exception_no_response(shared_server, client_engine):
    with pytest.raises(TimeoutError):
        connect(client_engine, shared_server, "boom")(timeout=300)
    assert wait_until(lambda: "[Py-Margo] ERROR" in shared_server.stderr(), timeout=10)
    assert "boom on purpose" in shared_server.stderr()
    assert connect(client_engine, shared_server, "sum")(2, 2, timeout=T) == 4


def test_bulk_across_processes(shared_server, client_engine):
    data = bytes(range(256)) * 1024
    b = client_engine.create_bulk(data, read_only)
    assert connect(client_engine, shared_server, "bulk_pull")(b, len(data), timeout=T) == data

    target = bytes(32)
    tb = client_engine.create_bulk(target, read_write)
    push = connect(client_engine, shared_server, "bulk_push")
    assert push(tb, b"WXYZ", 8, timeout=T) == 4
    assert target == b"\x00" * 8 + b"WXYZ" + b"\x00" * 20

    arr = np.zeros(64, dtype=np.int32)
    ab = client_engine.create_bulk(arr, read_write)
    values = np.arange(10, dtype=np.int32)
    assert push(ab, values.tobytes(), 4 * 4, timeout=T) == 40
    assert list(arr[4:14]) == list(range(10))
    assert not arr[:4].any() and not arr[14:].any()


def test_killed_server_mid_request(make_server, client_engine):
    server = make_server()
    f = connect(client_engine, server, "hang")

    def killer():
        if wait_until(lambda: server.marker("hang").exists(), timeout=20):
            server.kill()

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    t0 = time.monotonic()
    with pytest.raises((MargoException, TimeoutError)):
        f(timeout=5000)
    assert time.monotonic() - t0 < 20
    t.join(20)
    assert not server.alive()
    # the client engine keeps working with another server
    other = make_server()
    assert connect(client_engine, other, "sum")(3, 4, timeout=T) == 7
    # and calls to the dead server fail rather than hang
    with pytest.raises((MargoException, TimeoutError)):
        connect(client_engine, server, "sum")(1, timeout=2000)


@pytest.mark.parametrize("protocol", [TCP, SM])
@pytest.mark.parametrize("op", [pull, push])
def test_bulk_transfer_to_a_killed_server_fails(make_server, protocol, op):
    """A transfer whose remote side was SIGKILLed raises, promptly, instead of hanging."""
    c = Engine(protocol, client)
    try:
        server = make_server(protocol=protocol)
        size = 4 << 20
        remote = connect(c, server, "expose")(size, timeout=T)
        local = bytearray(b"l" * size)
        lb = c.create_bulk(local, read_write)
        c.transfer(pull, c.lookup(server.address), remote, 0, lb, 0, size)
        assert local == b"e" * size
        server.kill()
        assert wait_until(lambda: not server.alive(), timeout=10)
        t0 = time.monotonic()
        with pytest.raises(MargoException):
            c.transfer(op, c.lookup(server.address), remote, 0, lb, 0, size)
        assert time.monotonic() - t0 < 10
        # The engine still serves other peers.
        other = make_server(protocol=protocol)
        assert connect(c, other, "sum")(3, 4, timeout=T) == 7
    finally:
        c.finalize()


def test_garbage_bytes_to_listening_port(shared_server, client_engine):
    port = shared_server.port
    payloads = [
        b"",
        b"\x00" * 16,
        b"\xff" * 4096,
        os.urandom(65536),
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    ]
    for payload in payloads:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            if payload:
                s.sendall(payload)
    # a connection left half-open while the server keeps serving
    lingering = socket.create_connection(("127.0.0.1", port), timeout=5)
    lingering.sendall(b"\x01\x02\x03")
    try:
        assert shared_server.alive()
        assert connect(client_engine, shared_server, "sum")(40, 2, timeout=T) == 42
    finally:
        lingering.close()
    time.sleep(0.05)
    assert shared_server.alive()
    fresh = Engine(TCP, client)
    try:
        assert connect(fresh, shared_server, "sum")(1, 2, timeout=T) == 3
    finally:
        fresh.finalize()


@pytest.mark.parametrize("protocol", [TCP, SM])
def test_remote_shutdown(make_server, protocol):
    server = make_server(protocol=protocol)
    c = Engine(SM if protocol == SM else TCP, client)
    try:
        addr = c.lookup(server.address)
        assert c.register("sum").on(addr)(1, 2, timeout=T) == 3
        addr.shutdown()
        assert server.wait(timeout=30) == 0, server.stderr()
        out = server.stdout()
        assert "FINALIZED" in out
        lines = out.split()
        assert lines.index("PREFINALIZE") < lines.index("FINALIZE") < lines.index("FINALIZED")
    finally:
        c.finalize()

"""Cross-process tests: the server runs in tests/yokan/servers/yokan_server.py."""

import json
import threading

import pytest

from conftest import TCP, SM
from mochi.yokan.client import Client
from mochi.yokan.mode import Mode
from mochi.yokan.exception import Exception as YokanException

MAP = '{"database":{"type":"map"}}'


def connect(engine, server, provider_id=42):
    return Client(engine).make_database_handle(engine.lookup(server.address), provider_id)


@pytest.mark.parametrize("protocol", [TCP, SM])
def test_basic_remote(make_server, client_engine_factory, protocol):
    server = make_server({42: MAP}, protocol=protocol)
    e = client_engine_factory(protocol)
    db = connect(e, server)
    db.put_multi([(f"k{i}", f"v{i}" * 100) for i in range(100)])
    assert db.count() == 100
    big = b"x" * (1 << 20)  # beyond the eager limit: moved by RMA
    db.put("big", big)
    buf = bytearray(len(big))
    assert db.get("big", buf) == len(big) and buf == big
    pairs = [(bytearray(8), bytearray(512)) for _ in range(10)]
    assert len(db.list_keyvals(pairs, from_key="k0", filter="k")) == 10


def test_producer_consumer(make_server, client_engine_factory):
    """WAIT|CONSUME is a blocking queue pop: every produced item is consumed exactly once."""
    server = make_server({42: MAP})
    e = client_engine_factory()
    db = connect(e, server)
    n_items, n_consumers = 60, 3
    consumed, errors = [], []
    lock = threading.Lock()

    def consumer(c):
        try:
            for i in range(c, n_items, n_consumers):
                buf = bytearray(32)
                n = db.get(f"item{i}", buf, mode=Mode.WAIT | Mode.CONSUME, timeout_ms=30000)
                with lock:
                    consumed.append(bytes(buf[:n]))
        except Exception as ex:  # noqa: BLE001
            errors.append(ex)

    threads = [threading.Thread(target=consumer, args=(c,)) for c in range(n_consumers)]
    for t in threads:
        t.start()
    for i in range(n_items):
        db.put(f"item{i}", f"payload{i}", mode=Mode.NOTIFY)
    for t in threads:
        t.join(60)
    assert not errors
    assert sorted(consumed) == sorted(f"payload{i}".encode() for i in range(n_items))
    assert db.count() == 0


def test_notify_wakes_all_waiters(make_server, client_engine_factory):
    server = make_server({42: MAP})
    e = client_engine_factory()
    db = connect(e, server)
    results, errors = [], []

    def waiter():
        try:
            results.append(db.length("flag", mode=Mode.WAIT, timeout_ms=30000))
        except Exception as ex:  # noqa: BLE001
            errors.append(ex)

    threads = [threading.Thread(target=waiter) for _ in range(8)]
    for t in threads:
        t.start()
    db.put("flag", "up!", mode=Mode.NOTIFY)
    for t in threads:
        t.join(60)
    assert not errors and results == [3] * 8


def test_put_without_notify_does_not_wake(make_server, client_engine_factory):
    server = make_server({42: MAP})
    e = client_engine_factory()
    db = connect(e, server)
    got = []
    t = threading.Thread(target=lambda: got.append(
        db.exists("quiet", mode=Mode.WAIT, timeout_ms=30000)))
    t.start()
    try:
        db.put("quiet", "x")  # no NOTIFY: the waiter may only wake if it had not parked yet
        db.put("other", "y", mode=Mode.NOTIFY)
        t.join(0.3)
        if t.is_alive():
            db.put("quiet", "x", mode=Mode.NOTIFY)
    finally:
        t.join(30)
    assert got == [True]


def test_many_waiters(make_server, client_engine_factory):
    """1000 parked WAIT requests do not exhaust the server: it keeps serving, then all wake.
    Bounded: if the client cannot even park them in 15 s the test fails (it does not hang)."""
    import time

    server = make_server({42: MAP})
    e = client_engine_factory()
    db = connect(e, server)
    n = 1000
    done, errors = [], []
    threads = []
    old = threading.stack_size(256 * 1024)
    deadline = time.monotonic() + 15
    try:
        for i in range(n):
            if time.monotonic() > deadline:
                break
            t = threading.Thread(target=_wait_one, args=(db, i, done, errors))
            t.start()
            threads.append(t)
    finally:
        threading.stack_size(old)
    started = len(threads)
    try:
        # while they are parked the server still answers
        db.put("probe", "p")
        assert db.exists("probe")
    finally:
        db.put_multi([(f"w{i}", f"{i}") for i in range(n)], mode=Mode.NOTIFY)
        for t in threads:
            t.join(60)
    assert started == n, f"only {started} of {n} waiting threads could start in 15 s"
    assert not errors and len(done) == n
    assert server.alive()


def _wait_one(db, i, done, errors):
    try:
        buf = bytearray(8)
        db.get(f"w{i}", buf, mode=Mode.WAIT, timeout_ms=30000)
        done.append(i)
    except Exception as ex:  # noqa: BLE001
        errors.append(ex)


def test_timeout_on_unsatisfied_wait(make_server, client_engine_factory):
    server = make_server({42: MAP})
    e = client_engine_factory()
    db = connect(e, server)
    with pytest.raises(YokanException) as ei:
        db.get("nobody", bytearray(8), mode=Mode.WAIT, timeout_ms=200)
    assert ei.value.code == 21
    with pytest.raises(YokanException) as ei:
        db.exists("nobody", mode=Mode.WAIT, timeout_ms=100.0)
    assert ei.value.code == 21
    db.put("still", "serving")
    assert db.length("still") == 7


def test_bad_input_server_keeps_serving(make_server, client_engine_factory, tmp_path):
    import numpy as np

    server = make_server({42: MAP, 43: '{"database":{"type":"unordered_map"}}',
                          44: json.dumps({"database": {"type": "log", "config": {"path": str(tmp_path / "log")}}})})
    e = client_engine_factory()
    db = connect(e, server)
    cases = [
        (lambda: db.put("", "v"), 3),
        (lambda: db.get("", bytearray(2)), 3),
        (lambda: db.put("k", np.zeros((3, 3))[:, 0]), 30),
        (lambda: db.get("k", b"readonly"), 31),
        (lambda: db.list_keys([bytearray(4)], filter="return ((", mode=Mode.LUA_FILTER), 9),
        (lambda: db.put("k", "v", mode=Mode.LUA_FILTER | Mode.LIB_FILTER), 29),
        (lambda: connect(e, server, 43).list_keys([bytearray(4)]), 13),
        (lambda: connect(e, server, 44).put("k", "v"), 13),
        (lambda: connect(e, server, 77), 4),
    ]
    for call, code in cases:
        with pytest.raises(YokanException) as ei:
            call()
        assert ei.value.code == code, repr(ei.value)
        assert str(ei.value)
        db.put("alive", "yes")
        assert db.exists("alive")
    assert server.alive()


def test_bad_server_configs(make_server):
    for cfg in ('{"database":{"type":"nope"}}', '{"database":', ""):
        with pytest.raises(RuntimeError) as ei:
            make_server({42: cfg})
        assert "Exception" in str(ei.value)

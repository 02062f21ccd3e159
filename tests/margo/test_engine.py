"""Engine construction, configuration, addresses and lifecycle."""

import gc
import json
import socket
import time
import weakref

import pytest

import _pymargo
import mochi.margo
from mochi.margo import Engine, client, server
from mochi.margo.core import MargoException
from mochi.margo.typing import hg_addr_t, margo_instance_id

from conftest import SM, TCP


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_mode_constants():
    assert int(mochi.margo.server) == 1
    assert int(mochi.margo.client) == 0
    assert mochi.margo.server == _pymargo.mode.server
    assert mochi.margo.client == _pymargo.mode.client


@pytest.mark.parametrize("protocol", [SM, "tcp", "ofi+tcp", "ofi+tcp;ofi_rxm", TCP])
@pytest.mark.parametrize("mode", [server, client])
def test_engine_protocols(protocol, mode):
    e = Engine(protocol, mode)
    try:
        assert e.listening == (mode == server)
        s = str(e.addr())
        assert "://" in s
        if protocol.startswith("ofi+tcp://127.0.0.1"):
            assert "127.0.0.1" in s
        assert str(e.address) == s
        assert isinstance(e.mid, margo_instance_id)
        assert e.get_internal_mid() is e.mid
    finally:
        e.finalize()


def test_engine_full_address_with_port():
    port = free_port()
    e = Engine(f"ofi+tcp://127.0.0.1:{port}", server)
    try:
        s = str(e.addr())
        assert s.endswith(f"127.0.0.1:{port}"), s
        assert e.lookup(s) == e.addr()
    finally:
        e.finalize()


def test_engine_bad_protocol_raises_runtime_error():
    with pytest.raises(RuntimeError):
        Engine("abc")


def test_engine_bad_json_config_raises_runtime_error():
    with pytest.raises(RuntimeError):
        Engine(TCP, config="{this is not json")


def test_engine_config_has_argobots():
    with Engine(TCP) as e:
        cfg = e.config
        assert isinstance(cfg, dict)
        assert "argobots" in cfg
        assert "pools" in cfg["argobots"] and "xstreams" in cfg["argobots"]
        names = [p["name"] for p in cfg["argobots"]["pools"]]
        assert "__primary__" in names
        json.dumps(cfg)  # a plain JSON document


def test_engine_config_dict():
    cfg = {"use_progress_thread": True, "rpc_thread_count": 2}
    with Engine(TCP, config=cfg) as e:
        c = e.config
        pools = [p["name"] for p in c["argobots"]["pools"]]
        xstreams = [x["name"] for x in c["argobots"]["xstreams"]]
        assert pools == ["__primary__", "__pool_1__", "__pool_2__"]
        assert xstreams == ["__primary__", "__xstream_1__", "__xstream_2__", "__xstream_3__"]
        assert c["progress_pool"] == "__pool_1__"
        assert c["rpc_pool"] == "__pool_2__"


def test_engine_config_str_and_progress_thread():
    cfg = json.dumps({"use_progress_thread": True})
    with Engine(TCP, config=cfg) as e:
        assert len(e.config["argobots"]["xstreams"]) == 2
    # keyword form gives the same topology
    with Engine(TCP, use_progress_thread=True) as e:
        assert len(e.config["argobots"]["xstreams"]) == 2
    with Engine(TCP) as e:
        assert len(e.config["argobots"]["xstreams"]) == 1


def test_config_wrong_type():
    with pytest.raises(TypeError):
        Engine(TCP, config=42)


def test_address_round_trip_and_equality():
    a = Engine(TCP)
    b = Engine(TCP, client)
    try:
        s = str(a.addr())
        looked_up = a.lookup(s)
        assert looked_up == a.addr()
        assert str(looked_up) == s
        assert isinstance(looked_up.hg_addr, hg_addr_t)
        assert looked_up.get_internal_hg_addr() is looked_up.hg_addr
        copy = looked_up.copy()
        assert copy == looked_up and str(copy) == s
        # from another engine
        remote = b.lookup(s)
        assert str(remote) == s
        assert remote == b.lookup(s)
        assert remote != b.addr()
        assert not (remote == "not an address")
    finally:
        b.finalize()
        a.finalize()


def test_sm_address_round_trip():
    with Engine(SM) as e:
        s = str(e.addr())
        assert e.lookup(s) == e.addr()
        assert str(e.lookup(s)) == s


def test_lookup_malformed_raises():
    with Engine(TCP) as e:
        with pytest.raises(MargoException):
            e.lookup("definitely not an address")


def test_many_engines_in_one_process():
    engines = [Engine(TCP) for _ in range(6)] + [Engine(SM) for _ in range(2)]
    try:
        for i, e in enumerate(engines):
            e.register("ident", lambda h, i=i: h.respond(i))
        tcp = engines[:6]
        for i, e in enumerate(tcp):
            target = tcp[(i + 1) % len(tcp)]
            f = e.register("ident").on(e.lookup(str(target.addr())))
            assert f(timeout=10000) == (i + 1) % len(tcp)
        for e in engines[6:]:
            f = e.register("ident").on(e.addr())
            assert f(timeout=10000) == engines.index(e)
        assert len({str(e.addr()) for e in engines}) == len(engines)
    finally:
        for e in engines:
            e.finalize()
    for _ in range(10):
        e = Engine(TCP)
        e.finalize()


@pytest.mark.parametrize("protocol", [SM, TCP])
@pytest.mark.parametrize("side", ["callee", "caller"])
def test_calls_racing_a_finalize_return_or_raise(protocol, side):
    """Threads keep calling while one side is finalized (a client's threads while its server
    goes, or an engine shut down under its own callers): every call returns or raises a
    Mochi error, the threads end, and the process goes on."""
    import threading

    caller, callee = Engine(protocol), Engine(protocol)
    callee.register("echo", lambda h, data: h.respond(data))
    echo = caller.register("echo").on(caller.lookup(str(callee.addr())))
    assert echo(b"x", timeout=5000) == b"x"
    stop = threading.Event()
    answered, errors, unexpected = [], [], []

    def call_in_a_loop():
        big = b"b" * 65536  # large enough to move by RMA
        i = 0
        while not stop.is_set():
            try:
                assert echo(big if i % 4 == 0 else b"x", timeout=200) in (big, b"x")
                answered.append(i)
            except (MargoException, TimeoutError) as e:
                errors.append(e)
            except Exception as e:  # noqa: BLE001 (anything else is the failure we look for)
                unexpected.append(e)
            i += 1

    threads = [threading.Thread(target=call_in_a_loop) for _ in range(2)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while len(answered) < 20 and time.monotonic() < deadline:
        time.sleep(0.001)
    assert len(answered) >= 20
    (caller if side == "caller" else callee).finalize()
    time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(10)
        assert not t.is_alive(), "a call outlived the finalize"
    assert not unexpected, unexpected
    with pytest.raises((MargoException, TimeoutError)):
        echo(b"x", timeout=200)
    caller.finalize()
    callee.finalize()


def test_finalize_twice_is_harmless():
    e = Engine(TCP)
    e.finalize()
    e.finalize()
    assert _pymargo.is_finalized(e.mid)


def test_engine_finalized_by_garbage_collection():
    e = Engine(TCP)
    e.register("x", lambda h: h.respond(1))
    mid = e.mid
    ref = weakref.ref(e)
    del e
    gc.collect()
    assert ref() is None
    assert _pymargo.is_finalized(mid)


def test_context_manager():
    with Engine(TCP) as e:
        mid = e.mid
        assert not _pymargo.is_finalized(mid)
    assert _pymargo.is_finalized(mid)
    # finalizing inside the block is allowed (the yokan examples do it)
    with Engine(TCP) as e:
        e.finalize()
    assert _pymargo.is_finalized(e.mid)


def test_from_margo_instance_id_does_not_own():
    e = Engine(TCP)
    try:
        view = Engine.from_margo_instance_id(e.mid)
        assert view.mid is e.mid
        assert view.addr() == e.addr()
        with view:
            pass
        del view
        gc.collect()
        assert not _pymargo.is_finalized(e.mid)
        f = e.register("ping", lambda h: h.respond("pong")).on(e.addr())
        assert f(timeout=10000) == "pong"
    finally:
        e.finalize()


def test_sleep_is_in_milliseconds():
    with Engine(TCP) as e:
        t0 = time.monotonic()
        e.sleep(100)
        elapsed = time.monotonic() - t0
        assert 0.08 <= elapsed < 5.0


def test_finalize_callbacks_order():
    events = []
    e = Engine(TCP)
    e.on_prefinalize(lambda: events.append("prefinalize"))
    e.on_finalize(lambda: events.append("finalize"))
    assert events == []
    e.finalize()
    assert events == ["prefinalize", "finalize"]


def test_wait_for_finalize_returns_after_local_finalize():
    import threading

    e = Engine(TCP)
    done = threading.Event()

    def waiter():
        e.wait_for_finalize()
        done.set()

    t = threading.Thread(target=waiter, daemon=True)
    t.start()
    assert not done.wait(0.1)
    e.finalize()
    assert done.wait(10)
    t.join(10)


def test_set_remove_accepts_address():
    a = Engine(TCP)
    b = Engine(TCP, client)
    try:
        addr = b.lookup(str(a.addr()))
        b.set_remove(addr)
        # the address may be looked up and used again afterwards
        a.register("ping", lambda h: h.respond("pong"))
        f = b.register("ping").on(b.lookup(str(a.addr())))
        assert f(timeout=10000) == "pong"
    finally:
        b.finalize()
        a.finalize()

"""RPCs inside one process: registration, naming, providers, responses, requests."""

import sys
import threading
import time

import pytest

import mochi.margo
from mochi.margo import Engine, client, on_finalize, on_prefinalize, provider, remote
from mochi.margo.core import (CallableRemoteFunction, ForwardRequest, MargoException,
                              RemoteFunction, Request)

from conftest import TCP

T = 10000  # ms: generous bound for calls that are expected to succeed


# ------------------------------------------------------------------ decorated providers

class PlainProvider:

    def __init__(self):
        self.prefinalized = False
        self.finalized = False

    @remote(rpc_name="my_hello_world")
    def hello_world(self, handle):
        handle.respond("Hello World")

    @remote
    def hello_someone(self, handle, firstname, lastname):
        handle.respond(f"Hello {firstname} {lastname}")

    @on_prefinalize
    def before(self):
        self.prefinalized = True

    @on_finalize
    def after(self):
        self.finalized = True

    def not_an_rpc(self, handle):  # pragma: no cover - must not be registered
        handle.respond("no")


@provider(service_name="dog")
class DogProvider:

    @remote()
    def bark(self, handle):
        handle.respond("Woof")

    @remote(disable_response=True)
    def sit(self, handle):
        DogProvider.sat.set()


DogProvider.sat = threading.Event()


@remote(rpc_name="global_hello")
def global_hello_world(handle):
    handle.respond("Global Hello World")


@remote(service_name="cat")
def meow(handle):
    handle.respond("Meow")


# ------------------------------------------------------------------ basic round trips

def test_rpc_round_trip_args_kwargs(engine):
    seen = {}

    def echo(handle, *args, **kwargs):
        seen["handle"] = handle
        seen["id"] = handle.get_id()
        seen["provider_id"] = handle.get_provider_id()
        seen["addr"] = str(handle.address)
        handle.respond({"args": args, "kwargs": kwargs})

    rf = engine.register("echo", echo)
    assert isinstance(rf, RemoteFunction)
    assert rf.engine is engine
    f = rf.on(engine.addr())
    assert isinstance(f, CallableRemoteFunction)
    assert f.remote_function is rf and f.engine is engine and f.provider_id == 0
    out = f(1, "two", [3.0], b"\x00four", x={"y": (5, 6)}, z=None, timeout=T)
    assert out == {"args": (1, "two", [3.0], b"\x00four"),
                   "kwargs": {"x": {"y": (5, 6)}, "z": None}}
    assert seen["id"] == rf.rpc_id
    assert seen["provider_id"] == 0
    assert seen["addr"] == str(engine.addr())
    assert isinstance(seen["handle"], mochi.margo.Handle)
    assert mochi.margo.MargoHandle is mochi.margo.Handle


def test_rpc_no_args_and_none_response(engine):
    engine.register("nothing", lambda h: h.respond())
    assert engine.register("nothing").on(engine.addr())(timeout=T) is None


def test_rpc_large_payloads(engine):
    engine.register("reverse", lambda h, data: h.respond(data[::-1]))
    f = engine.register("reverse").on(engine.addr())
    for size in (0, 1, 4096, 1 << 20, 8 << 20):
        data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
        assert f(data, timeout=30000) == data[::-1]


def test_rpc_to_self_over_string_address(engine):
    engine.register("sum", lambda h, *n: h.respond(sum(n)))
    f = engine.register("sum").on(str(engine.addr()))
    assert f(1, 2, 3, timeout=T) == 6


def test_register_client_side_without_handler(engine):
    engine.register("sum", lambda h, a, b: h.respond(a + b))
    c = Engine(TCP, client)
    try:
        f = c.register("sum").on(c.lookup(str(engine.addr())))
        assert f(2, 40, timeout=T) == 42
        assert f(a=1, b=2, timeout=T) == 3
    finally:
        c.finalize()


def test_register_twice_replaces_handler(engine):
    engine.register("v", lambda h: h.respond(1))
    engine.register("v", lambda h: h.respond(2))
    assert engine.register("v").on(engine.addr())(timeout=T) == 2


def test_registered_and_deregister(engine):
    rf = engine.register("thing", lambda h: h.respond("ok"), provider_id=7)
    found = engine.registered("thing", 7)
    assert isinstance(found, RemoteFunction)
    assert found.rpc_id == rf.rpc_id
    assert engine.registered("thing", 8) is None
    assert engine.registered("no_such_rpc") is None
    engine.register("plain", lambda h: h.respond("ok"))
    assert engine.registered("plain") is not None
    rf.deregister()
    assert engine.registered("thing", 7) is None


def test_register_name_from_qualname(engine):
    class Receiver:
        def hello_world(self, handle):
            handle.respond("hi")

    r = Receiver()
    engine.register(func=r.hello_world)
    assert engine.registered("test_register_name_from_qualname.<locals>.Receiver.hello_world") is not None


def test_register_name_from_remote_info(engine):
    engine.register(func=global_hello_world)
    assert engine.registered("global_hello") is not None
    f = engine.register("global_hello").on(engine.addr())
    assert f(timeout=T) == "Global Hello World"


def test_register_requires_name_or_func(engine):
    with pytest.raises(ValueError):
        engine.register()


# ------------------------------------------------------------------ providers

def test_provider_ids_same_name_different_answers(engine):
    engine.register("whoami", lambda h: h.respond("one"), provider_id=1)
    engine.register("whoami", lambda h: h.respond("two"), provider_id=2)
    rf = engine.register("whoami")
    assert rf.on(engine.addr(), 1)(timeout=T) == "one"
    assert rf.on(engine.addr(), provider_id=2)(timeout=T) == "two"
    assert rf.on(engine.addr(), 1).provider_id == 1


def test_unknown_provider_id_fails(engine):
    engine.register("whoami", lambda h: h.respond("one"), provider_id=1)
    f = engine.register("whoami").on(engine.addr(), 99)
    with pytest.raises((MargoException, TimeoutError)):
        f(timeout=1000)


def test_register_provider_object(engine):
    p = PlainProvider()
    rpcs = engine.register_provider(p, provider_id=42)
    assert set(rpcs) == {"my_hello_world", "hello_someone"}
    assert all(isinstance(r, RemoteFunction) for r in rpcs.values())
    rpcs2 = engine.register_provider(p, service_name="abc", provider_id=43)
    assert set(rpcs2) == {"abc_my_hello_world", "abc_hello_someone"}
    addr = engine.addr()
    assert engine.register("my_hello_world").on(addr, 42)(timeout=T) == "Hello World"
    assert engine.register("hello_someone").on(addr, 42)("Ada", lastname="Lovelace",
                                                           timeout=T) == "Hello Ada Lovelace"
    assert engine.register("abc_hello_someone").on(addr, 43)("A", "B", timeout=T) == "Hello A B"


def test_register_provider_callbacks():
    e = Engine(TCP)
    p = PlainProvider()
    e.register_provider(p, provider_id=1)
    assert not p.prefinalized and not p.finalized
    e.finalize()
    assert p.prefinalized and p.finalized


def test_register_provider_decorated_class(engine):
    DogProvider.sat.clear()
    rpcs = engine.register_provider(DogProvider(), provider_id=44)
    assert set(rpcs) == {"dog_bark", "dog_sit"}
    assert rpcs["dog_sit"].disabled_response()
    assert not rpcs["dog_bark"].disabled_response()
    assert engine.register("dog_bark").on(engine.addr(), 44)(timeout=T) == "Woof"
    # the argument overrides the class decorator
    rpcs = engine.register_provider(DogProvider(), provider_id=45, service_name="wolf")
    assert set(rpcs) == {"wolf_bark", "wolf_sit"}


def test_register_provider_module(engine):
    rpcs = engine.register_provider(sys.modules[__name__], provider_id=46)
    assert "global_hello" in rpcs
    assert "cat_meow" in rpcs  # service name from the function decorator
    assert engine.register("cat_meow").on(engine.addr(), 46)(timeout=T) == "Meow"


def test_remote_decorator_forms():
    @remote
    def a(handle):
        pass

    @remote()
    def b(handle):
        pass

    @remote("named")
    def c(handle):
        pass

    @remote(rpc_name="x", disable_response=True, service_name="svc")
    def d(handle):
        pass

    assert a._pymargo_info["rpc_name"] == "a"
    assert b._pymargo_info["rpc_name"] == "b"
    assert c._pymargo_info["rpc_name"] == "named"
    assert d._pymargo_info == {"rpc_name": "x", "disable_response": True, "service_name": "svc"}

    @provider
    class P:
        pass

    assert P._pymargo_provider_info["service_name"] is None
    assert DogProvider._pymargo_provider_info["service_name"] == "dog"


# ------------------------------------------------------------------ responses

def test_disable_response(engine):
    got = threading.Event()
    received = []

    def notify(handle, value):
        received.append(value)
        got.set()

    rf = engine.register("notify", notify, disable_response=True)
    assert rf.disabled_response()
    client_rf = engine.register("notify", disable_response=True)
    assert client_rf.disabled_response()
    assert client_rf.on(engine.addr())(17, timeout=T) is None
    assert got.wait(10)
    assert received == [17]
    client_rf.disable_response(False)
    assert not client_rf.disabled_response()
    client_rf.disable_response()
    assert client_rf.disabled_response()


def test_respond_non_blocking(engine):
    requests = []
    waited = threading.Event()

    def handler(handle, x):
        req = handle.respond(x * 2, blocking=False)
        requests.append(req)
        req.wait()
        waited.set()

    engine.register("double", handler)
    assert engine.register("double").on(engine.addr())(21, timeout=T) == 42
    assert waited.wait(10)
    assert isinstance(requests[0], Request)


def test_forward_non_blocking(engine):
    engine.register("add", lambda h, a, b: h.respond(a + b))
    f = engine.register("add").on(engine.addr())
    req = f(3, 4, blocking=False, timeout=T)
    assert isinstance(req, ForwardRequest)
    assert req.wait() == 7
    with pytest.raises(MargoException, match="Request already waited on"):
        req.wait()
    reqs = [f(i, i, blocking=False, timeout=T) for i in range(50)]
    assert [r.wait() for r in reqs] == [2 * i for i in range(50)]
    r = f(1, 1, blocking=False, timeout=T)
    assert _wait_test(r)
    assert r.wait() == 2


@pytest.mark.parametrize("protocol", [TCP, "na+sm"])
def test_handlers_that_sleep_on_the_progress_thread_wake_up_and_overlap(protocol):
    """With the default config a server's handlers run on its progress thread. A handler that
    sleeps (engine.sleep, which releases the GIL and parks only its fiber) must wake up, and
    several such handlers sleep at the same time: before the progress loop gave the fiber
    scheduler a turn while it polled, the first sleeper never woke and its caller timed out."""
    import time

    server = Engine(protocol, mochi.margo.server)
    cl = Engine(protocol, client)
    try:
        def slow(handle, x):
            server.sleep(50)
            handle.respond(x + 1)

        server.register("slow", slow)
        f = cl.register("slow").on(cl.lookup(str(server.addr())))
        assert f(0, timeout=T) == 1
        t0 = time.monotonic()
        reqs = [f(i, blocking=False, timeout=T) for i in range(6)]
        assert [r.wait() for r in reqs] == [i + 1 for i in range(6)]
        # Six 50 ms sleeps overlap on the one handler thread: well under 6 x 50 ms.
        assert time.monotonic() - t0 < 0.25
    finally:
        cl.finalize()
        server.finalize()


def _wait_test(req, timeout=10.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if req.test():
            return True
        time.sleep(0.001)
    return False


def _remote(client_engine, server_engine, name, provider_id=0):
    return client_engine.register(name).on(client_engine.lookup(str(server_engine.addr())),
                                           provider_id)


def test_nested_handler_exception_while_outer_handler_waits(engine, capsys):
    """A handler blocked in an RPC to its own engine (GIL released) lets a second handler run
    on the same engine thread with another Python thread state; an exception escaping that
    second handler must be reported without deadlocking the thread (pybind11 re-takes the GIL
    to drop the error), and the outer handler then carries on."""
    target = engine.addr()

    def inner(handle, x):
        if x == "boom":
            raise ValueError("inner fails on purpose")
        handle.respond(x * 2)

    inner_rf = engine.register("nested_inner", inner)

    def outer(handle, x):
        f = inner_rf.on(target)
        try:
            f("boom", timeout=300)
        except TimeoutError:
            pass
        handle.respond(f(x, timeout=T))

    outer_rf = engine.register("nested_outer", outer)
    assert outer_rf.on(target)(21, timeout=T) == 42
    err = capsys.readouterr().err
    assert "inner fails on purpose" in err


def test_handler_exception_prints_and_sends_no_response(engine, client_engine, capsys):
    def bad(handle):
        raise KeyError("bad handler on purpose")

    engine.register("bad", bad)
    with pytest.raises(TimeoutError):
        _remote(client_engine, engine, "bad")(timeout=300)
    err = capsys.readouterr().err
    assert "[Py-Margo] ERROR" in err
    assert "bad handler on purpose" in err
    assert "Traceback" in err
    # the engine keeps serving
    engine.register("ok", lambda h: h.respond("ok"))
    assert _remote(client_engine, engine, "ok")(timeout=T) == "ok"


def test_handler_with_wrong_arguments(engine, client_engine, capsys):
    engine.register("two_args", lambda h, a, b: h.respond(a + b))
    f = _remote(client_engine, engine, "two_args")
    with pytest.raises(TimeoutError):
        f(1, timeout=300)
    assert "[Py-Margo] ERROR" in capsys.readouterr().err
    assert f(1, 2, timeout=T) == 3


def test_timeout_then_more_calls(engine, client_engine):
    engine.register("silent", lambda h: None)
    engine.register("ok", lambda h: h.respond("ok"))
    silent = _remote(client_engine, engine, "silent")
    ok = _remote(client_engine, engine, "ok")
    for _ in range(3):
        t0 = time.monotonic()
        with pytest.raises(TimeoutError) as info:
            silent(timeout=100)
        assert time.monotonic() - t0 < 5
        assert isinstance(info.value, MargoException)
        assert "returned 20" in str(info.value)
        assert ok(timeout=T) == "ok"
    req = silent(blocking=False, timeout=100)
    with pytest.raises(TimeoutError):
        req.wait()
    assert ok(timeout=T) == "ok"


SELF_TIMEOUT_SCRIPT = """
import sys
from mochi.margo import Engine
e = Engine("ofi+tcp://127.0.0.1:0")
e.register("silent", lambda h: None)
e.register("ok", lambda h: h.respond("ok"))
try:
    e.register("silent").on(e.addr())(timeout=200)
    print("NO-ERROR")
except TimeoutError:
    print("TIMEOUT")
print(e.register("ok").on(e.addr())(timeout=5000))
e.finalize()
"""


def test_timeout_on_rpc_to_self():
    # In a subprocess, so that a hang cannot take the whole test session down.
    import subprocess

    from conftest import subprocess_env

    try:
        out = subprocess.run([sys.executable, "-c", SELF_TIMEOUT_SCRIPT], env=subprocess_env(),
                             capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("RPC to self with timeout=200 ms still blocked after 20 s")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["TIMEOUT", "ok"]


def test_handler_calls_another_engine():
    inner = Engine(TCP)
    outer = Engine(TCP)
    try:
        inner.register("inner", lambda h, x: h.respond(x * 10))
        inner_f = outer.register("inner").on(outer.lookup(str(inner.addr())))

        def outer_handler(handle, x):
            handle.respond(inner_f(x, timeout=T) + 1)

        outer.register("outer", outer_handler)
        c = Engine(TCP, client)
        try:
            f = c.register("outer").on(c.lookup(str(outer.addr())))
            assert f(4, timeout=T) == 41
            assert [f(i, timeout=T) for i in range(5)] == [i * 10 + 1 for i in range(5)]
        finally:
            c.finalize()
    finally:
        outer.finalize()
        inner.finalize()


def test_handler_calls_its_own_engine():
    e = Engine(TCP, use_progress_thread=True, num_rpc_threads=2)
    try:
        e.register("inner", lambda h, x: h.respond(x + 1))
        inner_f = e.register("inner").on(e.addr())
        e.register("outer", lambda h, x: h.respond(inner_f(x, timeout=T) * 2))
        assert e.register("outer").on(e.addr())(1, timeout=T) == 4
    finally:
        e.finalize()


@pytest.mark.timeout(120, method="thread")
def test_concurrent_rpcs_in_process():
    e = Engine(TCP, use_progress_thread=True, num_rpc_threads=2)
    try:
        e.register("square", lambda h, x: h.respond(x * x))
        f = e.register("square").on(e.addr())
        results = {}
        errors = []

        def worker(k):
            try:
                for i in range(k * 50, k * 50 + 50):
                    results[i] = f(i, timeout=T)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors
        assert results == {i: i * i for i in range(200)}
    finally:
        e.finalize()


def test_handle_property_of_callable(engine):
    f = engine.register("x").on(engine.addr(), 3)
    assert isinstance(f.handle, mochi.margo.Handle)

"""Listing filters (reference 2.6, 2.9): LUA_FILTER (with and without FILTER_VALUE) and
LIB_FILTER with the sample library (tests/cpp/yokan/sample_filter.cpp), over every sorted
backend; bad filters give YOKAN_ERR_INVALID_FILTER (9) and the server keeps serving."""

import os
import pathlib
import threading

import pytest

from conftest import ROOT, SORTED_KV, SORTED_DOCS, DOC_BACKENDS, require
from mochi.yokan.mode import Mode
from mochi.yokan.exception import Exception as YokanException

YOKAN_ERR_INVALID_FILTER = 9
LUA = Mode.LUA_FILTER
LIB = Mode.LIB_FILTER
FV = Mode.FILTER_VALUE


def _find_sample_filter():
    env = os.environ.get("KINAKO_YOKAN_SAMPLE_FILTER_LIB")
    if env:
        return env
    name = "libkinako-yokan-sample-filter.so"
    try:
        import pyyokan_client

        build = pathlib.Path(pyyokan_client.__file__).resolve().parent.parent.parent.parent
        cand = build / "tests" / "cpp" / "yokan" / name
        if cand.exists():
            return str(cand)
    except ImportError:
        pass
    for cand in sorted(ROOT.glob(f"build/*/tests/cpp/yokan/{name}")):
        return str(cand)
    return None


SAMPLE_LIB = _find_sample_filter()
needs_sample = pytest.mark.skipif(SAMPLE_LIB is None, reason="libkinako-yokan-sample-filter.so is not built")


def lib(name, args=""):
    return f"{SAMPLE_LIB}:{name}:{args}"


@pytest.fixture
def db(serve, backend):
    s = serve(backend)
    require(s, SORTED_KV, lambda: s.db.list_keys([bytearray(8)]), "list_keys")
    if s.backend in ("set",):
        pytest.skip("sets store no values to filter on")
    return s.db


@pytest.fixture
def filled(db):
    db.put_multi([(f"k{i:02d}", f"v{i:02d}") for i in range(20)])
    return db


def keys(db, filter, mode=0, count=32, from_key=""):
    bufs = [bytearray(32) for _ in range(count)]
    sizes = db.list_keys(bufs, from_key=from_key, filter=filter, mode=mode)
    return [bytes(b[:n]).decode() for b, n in zip(bufs, sizes)]


def keyvals(db, filter, mode=0, count=32, from_key=""):
    pairs = [(bytearray(32), bytearray(32)) for _ in range(count)]
    sizes = db.list_keyvals(pairs, from_key=from_key, filter=filter, mode=mode)
    return [(bytes(k[:ks]).decode(), bytes(v[:vs]).decode()) for (k, v), (ks, vs) in zip(pairs, sizes)]


def assert_alive(db):
    db.put("alive", "yes")
    assert db.exists("alive")
    db.erase("alive")


def invalid_filter(call):
    with pytest.raises(YokanException) as ei:
        call()
    assert ei.value.code == YOKAN_ERR_INVALID_FILTER, repr(ei.value)
    return str(ei.value)


def test_lua_on_keys(filled):
    assert keys(filled, "return __key__:sub(-1) == '3'", LUA) == ["k03", "k13"]
    assert len(keys(filled, "return __key__ >= 'k15'", mode=LUA)) == 5
    # without FILTER_VALUE, __value__ is nil
    assert len(keys(filled, "return __value__ == nil", LUA)) == 20
    assert keyvals(filled, "return __key__ == 'k07' and __value__ == nil", LUA) == [("k07", "v07")]
    # the default filter is still a prefix
    assert keys(filled, "k1") == [f"k1{i}" for i in range(10)]


def test_lua_on_values(filled):
    assert keyvals(filled, "return __value__ == 'v05' or __value__ == 'v17'", LUA | FV) == \
        [("k05", "v05"), ("k17", "v17")]
    assert keys(filled, "return __value__:sub(-1) == '8'", LUA | FV) == ["k08", "k18"]
    kbuf, vbuf = bytearray(64), bytearray(64)
    sizes = filled.list_keyvals_packed(kbuf, vbuf, 4, filter="return tonumber(__value__:sub(2)) >= 18",
                                       mode=LUA | FV)
    assert sizes == [(3, 3), (3, 3)]
    assert bytes(kbuf[:6]) == b"k18k19" and bytes(vbuf[:6]) == b"v18v19"
    sizes = filled.list_keys_packed(kbuf, 4, filter="return __value__ < 'v02'", mode=LUA | FV)
    assert sizes == [3, 3] and bytes(kbuf[:6]) == b"k00k01"


def test_lua_iter_and_pagination(filled):
    seen = []
    filled.iter(lambda i, k, v: seen.append((i, k, bytes(v).decode())), from_key="",
                filter="return __value__:find('1') ~= nil", mode=LUA | FV, batch_size=2)
    assert [k for _, k, _ in seen] == ["k01"] + [f"k1{i}" for i in range(10)]
    assert [i for i, _, _ in seen] == list(range(11))
    assert all(v == "v" + k[1:] for _, k, v in seen)
    # pages of list_keys resume after the last key returned
    even = "return tonumber(__key__:sub(2)) % 2 == 0"
    got, last = [], ""
    while True:
        page = keys(filled, even, LUA, count=3, from_key=last)
        got += page
        if len(page) < 3:
            break
        last = page[-1]
    assert got == [f"k{i:02d}" for i in range(0, 20, 2)]


def test_no_prefix_unaffected(filled):
    assert keys(filled, "k1", Mode.NO_PREFIX)[:3] == ["0", "1", "2"]
    assert keys(filled, "return __key__ > 'k17'", LUA | Mode.NO_PREFIX) == ["k18", "k19"]
    seen = []
    filled.iter(lambda i, k, v: seen.append(k), from_key="", filter="k0", mode=Mode.NO_PREFIX, batch_size=3,
                ignore_values=True)
    assert seen == [str(i) for i in range(10)]


def test_lua_on_documents(serve, backend):
    s = serve(backend)
    require(s, DOC_BACKENDS, lambda: s.db.create_collection("c"), "collections")
    c = s.db.create_collection("c")
    require(s, SORTED_DOCS, lambda: c.list_docs(0, [bytearray(8)]), "list_docs")
    c.store_multi([f"doc{i}" if i % 3 else f'{{"x":{i}}}' for i in range(10)])
    bufs = [bytearray(16) for _ in range(8)]
    res = c.list_docs(0, bufs, filter="return __id__ % 2 == 1", mode=LUA)
    assert [i for i, _ in res] == [1, 3, 5, 7, 9]
    assert bytes(bufs[1][:res[1][1]]) == b'{"x":3}'
    res = c.list_docs(0, bufs, filter="return __doc__:sub(1, 1) == '{'", mode=LUA)
    assert [i for i, _ in res] == [0, 3, 6, 9]
    seen = []
    c.iter(lambda i, id, doc: seen.append(id), from_id=0, filter="return __doc__:find('doc') ~= nil",
           mode=LUA, batch_size=2)
    assert seen == [1, 2, 4, 5, 7, 8]
    invalid_filter(lambda: c.list_docs(0, bufs, filter="return (", mode=LUA))


def test_bad_lua_filters(filled):
    assert "syntax" in invalid_filter(lambda: keys(filled, "return ((", LUA))
    assert "boom" in invalid_filter(lambda: keys(filled, "error('boom')", LUA))
    assert "instructions" in invalid_filter(lambda: keys(filled, "while true do end", LUA))
    assert "memory" in invalid_filter(lambda: keys(filled, "local t = {} for i = 1, 1e9 do "
                                                           "t[i] = string.rep('x', 1e6) .. i end", LUA))
    invalid_filter(lambda: keys(filled, "return io.open('/etc/passwd') ~= nil", LUA))
    invalid_filter(lambda: keys(filled, "return os.time() > 0", LUA))
    invalid_filter(lambda: filled.iter(lambda i, k, v: None, filter="error('x')", mode=LUA))
    assert keys(filled, "return io == nil and os == nil and require == nil", LUA, count=2) == ["k00", "k01"]
    assert_alive(filled)


@needs_sample
def test_lib_filters(filled):
    filled.put("a:b", "vvvvvvv")
    assert keys(filled, lib("length_between", "4,8"), LIB) == ["a:b"]
    assert keyvals(filled, lib("length_between", "0,3"), LIB, count=2) == [("k00", "v00"), ("k01", "v01")]
    assert keys(filled, lib("upper", "k1"), LIB, count=3) == ["K10", "K11", "K12"]
    assert keys(filled, lib("upper", "a:b"), LIB) == ["A:B"]
    seen = []
    filled.iter(lambda i, k, v: seen.append(bytes(k).decode()), filter=lib("upper", "k0"), mode=LIB, batch_size=3,
                ignore_values=True)
    assert seen == [f"K0{i}" for i in range(10)]


@needs_sample
def test_lib_filter_on_documents(serve, backend):
    s = serve(backend)
    require(s, DOC_BACKENDS, lambda: s.db.create_collection("c"), "collections")
    c = s.db.create_collection("c")
    require(s, SORTED_DOCS, lambda: c.list_docs(0, [bytearray(8)]), "list_docs")
    c.store_multi(["a", "bb", "ccc", "dddd"])
    res = c.list_docs(0, [bytearray(8) for _ in range(4)], filter=lib("length_between", "2,3"), mode=LIB)
    assert res == [(1, 2), (2, 3)]


@needs_sample
def test_bad_lib_filters(filled):
    assert "/nonexistent/libnope.so" in invalid_filter(lambda: keys(filled, "/nonexistent/libnope.so:f:", LIB))
    assert "no_such_filter" in invalid_filter(lambda: keys(filled, lib("no_such_filter"), LIB))
    assert "min,max" in invalid_filter(lambda: keys(filled, lib("length_between", "nope"), LIB))
    assert "refuses" in invalid_filter(lambda: keys(filled, lib("throws"), LIB))
    assert_alive(filled)


def test_incompatible_filter_modes(filled):
    for mode in (LUA | Mode.SUFFIX, LIB | Mode.SUFFIX, LUA | LIB):
        with pytest.raises(YokanException) as ei:
            keys(filled, "x", mode)
        assert ei.value.code == 29


def test_bad_filters_in_a_server_process(make_server, client_engine_factory):
    """A separate server process survives every bad filter and keeps serving."""
    from mochi.yokan.client import Client

    server = make_server({42: '{"database":{"type":"map"}}'})
    e = client_engine_factory()
    db = Client(e).make_database_handle(e.lookup(server.address), 42)
    db.put_multi([(f"k{i}", f"v{i}") for i in range(5)])
    bad = ["return ((", "error('boom')", "while true do end",
           "local s = 'x' while true do s = s .. s end"]
    threads = [threading.Thread(target=lambda f=f: pytest.raises(YokanException, keys, db, f, LUA)) for f in bad]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for f in bad:
        invalid_filter(lambda: keys(db, f, LUA))
    if SAMPLE_LIB:
        invalid_filter(lambda: keys(db, lib("throws"), LIB))
        assert keys(db, lib("upper", "k3"), LIB) == ["K3"]
    assert keys(db, "return __value__ == 'v2'", LUA | FV) == ["k2"]
    assert server.alive()

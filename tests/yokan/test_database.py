"""Every Database method over every backend (names, keyword arguments, results, sentinels)."""

import numpy as np
import pytest

from conftest import KV_BACKENDS, SORTED_KV, DOC_BACKENDS, require
from mochi.yokan.exception import (Exception as YokanException, YOKAN_ERR_KEY_NOT_FOUND,
                                   YOKAN_ERR_BUFFER_SIZE, YOKAN_ERR_KEY_EXISTS)


@pytest.fixture
def kv(serve, backend):
    s = serve(backend)
    require(s, KV_BACKENDS, lambda: s.db.put("k", s.val("v")), "key/value ops")
    return s


@pytest.fixture
def sorted_kv(serve, backend):
    s = serve(backend)
    require(s, SORTED_KV, lambda: s.db.list_keys([bytearray(8)]), "list_keys")
    return s


def fill(s, n=5, prefix="key"):
    keys = [f"{prefix}{i}" for i in range(n)]
    s.db.put_multi(pairs=[(k, s.val(f"value{i}")) for i, k in enumerate(keys)])
    return keys


def test_count_put_get(kv):
    db = kv.db
    assert db.count() == 0
    db.put("alpha", kv.val("first value"))
    db.put(key=b"beta", value=bytearray(kv.val(b"second")), mode=0, timeout_ms=0.0)
    db.put(memoryview(b"xgammax")[1:6], kv.val(np.frombuffer(b"third", dtype=np.uint8)))
    assert db.count() == 3
    expect = kv.val("first value")
    buf = bytearray(len(expect) + 4)
    assert db.get("alpha", buf) == len(expect)
    assert bytes(buf[:len(expect)]) == expect
    # partial buffers: a memoryview slice of a bytearray, and a numpy array
    ba = bytearray(b"#" * 20)
    n = db.get(key=b"beta", value=memoryview(ba)[2:12])
    assert bytes(ba[2:2 + n]) == kv.val(b"second") and ba[:2] == b"##"
    arr = np.zeros(16, dtype=np.uint8)
    n = db.get("gamma", arr)
    assert arr[:n].tobytes() == kv.val(b"third")
    with pytest.raises(YokanException) as ei:
        db.get("missing", bytearray(8))
    assert ei.value.code == YOKAN_ERR_KEY_NOT_FOUND
    if kv.backend not in ("set", "unordered_set"):
        with pytest.raises(YokanException) as ei:
            db.get("alpha", bytearray(3))
        assert ei.value.code == YOKAN_ERR_BUFFER_SIZE


def test_put_overwrites(kv):
    kv.db.put("k", kv.val("one"))
    kv.db.put("k", kv.val("three"))
    assert kv.db.length("k") == len(kv.val("three"))
    assert kv.db.count() == 1


def test_put_multi_get_multi(kv):
    keys = fill(kv, 4)
    bufs = [bytearray(16) for _ in range(4)] + [bytearray(16)]
    sizes = kv.db.get_multi(pairs=list(zip(keys + ["nothere"], bufs)))
    assert sizes[:4] == [len(kv.val(f"value{i}")) for i in range(4)]
    assert sizes[4] is None
    for i in range(4):
        assert bytes(bufs[i][:sizes[i]]) == kv.val(f"value{i}")
    if kv.backend not in ("set", "unordered_set"):
        assert kv.db.get_multi([(keys[0], bytearray(2)), (keys[1], bytearray(16))]) == [-1, 6]
        # Buffers all of one size travel as that one capacity; each value is still held to it.
        n = len(kv.val("value0"))
        exact = [bytearray(n) for _ in range(3)]
        assert kv.db.get_multi(list(zip(keys[:2] + ["nothere"], exact))) == [n, n, None]
        assert bytes(exact[1]) == kv.val("value1")
        short = [bytearray(n - 1) for _ in range(3)]
        assert kv.db.get_multi(list(zip(keys[:2] + ["nothere"], short))) == [-1, -1, None]
        assert short[0] == bytearray(n - 1)  # nothing written into a buffer that was too small
    assert kv.db.get_multi([]) == []


def test_put_packed_get_packed(kv):
    keys = [b"pk0", b"pk10", b"pk200"]
    values = [kv.val(b"a"), kv.val(b"bb"), kv.val(b"ccc")]
    kv.db.put_packed(keys=b"".join(keys), key_sizes=[len(k) for k in keys],
                     values=b"".join(values), value_sizes=[len(v) for v in values])
    assert kv.db.count() == 3
    out = bytearray(32)
    sizes = kv.db.get_packed(keys=b"".join(keys) + b"zz", key_sizes=[3, 4, 5, 2], values=out)
    assert sizes == [len(v) for v in values] + [None]
    assert bytes(out[:sum(sizes[:3])]) == b"".join(values)
    with pytest.raises(ValueError):  # sizes larger than the packed buffer
        kv.db.put_packed(b"abc", [4], b"x", [1])
    with pytest.raises(ValueError):  # count mismatch
        kv.db.put_packed(b"abc", [1, 2], b"x", [1])


def test_fetch(kv):
    kv.db.put("fk", kv.val("fetched"))
    seen = []

    def cb(i, key, value):
        seen.append((i, key, None if value is None else bytes(value)))
        if value is not None:
            assert isinstance(value, memoryview) and value.readonly
            cb.view = value

    kv.db.fetch(key="fk", callback=cb)
    kv.db.fetch(b"nope", cb)
    assert seen[0] == (0, "fk", kv.val(b"fetched"))
    assert seen[1][0] == 0 and isinstance(seen[1][1], memoryview) and bytes(seen[1][1]) == b"nope"
    assert seen[1][2] is None
    with pytest.raises(ValueError):  # the value view was released after the callback
        bytes(cb.view)


def test_fetch_multi_and_packed(kv):
    keys = fill(kv, 6)
    got = {}
    kv.db.fetch_multi(keys=keys + ["zz"], callback=lambda i, k, v: got.__setitem__(
        i, (k, None if v is None else bytes(v))), mode=0, batch_size=2)
    assert got == {**{i: (k, kv.val(f"value{i}")) for i, k in enumerate(keys)}, 6: ("zz", None)}
    got.clear()
    packed = "".join(keys).encode()
    kv.db.fetch_packed(keys=packed, key_sizes=[len(k) for k in keys],
                       callback=lambda i, k, v: got.__setitem__(i, (bytes(k), bytes(v))), batch_size=4)
    assert got == {i: (k.encode(), kv.val(f"value{i}")) for i, k in enumerate(keys)}

    def boom(i, k, v):
        raise YokanException("stop here", 35)

    with pytest.raises(YokanException) as ei:
        kv.db.fetch_multi(keys, boom)
    assert ei.value.code == 35 and str(ei.value) == "stop here"

    class Custom(KeyError):
        pass

    def boom2(i, k, v):
        raise Custom(i)

    with pytest.raises(Custom):
        kv.db.fetch_packed(packed, [len(k) for k in keys], boom2)


def test_exists(kv):
    keys = fill(kv, 3)
    assert kv.db.exists(keys[0]) is True
    assert kv.db.exists(key="no") is False
    assert kv.db.exists_multi(keys=[keys[0], "no", keys[2]]) == [True, False, True]
    assert kv.db.exists_packed(keys=(keys[1] + "no").encode(), key_sizes=[len(keys[1]), 2]) == [True, False]


def test_length(kv):
    keys = fill(kv, 3)
    assert kv.db.length(keys[1]) == len(kv.val("value1"))
    assert kv.db.length("missing") is None
    assert kv.db.length_multi(keys=[keys[0], "missing"]) == [len(kv.val("value0")), None]
    assert kv.db.length_packed(keys=(keys[2] + "xy").encode(), key_sizes=[len(keys[2]), 2]) == \
        [len(kv.val("value2")), None]


def test_erase(kv):
    keys = fill(kv, 6)
    kv.db.erase(keys[0])
    kv.db.erase(key="never-there")  # not an error
    assert kv.db.exists(keys[0]) is False
    kv.db.erase_multi(keys=[keys[1], keys[2], "nope"])
    kv.db.erase_packed(keys=(keys[3] + keys[4]).encode(), key_sizes=[len(keys[3]), len(keys[4])])
    assert kv.db.count() == 1
    assert kv.db.exists_multi(keys) == [False] * 5 + [True]


def test_erase_range(sorted_kv):
    kv = sorted_kv
    fill(kv, 3, prefix="a/")
    fill(kv, 2, prefix="b/")
    kv.db.erase_range(prefix="a/")
    assert kv.db.count() == 2
    kv.db.erase_range("")
    assert kv.db.count() == 0


def test_list_keys(sorted_kv):
    s = sorted_kv
    keys = fill(s, 5)
    bufs = [bytearray(8) for _ in range(3)]
    sizes = s.db.list_keys(keys=bufs, from_key="", filter="", mode=0)
    assert sizes == [4, 4, 4]
    assert [bytes(b[:n]) for b, n in zip(bufs, sizes)] == [b"key0", b"key1", b"key2"]
    sizes = s.db.list_keys(bufs, from_key=b"key2")
    assert sizes == [4, 4] and bytes(bufs[1][:4]) == b"key4"  # shorter list: the end
    assert s.db.list_keys([bytearray(2), bytearray(8)], from_key="key0") == [-1, 4]
    assert s.db.list_keys([bytearray(8)], from_key="key9") == []


def test_list_keys_packed(sorted_kv):
    s = sorted_kv
    fill(s, 4)
    out = bytearray(64)
    sizes = s.db.list_keys_packed(keys=out, count=10, from_key="key0", filter="key")
    assert sizes == [4, 4, 4]
    assert bytes(out[:12]) == b"key1key2key3"


def test_list_keyvals(sorted_kv):
    s = sorted_kv
    fill(s, 4)
    pairs = [(bytearray(8), bytearray(8)) for _ in range(5)]
    res = s.db.list_keyvals(pairs=pairs, from_key="", filter="key")
    assert res == [(4, len(s.val("value0")))] * 4
    assert bytes(pairs[3][0][:4]) == b"key3"
    assert bytes(pairs[3][1][:res[3][1]]) == s.val("value3")
    if s.backend not in ("set", "unordered_set"):
        res = s.db.list_keyvals([[bytearray(8), bytearray(2)], [bytearray(1), bytearray(8)]])
        assert res == [(4, -1), (-1, 6)]


def test_list_keyvals_packed(sorted_kv):
    s = sorted_kv
    fill(s, 4)
    kb, vb = bytearray(64), bytearray(64)
    res = s.db.list_keyvals_packed(keys=kb, values=vb, count=3, from_key="key0", filter="")
    vlen = len(s.val("value1"))
    assert res == [(4, vlen)] * 3
    assert bytes(kb[:12]) == b"key1key2key3"
    assert bytes(vb[:3 * vlen]) == b"".join(s.val(f"value{i}") for i in (1, 2, 3))


def test_iter(sorted_kv):
    s = sorted_kv
    keys = fill(s, 6)
    seen = []
    s.db.iter(callback=lambda i, k, v: seen.append((i, k, bytes(v))), from_key="", filter="key",
              count=0, mode=0, batch_size=2, ignore_values=False)
    assert seen == [(i, k, s.val(f"value{i}")) for i, k in enumerate(keys)]
    seen.clear()
    s.db.iter(lambda i, k, v: seen.append((i, bytes(k), v)), from_key=b"key1", count=2, ignore_values=True)
    assert seen == [(0, b"key2", None), (1, b"key3", None)]
    with pytest.raises(ZeroDivisionError):
        s.db.iter(lambda i, k, v: 1 / 0)


def test_collection_lifecycle(serve, backend):
    s = serve(backend)
    require(s, DOC_BACKENDS, lambda: s.db.create_collection("c"), "collections")
    db = s.db
    assert db.collection_exists(name="docs") is False
    coll = db.create_collection(name="docs")
    assert db.collection_exists("docs") is True
    with pytest.raises(YokanException) as ei:
        db.create_collection("docs")
    assert ei.value.code == YOKAN_ERR_KEY_EXISTS
    assert coll.store("x") == 0
    again = db.open_collection(name="docs")
    assert again.size() == 1
    db.drop_collection(name="docs")
    assert db.collection_exists("docs") is False


def test_mode_and_timeout_keywords(kv):
    # every method accepts mode= and timeout_ms= as trailing keywords
    db = kv.db
    db.put("k", kv.val("v"), mode=0, timeout_ms=1000.0)
    assert db.count(mode=0, timeout_ms=1000.0) == 1
    assert db.exists("k", mode=0, timeout_ms=500) is True
    assert db.length("k", timeout_ms=500.0) == len(kv.val("v"))
    db.erase("k", timeout_ms=500.0)

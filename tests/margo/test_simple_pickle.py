"""The pickle fast path of RPC payloads (src/python/margo/simple_pickle.cpp).

_pymargo.dumps/loads are what every call, handler and respond use. Plain values take a fast
path that must stay interchangeable with the pickle module in both directions; everything else
must fall back to pickle unchanged.
"""

import math
import pickle

import pytest

import _pymargo

FRAME = 0x95  # pickle.dumps frames its output; the fast path never does


def dumps(obj):
    return _pymargo.dumps(None, obj)


def loads(data):
    return _pymargo.loads(None, data)


def same(a, b):
    """Equal values of exactly the same types, all the way down (nan equals nan, -0.0 is not 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a.keys()) == list(b.keys()) and all(same(a[k], b[k]) for k in a)
    return a == b


INTS = [0, 1, 255, 256, 65535, 65536, -1, -255, -256, 2**31 - 1, -2**31, 2**31, -2**31 - 1,
        2**40, 2**63 - 1, -2**63]
FLOATS = [0.0, -0.0, 1.5, -2.25, 1e308, 5e-324, math.inf, -math.inf, math.nan]
STRS = ["", "a", "é", "日本語", "x" * 255, "x" * 256, "y" * 70000, "😀" * 100]
BYTES = [b"", b"\x00", b"x" * 8, b"z" * 255, b"z" * 256, bytes(range(256)) * 4096]
PLAIN = ([None, True, False] + INTS + FLOATS + STRS + BYTES +
         [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), tuple(range(300)), [], [1, "a", b"b"], list(range(2000)),
          {}, {"a": 1}, {1: "x", (1, 2): [3], "k": {"n": None}, 2.5: b""},
          {"args": (b"x" * 8,), "kwargs": {}}, {"args": ("a", 1, 2.0, None), "kwargs": {"key": [True]}},
          [[[[[[[]]]]]]], ((), [()], {"t": ((),)})])


@pytest.mark.parametrize("value", PLAIN, ids=lambda v: type(v).__name__)
def test_plain_values_take_the_fast_path_and_pickle_reads_them_back(value):
    data = dumps(value)
    assert FRAME not in data[:3], "expected the fast path, got pickle's framed output"
    assert same(pickle.loads(data), value)
    assert same(loads(data), value)


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
@pytest.mark.parametrize("value", PLAIN, ids=lambda v: type(v).__name__)
def test_fast_loads_reads_what_pickle_writes(value, protocol):
    assert same(loads(pickle.dumps(value, protocol=protocol)), value)


class MyInt(int):
    pass


class Point:
    def __init__(self, x):
        self.x = x

    def __eq__(self, other):
        return isinstance(other, Point) and other.x == self.x


OTHERS = [2**63, -2**63 - 1, 2**100, {1, 2}, frozenset([3]), bytearray(b"ab"), MyInt(5), Point(3),
          [Point(1), 2], {"p": Point(2)}, complex(1, 2), "\udc80", ["ok", "\ud800"]]


@pytest.mark.parametrize("value", OTHERS, ids=lambda v: type(v).__name__)
def test_other_values_fall_back_to_pickle_unchanged(value):
    data = dumps(value)
    assert data == pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    back = loads(data)
    assert back == value and type(back) is type(value)


def test_subclasses_keep_their_type():
    assert type(loads(dumps(MyInt(7)))) is MyInt
    assert type(loads(dumps([MyInt(7)]))[0]) is MyInt


def test_shared_containers_keep_their_identity():
    inner = [1, 2]
    out = loads(dumps((inner, inner)))
    assert out == ([1, 2], [1, 2]) and out[0] is out[1]
    d = {}
    out = loads(dumps({"a": d, "b": d}))
    assert out["a"] is out["b"]
    # Shared immutable values are simply written twice.
    s = "shared"
    assert loads(dumps((s, s))) == ("shared", "shared")


def test_self_referencing_and_deep_structures_fall_back():
    loop = [1]
    loop.append(loop)
    out = loads(dumps(loop))
    assert out[0] == 1 and out[1] is out
    deep = []
    for _ in range(100):
        deep = [deep]
    out = loads(dumps(deep))
    for _ in range(100):
        out = out[0]
    assert out == []


def test_memo_references_written_by_pickle_are_resolved():
    inner = ["x"]
    out = loads(pickle.dumps((inner, inner, "k", "k"), protocol=2))
    assert out[0] is out[1] and out[2] == "k"


@pytest.mark.parametrize("value", [{"args": (b"x" * 8, "s", 3, [1.5]), "kwargs": {"a": None}},
                                   ["a" * 300, b"b" * 70000, 2**40], "text"])
@pytest.mark.parametrize("writer", ["fast", "pickle"])
def test_truncated_input_raises_what_pickle_raises(value, writer):
    data = dumps(value) if writer == "fast" else pickle.dumps(value, protocol=5)
    for cut in range(len(data)):
        piece = data[:cut]
        try:
            pickle.loads(piece)
        except Exception as expected:  # noqa: BLE001 - whatever pickle raises, we must raise too
            with pytest.raises(type(expected)):
                loads(piece)
        else:  # pragma: no cover - a prefix of a pickle is never a whole pickle here
            pytest.fail(f"pickle accepted a truncated pickle at {cut}")


def test_unhashable_key_raises_type_error_like_pickle():
    data = b"\x80\x05}(]Nu."  # {[]: None}
    with pytest.raises(TypeError):
        pickle.loads(data)
    with pytest.raises(TypeError):
        loads(data)


def test_odd_opcode_streams_behave_exactly_like_pickle():
    for data in [b"\x80\x05K\x01K\x02.",  # two objects left at STOP (pickle keeps the top one)
                 b"\x80\x05a.",           # APPEND with nothing to append to
                 b"\x80\x05K\x01K\x02a.",  # APPEND to an int
                 b"\x80\x05(K\x01.",      # a mark left open
                 b"\x80\x05h\x00.",       # memo entry that was never stored
                 b"\x80\x05K\x01.trailing"]:  # bytes after STOP are ignored
        try:
            expected = pickle.loads(data)
        except Exception as error:  # noqa: BLE001
            with pytest.raises(type(error)):
                loads(data)
        else:
            assert same(loads(data), expected)

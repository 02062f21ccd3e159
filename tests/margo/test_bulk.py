"""Bulk handles: creation, local and RPC-driven push/pull, pickling."""

import pickle

import numpy as np
import pytest

import _pymargo
import mochi.margo
from mochi.margo import bulk as mbulk
from mochi.margo.bulk import Bulk, pull, push, read_only, read_write, write_only
from mochi.margo.core import Request
from mochi.margo.typing import hg_bulk_t

T = 10000


def test_constants():
    assert (int(read_only), int(write_only), int(read_write)) == (1, 2, 3)
    assert (int(push), int(pull)) == (0, 1)
    assert mochi.margo.bulk is mbulk
    assert mbulk.read_only == _pymargo.access.read_only
    assert mbulk.pull == _pymargo.xfer.pull


def test_create_bulk(engine):
    buf = bytearray(b"0123456789")
    b = engine.create_bulk(buf, read_write)
    assert isinstance(b, Bulk)
    assert isinstance(b.hg_bulk, hg_bulk_t)
    assert b.size == 10
    arr = np.zeros(100, dtype=np.float64)
    assert engine.create_bulk(arr, read_only).size == 800


def test_create_bulk_non_contiguous(engine):
    arr = np.arange(20, dtype=np.int32)[::2]
    with pytest.raises(ValueError, match="Non-contiguous"):
        engine.create_bulk(arr, read_only)


def test_local_push_pull_with_offsets(engine):
    origin = bytearray(b"abcdefghij")
    local = bytearray(b"0123456789")
    ob = engine.create_bulk(origin, read_write)
    lb = engine.create_bulk(local, read_write)
    me = engine.addr()
    # push: local[1:4] -> origin[5:8]
    assert engine.transfer(push, me, ob, 5, lb, 1, 3) is None
    assert origin == bytearray(b"abcde123ij")
    # pull: origin[0:2] -> local[8:10]
    engine.transfer(pull, me, ob, 0, lb, 8, 2)
    assert local == bytearray(b"01234567ab")


def test_transfer_non_blocking(engine):
    origin = bytearray(64)
    local = bytearray(b"x" * 64)
    ob = engine.create_bulk(origin, write_only)
    lb = engine.create_bulk(local, read_only)
    req = engine.transfer(push, engine.addr(), ob, 0, lb, 0, 64, blocking=False)
    assert isinstance(req, Request)
    req.wait()
    assert origin == local


def test_bytes_modified_in_place(engine):
    # py-mochi-margo exposes even immutable bytes read/write (Mochi code relies on it)
    target = bytes(8)
    source = b"ABCDEFGH"
    tb = engine.create_bulk(target, read_write)
    sb = engine.create_bulk(source, read_only)
    engine.transfer(push, engine.addr(), tb, 2, sb, 0, 4)
    assert target == b"\x00\x00ABCD\x00\x00"
    dest = bytes(3)
    db = engine.create_bulk(dest, write_only)
    engine.transfer(pull, engine.addr(), sb, 5, db, 0, 3)
    assert dest == b"FGH"


def test_numpy_arrays(engine):
    src = np.arange(1000, dtype=np.float64)
    dst = np.zeros(1000, dtype=np.float64)
    sb = engine.create_bulk(src, read_only)
    db = engine.create_bulk(dst, read_write)
    itemsize = src.itemsize
    engine.transfer(pull, engine.addr(), sb, 100 * itemsize, db, 0, 500 * itemsize)
    assert np.array_equal(dst[:500], src[100:600])
    assert not dst[500:].any()
    two_d = np.ones((10, 10), dtype=np.int64)
    b2 = engine.create_bulk(two_d, read_write)
    assert b2.size == 800


def test_bulk_pickled_into_rpc_args(engine):
    """The handler receives the caller's Bulk and pulls from / pushes to it."""
    def do_pull(handle, remote_bulk, size):
        assert isinstance(remote_bulk, Bulk)
        local = bytearray(size)
        lb = engine.create_bulk(local, read_write)
        engine.transfer(pull, handle.address, remote_bulk, 0, lb, 0, size)
        handle.respond(bytes(local))

    def do_push(handle, remote_bulk, data, offset):
        lb = engine.create_bulk(bytearray(data), read_only)
        engine.transfer(push, handle.address, remote_bulk, offset, lb, 0, len(data))
        handle.respond(remote_bulk.size)

    engine.register("do_pull", do_pull)
    engine.register("do_push", do_push)
    payload = bytes(range(256)) * 64
    b = engine.create_bulk(payload, read_only)
    assert engine.register("do_pull").on(engine.addr())(b, len(payload), timeout=T) == payload

    target = np.zeros(16, dtype=np.uint8)
    tb = engine.create_bulk(target, read_write)
    size = engine.register("do_push").on(engine.addr())(tb, b"\x07" * 4, 10, timeout=T)
    assert size == 16
    assert list(target) == [0] * 10 + [7] * 4 + [0] * 2

    # a bulk nested inside a container travels as well
    engine.register("nested", lambda h, d: h.respond(d["bulk"].size))
    nested = engine.register("nested").on(engine.addr())
    assert nested({"bulk": b}, timeout=T) == len(payload)


def test_bulk_pickle_outside_rpc(engine):
    from mochi.margo import serialization

    buf = bytearray(b"hello")
    b = engine.create_bulk(buf, read_only)
    data = serialization.dumps(engine.mid, b)
    b2 = serialization.loads(engine.mid, data)
    assert isinstance(b2, Bulk) and b2.size == 5
    out = bytearray(5)
    engine.transfer(pull, engine.addr(), b2, 0, engine.create_bulk(out, read_write), 0, 5)
    assert out == buf
    with pytest.raises(RuntimeError):
        pickle.loads(pickle.dumps(b))

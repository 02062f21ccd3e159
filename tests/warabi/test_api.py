"""Every TargetHandle method on every target, against a server in another process.

One server process per protocol holds one provider per target kind; tests are parametrized
over (protocol, kind). Sizes straddle the eager threshold (2048) so both the eager and the
RDMA paths run, and the staged (file, pipeline) paths see multi-chunk transfers.
"""

import os

import pytest

from conftest import SM, TCP, WarabiServer, target_config

KINDS = ["memory", "abtio", "pmdk", "memory+pipeline", "abtio+pipeline", "abtio_direct"]
PROVIDER_IDS = {kind: i + 1 for i, kind in enumerate(KINDS)}


@pytest.fixture(scope="module", params=[TCP, SM], ids=["tcp", "sm"])
def server(request, tmp_path_factory):
    d = tmp_path_factory.mktemp("api")
    providers = {PROVIDER_IDS[k]: target_config(k, d, name=k.replace("+", "_")) for k in KINDS}
    s = WarabiServer(d, providers, protocol=request.param, rpc_threads=2)
    import mochi.margo

    engine = mochi.margo.Engine(request.param, mochi.margo.client)
    yield s, engine
    engine.finalize()
    s.close()


@pytest.fixture(params=KINDS)
def target(request, server):
    from mochi.warabi.client import Client

    s, engine = server
    return Client(engine).make_target_handle(s.address, PROVIDER_IDS[request.param])


SIZES = [0, 1, 2048, 2049, 100_000, 5 << 20]


@pytest.mark.parametrize("size", SIZES)
def test_create_write_read(target, size):
    data = os.urandom(size)
    region = target.create(size)
    target.write(region, 0, data)
    assert target.read(region, 0, size) == data
    out = bytearray(size)
    target.read_into(region, 0, out)
    assert out == data
    target.erase(region)


def test_offsets_and_partial_reads(target):
    region = target.create(1 << 20)
    assert target.read(region, 0, 16) == bytes(16)  # new regions read as zeros
    target.write(region, 1000, b"x" * 3000)
    target.write(region, (1 << 20) - 5, b"tail!")
    assert target.read(region, 999, 3002) == b"\0" + b"x" * 3000 + b"\0"
    assert target.read(region, (1 << 20) - 5, 5) == b"tail!"
    buf = bytearray(5)
    target.read_into(region, 1000, memoryview(buf))
    assert buf == b"xxxxx"


def test_create_and_write_persist(target):
    for size in (10, 4096, 3 << 20):
        data = os.urandom(size)
        region = target.create_and_write(data, persist=True)
        assert target.read(region, 0, size) == data
        target.persist(region, 0, size)
        target.persist(region, size // 2, size - size // 2)


def test_write_persist_flag(target):
    region = target.create(8192)
    target.write(region, 0, b"a" * 8192, persist=True)
    target.write(region, 10, b"b" * 10, True)
    assert target.read(region, 0, 30) == b"a" * 10 + b"b" * 10 + b"a" * 10


def test_erase_then_use_fails(target):
    from mochi.warabi.client import Exception as WarabiException

    region = target.create_and_write(b"gone soon")
    target.erase(region)
    with pytest.raises(WarabiException, match="Invalid RegionID"):
        target.read(region, 0, 4)
    with pytest.raises(WarabiException, match="Invalid RegionID"):
        target.erase(region)


def test_async_forms(target):
    from mochi.warabi.client import AsyncCreateRequest, AsyncRequest, RegionID

    creq = target.create_async(1 << 20)
    assert isinstance(creq, AsyncCreateRequest)
    region = creq.wait()
    assert isinstance(region, RegionID)
    data = os.urandom(1 << 20)
    w = target.write_async(region, 0, data, persist=False)
    assert isinstance(w, AsyncRequest)
    w.wait()
    assert w.completed()
    out = bytearray(1 << 20)
    r = target.read_async(region, 0, out)
    r.wait()
    assert out == data
    target.persist_async(region, 0, 1 << 20).wait()
    small = bytearray(10)
    target.read_async(region, 5, small).wait()
    assert small == data[5:15]
    target.erase_async(region).wait()
    assert AsyncRequest().completed()
    AsyncRequest().wait()


def test_many_concurrent_async(target):
    regions = [target.create_async(4096) for _ in range(64)]
    regions = [r.wait() for r in regions]
    payloads = [os.urandom(4096) for _ in regions]
    writes = [target.write_async(r, 0, p) for r, p in zip(regions, payloads)]
    for w in writes:
        w.wait()
    outs = [bytearray(4096) for _ in regions]
    reads = [target.read_async(r, 0, o) for r, o in zip(regions, outs)]
    for r in reads:
        r.wait()
    assert outs == payloads
    for e in [target.erase_async(r) for r in regions]:
        e.wait()


def test_eager_thresholds(target):
    data = os.urandom(10_000)
    target.set_eager_write_threshold(1 << 20)
    target.set_eager_read_threshold(1 << 20)
    region = target.create_and_write(data)
    assert target.read(region, 0, len(data)) == data
    target.set_eager_write_threshold(0)
    target.set_eager_read_threshold(0)
    target.write(region, 0, b"abc")
    assert target.read(region, 0, 3) == b"abc"
    target.set_eager_write_threshold(2048)
    target.set_eager_read_threshold(2048)


def test_numpy_buffers(target):
    np = pytest.importorskip("numpy")
    a = np.arange(100_000, dtype=np.float64)
    region = target.create_and_write(a)
    b = np.empty_like(a)
    target.read_into(region, 0, b)
    assert (a == b).all()
    c = np.zeros(10, dtype=np.int32)
    target.read_into(region, 8, c)  # 40 bytes from byte 8: a[1:6] as int32 pairs
    assert c.tobytes() == a[1:6].tobytes()

"""Large regions (256 MiB) and many regions (100,000), across processes."""

import os
import time

import pytest

from conftest import SM, TCP, target_config


def handle(server, engine, pid=1):
    from mochi.warabi.client import Client

    return Client(engine).make_target_handle(server.address, pid)


@pytest.mark.parametrize("kind", ["memory", "abtio", "pmdk", "abtio+pipeline"])
def test_256MiB_region(make_server, sm_client_engine, tmp_path, kind):
    np = pytest.importorskip("numpy")
    cfg = target_config(kind, tmp_path)
    if kind == "pmdk":
        cfg["target"]["config"]["create_if_missing_with_size"] = 300 << 20
    server = make_server({1: cfg}, protocol=SM)
    t = handle(server, sm_client_engine)
    size = 256 << 20
    data = np.random.default_rng(7).integers(0, 2**63, size // 8, dtype=np.uint64)
    region = t.create_and_write(data, persist=True)
    out = np.empty_like(data)
    t.read_into(region, 0, out)
    assert np.array_equal(out, data)
    # A slice in the middle, unaligned.
    mid = t.read(region, 100_000_001, 3_000_000)
    assert mid == data.tobytes()[100_000_001:103_000_001]


def create_many(t, n, window=1024):
    """Creates n 16-byte regions with up to `window` requests in flight."""
    regions, inflight = [], []
    for _ in range(n):
        inflight.append(t.create_async(16))
        if len(inflight) >= window:
            regions.extend(r.wait() for r in inflight)
            inflight = []
    regions.extend(r.wait() for r in inflight)
    return regions


def fill_sample(t, regions, step=97):
    """Writes a distinct payload into every step-th region; returns {index: payload}."""
    sample = {i: i.to_bytes(8, "little") * 2 for i in range(0, len(regions), step)}
    for w in [t.write_async(regions[i], 0, p) for i, p in sample.items()]:
        w.wait()
    return sample


def check_sample(t, regions, sample, skip=0):
    for i, p in sample.items():
        if i >= skip:
            assert t.read(regions[i], 0, 16) == p


@pytest.mark.parametrize("kind", ["memory", "abtio"])
def test_100k_regions(make_server, sm_client_engine, tmp_path, kind):
    server = make_server({1: target_config(kind, tmp_path)}, protocol=SM, rpc_threads=0)
    t = handle(server, sm_client_engine)
    start = time.monotonic()
    regions = create_many(t, 100_000)
    assert len(set(regions)) == 100_000
    sample = fill_sample(t, regions)
    check_sample(t, regions, sample)
    for e in [t.erase_async(r) for r in regions[:1000]]:
        e.wait()
    check_sample(t, regions, sample, skip=1000)
    if kind == "abtio":
        # Reopening walks 100,000 records.
        t.persist(regions[-1], 0, 16)
        server.kill()
        cfg = target_config(kind, tmp_path)
        server = make_server({1: cfg}, protocol=SM)
        t = handle(server, sm_client_engine)
        check_sample(t, regions, sample, skip=1000)
        assert t.read(regions[-1], 0, 16) == bytes(16)
        from mochi.warabi.client import Exception as WarabiException

        with pytest.raises(WarabiException, match="Invalid RegionID"):
            t.read(regions[0], 0, 16)
    assert time.monotonic() - start < 60


def test_100k_regions_pmdk_with_PMEM_IS_PMEM_FORCE(make_server, sm_client_engine, tmp_path):
    """Sets PMEM_IS_PMEM_FORCE=1 in the server on purpose: on an ordinary file every PMDK
    allocation msyncs (~1 ms), so 100,000 durable creates would take minutes. This test is
    about the region table at scale, not durability (the crash tests cover that without it)."""
    cfg = target_config("pmdk", tmp_path)
    server = make_server({1: cfg}, protocol=SM, rpc_threads=0, env={"PMEM_IS_PMEM_FORCE": "1"})
    t = handle(server, sm_client_engine)
    regions = create_many(t, 100_000)
    assert len(set(regions)) == 100_000
    sample = fill_sample(t, regions)
    server.kill()
    server = make_server({1: cfg}, protocol=SM, env={"PMEM_IS_PMEM_FORCE": "1"})
    check_sample(handle(server, sm_client_engine), regions, sample)


def test_concurrent_async_mixed_sizes(make_server, client_engine, tmp_path):
    server = make_server({1: target_config("memory", tmp_path), 2: target_config("abtio", tmp_path)},
                         protocol=TCP, rpc_threads=2)
    for pid in (1, 2):
        t = handle(server, client_engine, pid)
        sizes = [10, 3000, 70_000, 1 << 20, 4 << 20] * 6
        regions = [r.wait() for r in [t.create_async(s) for s in sizes]]
        datas = [os.urandom(s) for s in sizes]
        writes = [t.write_async(r, 0, d, persist=(i % 3 == 0)) for i, (r, d) in enumerate(zip(regions, datas))]
        outs = [bytearray(s) for s in sizes]
        for w in writes:
            w.wait()
        reads = [t.read_async(r, 0, o) for r, o in zip(regions, outs)]
        for r in reads:
            r.wait()
        assert outs == datas

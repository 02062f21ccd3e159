"""Crash tests: kill -9 the server, restart it on the same file, and find every persisted region.

pmdk and abtio targets. PMEM_IS_PMEM_FORCE is never set here, so pmdk runs its real
(msync) persistence path.
"""

import os

import pytest

from conftest import TCP, target_config

KINDS = ["abtio", "pmdk", "abtio_direct"]


def open_target(server, engine, provider_id=1):
    from mochi.warabi.client import Client

    return Client(engine).make_target_handle(server.address, provider_id)


def reopen_config(kind, d):
    """The same target, opened again (the file exists: no create, no override)."""
    cfg = target_config(kind, d)
    tc = cfg["target"]["config"]
    tc.pop("create_if_missing", None)
    return cfg


@pytest.mark.parametrize("kind", KINDS)
def test_persisted_regions_survive_kill9(make_server, client_engine, tmp_path, kind):
    from mochi.warabi.client import Exception as WarabiException

    server = make_server({1: target_config(kind, tmp_path)}, protocol=TCP)
    t = open_target(server, client_engine)
    a_data = os.urandom(3 << 20)
    a = t.create_and_write(a_data, persist=True)
    b_data = os.urandom(100)
    b = t.create(4096)
    t.write(b, 7, b_data)
    t.persist(b, 0, 4096)
    small = [(t.create_and_write(os.urandom(64 + i), persist=True)) for i in range(50)]
    small_data = {r: t.read(r, 0, 64 + i) for i, r in enumerate(small)}
    gone = t.create_and_write(b"erase me", persist=True)
    t.erase(gone)
    # Async persistence counts too.
    c_data = os.urandom(1 << 20)
    c = t.create(1 << 20)
    t.write_async(c, 0, c_data).wait()
    t.persist_async(c, 0, 1 << 20).wait()
    server.kill()

    server2 = make_server({1: reopen_config(kind, tmp_path)}, protocol=TCP)
    t2 = open_target(server2, client_engine)
    assert t2.read(a, 0, len(a_data)) == a_data
    assert t2.read(b, 7, 100) == b_data
    assert t2.read(b, 0, 7) == bytes(7)
    for r, data in small_data.items():
        assert t2.read(r, 0, len(data)) == data
    assert t2.read(c, 0, 1 << 20) == c_data
    with pytest.raises(WarabiException, match="Invalid RegionID"):
        t2.read(gone, 0, 8)
    # New regions after the restart never overlap the old ones.
    news = [t2.create_and_write(b"\xff" * 5000, persist=True) for _ in range(10)]
    assert len(set(news) | set(small) | {a, b, c}) == len(news) + len(small) + 3
    assert t2.read(a, 0, len(a_data)) == a_data
    for r, data in small_data.items():
        assert t2.read(r, 0, len(data)) == data


@pytest.mark.parametrize("kind", KINDS)
def test_crash_during_unpersisted_writes_spares_other_regions(make_server, client_engine, tmp_path, kind):
    server = make_server({1: target_config(kind, tmp_path)}, protocol=TCP)
    t = open_target(server, client_engine)
    keep = {t.create_and_write(os.urandom(5000 + i), persist=True): None for i in range(5)}
    keep = {r: t.read(r, 0, 5000 + i) for i, r in enumerate(keep)}
    victim = t.create(32 << 20)
    after = t.create_and_write(b"after" * 1000, persist=True)
    payload = bytes([0xAB]) * (32 << 20)
    # Writes in flight (never persisted) when the server dies.
    pending = t.write_async(victim, 0, payload)
    server.kill()
    from mochi.warabi.client import Exception as WarabiException

    with pytest.raises(WarabiException, match="warabi_write to .* failed"):
        pending.wait()  # the engine notices the dead peer within a few seconds

    server2 = make_server({1: reopen_config(kind, tmp_path)}, protocol=TCP)
    t2 = open_target(server2, client_engine)
    for r, data in keep.items():
        assert t2.read(r, 0, len(data)) == data
    assert t2.read(after, 0, 5000) == b"after" * 1000
    # The victim region exists; its content is whatever made it to the file.
    got = t2.read(victim, 0, 32 << 20)
    assert set(got) <= {0, 0xAB}


def test_abtio_torn_tail_record_is_ignored(make_server, client_engine, tmp_path):
    server = make_server({1: target_config("abtio", tmp_path)}, protocol=TCP)
    t = open_target(server, client_engine)
    regions = {t.create_and_write(os.urandom(1000), persist=True): None for _ in range(3)}
    regions = {r: t.read(r, 0, 1000) for r in regions}
    server.kill()
    # A crash while appending the next record leaves garbage where it would go.
    path = tmp_path / "store.abtio"
    with open(path, "ab") as f:
        f.write(os.urandom(64))
    server2 = make_server({1: reopen_config("abtio", tmp_path)}, protocol=TCP)
    t2 = open_target(server2, client_engine)
    for r, data in regions.items():
        assert t2.read(r, 0, 1000) == data
    fresh = t2.create_and_write(b"fresh" * 100, persist=True)
    assert t2.read(fresh, 0, 500) == b"fresh" * 100
    for r, data in regions.items():
        assert t2.read(r, 0, 1000) == data

"""Migration: a target's regions moved or copied to another provider, over RPC."""

import os

import pytest

from conftest import TCP, target_config


def test_migrate_between_processes(make_server, client_engine, tmp_path):
    from mochi.warabi.client import Client, Exception as WarabiException

    src_dir, dst_dir = tmp_path / "src", tmp_path / "dst"
    src_dir.mkdir(), dst_dir.mkdir()
    src = make_server({1: target_config("memory", src_dir)}, protocol=TCP)
    dst = make_server({2: target_config("abtio", dst_dir), 3: target_config("pmdk", dst_dir)}, protocol=TCP)
    client = Client(client_engine)
    s = client.make_target_handle(src.address, 1)
    contents = {}
    for size in (0, 10, 5000, 3 << 20):
        data = os.urandom(size)
        contents[s.create_and_write(data)] = data

    # Copy (keep the sources), with a transfer size that forces chunking of the big region.
    copy = s.migrate(dst.address, 3, remove_source=False, transfer_size=1 << 20)
    assert set(copy) == set(contents)
    pm = client.make_target_handle(dst.address, 3)
    for old, new in copy.items():
        assert pm.read(new, 0, len(contents[old])) == contents[old]
        assert s.read(old, 0, len(contents[old])) == contents[old]

    # Move: the sources are gone afterwards.
    moved = s.migrate(dst.address, 2)
    ab = client.make_target_handle(dst.address, 2)
    for old, new in moved.items():
        assert ab.read(new, 0, len(contents[old])) == contents[old]
        with pytest.raises(WarabiException, match="Invalid RegionID"):
            s.read(old, 0, 1)
    assert s.migrate(dst.address, 2) == {}

    # The copies were persisted: they survive a crash of the destination.
    dst.kill()
    dst2 = make_server({2: {"target": {"type": "abtio", "config": {"path": str(dst_dir / "store.abtio")}}}},
                       protocol=TCP)
    ab2 = client.make_target_handle(dst2.address, 2)
    for old, new in moved.items():
        assert ab2.read(new, 0, len(contents[old])) == contents[old]


def test_migrate_errors(make_server, client_engine, tmp_path):
    from mochi.warabi.client import Client, Exception as WarabiException

    src = make_server({1: target_config("memory", tmp_path)}, protocol=TCP)
    s = Client(client_engine).make_target_handle(src.address, 1)
    region = s.create_and_write(b"stays put")
    with pytest.raises(WarabiException, match="no warabi provider with id 9"):
        s.migrate(src.address, 9)
    with pytest.raises(WarabiException, match="cannot migrate a target onto itself"):
        s.migrate(src.address, 1)
    with pytest.raises(WarabiException, match="transfer_size must be at least 1"):
        s.migrate(src.address, 1, transfer_size=0)
    assert s.read(region, 0, 9) == b"stays put"


def test_provider_migrate_in_process(local_engine, tmp_path):
    from mochi.warabi.client import Client, RegionID
    from mochi.warabi.server import Provider

    a = Provider(local_engine, 1, target_config("abtio", tmp_path, name="a"))
    b = Provider(local_engine, 2, target_config("memory", tmp_path))
    t1 = Client(local_engine).make_target_handle(str(local_engine.addr()), 1)
    t2 = Client(local_engine).make_target_handle(str(local_engine.addr()), 2)
    data = {t1.create_and_write(os.urandom(n), persist=True): None for n in (1, 100, 70000)}
    data = {r: t1.read(r, 0, [1, 100, 70000][i]) for i, r in enumerate(data)}
    mapping = a.migrate(str(local_engine.addr()), 2, remove_source=True, transfer_size=4096)
    assert all(isinstance(k, RegionID) and isinstance(v, RegionID) for k, v in mapping.items())
    for old, new in mapping.items():
        assert t2.read(new, 0, len(data[old])) == data[old]
    del a, b

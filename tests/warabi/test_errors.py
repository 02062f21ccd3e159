"""Bad input gets a clear mochi.warabi Exception, and the server keeps serving afterwards."""

import json
import os

import pytest

from conftest import TCP, target_config


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    """A server with a memory (1) and an abtio (2) provider, and a client engine."""
    import mochi.margo
    from conftest import WarabiServer

    d = tmp_path_factory.mktemp("errors")
    s = WarabiServer(d, {1: target_config("memory", d), 2: target_config("abtio", d)}, protocol=TCP)
    e = mochi.margo.Engine(TCP, mochi.margo.client)
    yield s, e
    e.finalize()
    s.close()


@pytest.fixture(params=[1, 2], ids=["memory", "abtio"])
def target(request, remote):
    from mochi.warabi.client import Client

    s, e = remote
    return Client(e).make_target_handle(s.address, request.param)


def still_serving(target):
    region = target.create_and_write(b"still here")
    assert target.read(region, 0, 10) == b"still here"


def test_unknown_region(target):
    from mochi.warabi.client import Exception as WarabiException, RegionID

    bogus = RegionID(bytes(range(16)))
    for call in (lambda: target.read(bogus, 0, 1), lambda: target.write(bogus, 0, b"x" * 5000),
                 lambda: target.persist(bogus, 0, 1), lambda: target.erase(bogus),
                 lambda: target.read_into(bogus, 0, bytearray(10))):
        with pytest.raises(WarabiException, match="Invalid RegionID information: region 000102030405"):
            call()
    still_serving(target)


def test_read_and_write_past_the_end(target):
    from mochi.warabi.client import Exception as WarabiException

    region = target.create(100)
    with pytest.raises(WarabiException, match=r"cannot read bytes \[90, 110\) of region [0-9a-f]{32}: the region has 100 bytes"):
        target.read(region, 90, 20)
    with pytest.raises(WarabiException, match=r"cannot read bytes \[0, 100000\)"):
        target.read_into(region, 0, bytearray(100_000))  # RDMA path
    with pytest.raises(WarabiException, match=r"cannot write bytes \[99, 101\)"):
        target.write(region, 99, b"ab")
    with pytest.raises(WarabiException, match=r"cannot write bytes \[50, 5050\)"):
        target.write(region, 50, b"z" * 5000)
    still_serving(target)


def test_offset_overflow(target):
    from mochi.warabi.client import Exception as WarabiException

    region = target.create(100)
    with pytest.raises(WarabiException, match="cannot persist bytes"):
        target.persist(region, (1 << 64) - 1, 2)
    with pytest.raises(TypeError):  # not a uint64
        target.read(region, 1 << 64, 1)
    with pytest.raises(TypeError):
        target.read(region, -1, 1)
    still_serving(target)


def test_bad_buffers(target):
    np = pytest.importorskip("numpy")
    from mochi.warabi.client import Exception as WarabiException

    region = target.create(4096)
    with pytest.raises(WarabiException, match="Buffer must be 1-dimensional"):
        target.read_into(region, 0, np.zeros((4, 4), dtype=np.uint8))
    with pytest.raises(WarabiException, match="Buffer must be 1-dimensional"):
        target.write(region, 0, np.zeros((4, 4), dtype=np.uint8))
    with pytest.raises(WarabiException, match="Buffer must be 1-dimensional"):
        target.read_into(region, 0, np.zeros((4, 4), dtype=np.uint8).data)
    with pytest.raises(WarabiException, match="Buffer must be writable"):
        target.read_into(region, 0, b"immutable bytes")
    with pytest.raises(WarabiException, match="Buffer must be writable"):
        target.read_async(region, 0, memoryview(bytearray(8)).toreadonly())
    with pytest.raises(WarabiException, match="Buffer must be contiguous"):
        target.read_into(region, 0, np.zeros(16, dtype=np.uint8)[::2])
    with pytest.raises(TypeError):
        target.write(region, 0, "a str is not a buffer")
    still_serving(target)


def test_region_id_values():
    from mochi.warabi.client import Exception as WarabiException, RegionID

    assert RegionID().to_bytes() == bytes(16)
    r = RegionID(b"0123456789abcdef")
    assert r == RegionID(bytearray(b"0123456789abcdef")) and r != RegionID()
    assert hash(r) == hash(b"0123456789abcdef")
    assert repr(r) == "RegionID(" + b"0123456789abcdef".hex() + ")"
    import pickle

    assert pickle.loads(pickle.dumps(r)) == r
    with pytest.raises(WarabiException, match="RegionID must be exactly 16 bytes"):
        RegionID(b"short")


def test_no_provider_there(remote):
    from mochi.warabi.client import Client, Exception as WarabiException

    s, e = remote
    with pytest.raises(WarabiException, match="no warabi provider with id 77 at "):
        Client(e).make_target_handle(s.address, 77)
    unchecked = Client(e).make_target_handle(s.address, 77, check=False)
    with pytest.raises(WarabiException, match="no warabi provider with id 77"):
        unchecked.create(10)
    with pytest.raises(WarabiException, match="invalid TargetHandle"):
        from mochi.warabi.client import TargetHandle

        TargetHandle().create(1)
    assert not TargetHandle()


BAD_CONFIGS = [
    ({"target": {"type": "nosuch"}}, r'unknown target type "nosuch" \(known: abtio, memory, pmdk, pmem\)'),
    ({"target": None}, r'invalid target configuration: expected a JSON object, got null'),
    ({"transfer_manager": {"type": "turbo"}}, r'unknown type "turbo"'),  # target-less, still checked
    ({"target": {"config": {}}}, r'missing required key "type"'),
    ({"target": {"type": "memory"}, "extra": 1}, r'unknown key "extra"'),
    ({"target": {"type": "memory", "config": {"size": 1}}}, r'memory target configuration: unknown key "size"'),
    ({"target": {"type": "abtio", "config": {}}}, r'abtio target configuration: missing required key "path"'),
    ({"target": {"type": "abtio", "config": {"path": "{d}/missing.dat"}}}, r'does not exist \(set "create_if_missing"'),
    ({"target": {"type": "abtio", "config": {"path": "{d}/a.dat", "create_if_missing": True, "alignment": 12}}},
     r'"alignment" must be a multiple of 8 and at least 8, got 12'),
    ({"target": {"type": "abtio", "config": {"path": "{d}/a.dat", "create_if_missing": "yes"}}},
     r'"create_if_missing" must be a boolean, got "yes"'),
    ({"target": {"type": "pmdk", "config": {"path": "{d}/p.dat"}}}, r'"create_if_missing_with_size" is not set'),
    ({"target": {"type": "pmdk", "config": {"path": "{d}/p.dat", "create_if_missing_with_size": 1024}}},
     r'"create_if_missing_with_size" must be at least 8388608 bytes, got 1024'),
    ({"target": {"type": "memory"}, "transfer_manager": {"type": "turbo"}}, r'unknown type "turbo"'),
    ({"target": {"type": "memory"}, "transfer_manager": {"type": "pipeline", "config": {"num_pools": 1}}},
     r'pipeline transfer manager configuration: missing required key "num_buffers_per_pool"'),
    ({"target": {"type": "memory"}, "transfer_manager": {"type": "pipeline", "config": {
        "num_pools": 1, "num_buffers_per_pool": 1, "first_buffer_size": 8, "buffer_size_multiplier": 1}}},
     r'"buffer_size_multiplier" must be greater than 1, got 1'),
]


@pytest.mark.parametrize("config,message", BAD_CONFIGS)
def test_bad_config(local_engine, tmp_path, config, message):
    from mochi.warabi.server import Exception as ServerException, Provider

    config = json.loads(json.dumps(config).replace("{d}", str(tmp_path)))
    with pytest.raises(ServerException, match=message):
        Provider(local_engine, 5, config)
    # The engine is still usable for a good provider at that id.
    assert Provider(local_engine, 5, {"target": {"type": "memory"}})


NO_TARGET = "warabi provider 3 has no target"


def every_data_operation(t):
    """One call of each data operation of a TargetHandle, in its eager and RDMA forms and async."""
    from mochi.warabi.client import RegionID

    r = RegionID(bytes(16))
    big = b"x" * 100_000  # above the eager threshold: the RDMA RPCs
    return {
        "create": lambda: t.create(10),
        "create_async": lambda: t.create_async(10).wait(),
        "write_eager": lambda: t.write(r, 0, b"abc"),
        "write_rdma": lambda: t.write(r, 0, big, persist=True),
        "write_async": lambda: t.write_async(r, 0, big).wait(),
        "read_eager": lambda: t.read(r, 0, 3),
        "read_rdma": lambda: t.read(r, 0, len(big)),
        "read_into": lambda: t.read_into(r, 0, bytearray(10)),
        "read_async": lambda: t.read_async(r, 0, bytearray(len(big))).wait(),
        "persist": lambda: t.persist(r, 0, 1),
        "persist_async": lambda: t.persist_async(r, 0, 1).wait(),
        "erase": lambda: t.erase(r),
        "erase_async": lambda: t.erase_async(r).wait(),
        "create_and_write_eager": lambda: t.create_and_write(b"abc", persist=True),
        "create_and_write_rdma": lambda: t.create_and_write(big),
    }


@pytest.mark.parametrize("config", [{}, {"transfer_manager": {"type": "pipeline", "config": {
    "num_pools": 1, "num_buffers_per_pool": 2, "first_buffer_size": 4096, "buffer_size_multiplier": 2}}}],
    ids=["empty", "transfer_manager_only"])
def test_targetless_provider_in_process(local_engine, config):
    """Warabi's provider config may leave out "target": every data operation then fails with a
    clear error, and the provider (and its engine) keep serving."""
    from mochi.warabi.client import Client, Exception as WarabiException
    from mochi.warabi.server import Exception as ServerException, Provider

    p = Provider(local_engine, 3, config)
    assert p
    got = p.get_config()
    assert "target" not in got
    assert got["transfer_manager"]["type"] == config.get("transfer_manager", {}).get("type", "__default__")
    other = Provider(local_engine, 4, {"target": {"type": "memory"}})
    addr = str(local_engine.addr())
    t = Client(local_engine).make_target_handle(addr, 3)  # the handle check passes: it is a warabi provider
    for name, call in every_data_operation(t).items():
        with pytest.raises(WarabiException, match=NO_TARGET):
            call()
        # The other provider of the engine is not disturbed.
        ok = Client(local_engine).make_target_handle(addr, 4)
        assert ok.read(ok.create_and_write(name.encode()), 0, len(name)) == name.encode(), name
    with pytest.raises(ServerException, match=NO_TARGET):
        p.migrate(addr, 4)
    del other


def test_targetless_provider_across_processes(make_server, client_engine):
    from mochi.warabi.client import Client, Exception as WarabiException

    s = make_server({3: {}, 4: {"target": {"type": "memory"}}}, protocol=TCP)
    c = Client(client_engine)
    t = c.make_target_handle(s.address, 3)
    for call in every_data_operation(t).values():
        with pytest.raises(WarabiException, match=NO_TARGET):
            call()
    with pytest.raises(WarabiException, match=NO_TARGET):
        t.migrate(s.address, 4)
    still_serving(c.make_target_handle(s.address, 4))
    with pytest.raises(WarabiException, match=NO_TARGET):  # and the target-less one still answers
        t.create(1)


def test_not_an_abtio_file(local_engine, tmp_path):
    from mochi.warabi.server import Exception as ServerException, Provider

    path = tmp_path / "junk.dat"
    path.write_bytes(os.urandom(10000))
    with pytest.raises(ServerException, match="is not a warabi abtio file"):
        Provider(local_engine, 1, {"target": {"type": "abtio", "config": {"path": str(path)}}})
    p = Provider(local_engine, 1, {"target": {"type": "abtio", "config": {"path": str(path), "override_if_exists": True}}})
    assert p.get_config()["target"]["config"]["override_if_exists"] is True


def test_config_type_and_duplicates(local_engine):
    from mochi.warabi.server import Exception as ServerException, Provider

    with pytest.raises(ServerException, match="config must be a dict, got list"):
        Provider(local_engine, 1, [1, 2])
    p = Provider(engine=local_engine, provider_id=1, config={"target": {"type": "memory"}})
    with pytest.raises(ServerException, match="a warabi provider with id 1 already exists"):
        Provider(local_engine, 1, {"target": {"type": "memory"}})
    assert p.get_config() == {"target": {"type": "memory", "config": {}},
                              "transfer_manager": {"type": "__default__", "config": {}}}

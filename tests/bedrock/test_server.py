"""mochi.bedrock.server: Server, MargoManager (pools, xstreams), ProviderManager."""

import json

import pytest

from bedrock_helpers import server  # noqa: F401 (fixtures)
from bedrock_helpers import TCP

import mochi.margo
from mochi.bedrock.server import BedrockException, ConfigType, Pool, Server, Xstream
from mochi.bedrock import spec

MAP = {"database": {"type": "map"}}


def test_config_forms(tmp_path):
    for cfg in ('{"providers":[]}', {"providers": []}, spec.ProcSpec(margo=TCP)):
        s = Server(TCP, cfg)
        assert s.config["providers"] == []
        assert isinstance(s.spec, spec.ProcSpec)
        s.finalize()
    with pytest.raises(BedrockException, match="must return an object"):
        Server(TCP, "return 42;", config_type=ConfigType.JX9)
    with pytest.raises(TypeError):
        Server(TCP, 42)


def test_jx9_config_with_params():
    script = """
    $providers = [];
    for ($i = 0; $i < $count; $i++) {
        $providers[] = {name: $prefix .. "_" .. $i, type: "yokan", provider_id: 20 + $i,
                        config: {database: {type: "map"}}};
    }
    return {providers: $providers, __comment__: $MPI_COMM_WORLD.size};
    """
    s = Server(TCP, script, config_type=ConfigType.JX9, jx9_params={"count": "3", "prefix": "kv"})
    try:
        assert [(p["name"], p["provider_id"]) for p in s.config["providers"]] == [("kv_0", 20), ("kv_1", 21), ("kv_2", 22)]
        assert s.providers["kv_2"].type == "yokan"
    finally:
        s.finalize()
    with pytest.raises(BedrockException, match=r"1:\d+"):
        Server(TCP, "return {providers: [}", config_type=ConfigType.JX9)
    with pytest.raises(BedrockException, match="only used with"):
        Server(TCP, "{}", jx9_params={"a": 1})


def test_from_spec():
    s = Server.from_spec(spec.ProcSpec(margo=TCP, providers=[spec.ProviderSpec(name="db", type="yokan", config=MAP)]))
    try:
        assert s.providers["db"].type == "yokan"
    finally:
        s.finalize()


def test_margo_manager(server):
    m = server.margo
    assert isinstance(m.engine, mochi.margo.Engine)
    assert str(m.engine.address).startswith("ofi+tcp://127.0.0.1:")
    assert m.num_engines == 1
    assert "argobots" in m.config
    assert m.default_handler_pool == Pool("__primary__")
    assert m.default_handler_pool.type == "pool"
    assert isinstance(m.spec, spec.MargoSpec)


def test_pools_and_xstreams(server):
    pools, xstreams = server.margo.pools, server.margo.xstreams
    assert len(pools) == 1 and "__primary__" in pools and 0 in pools
    p = pools.create({"name": "extra", "kind": "fifo_wait", "type": "fifo_wait"})  # unknown keys ignored
    assert p.name == "extra" and pools["extra"] == p and pools[1] == p and len(pools) == 2
    x = xstreams.create(spec.XstreamSpec(name="xs", scheduler=spec.SchedulerSpec(pools=["extra"])))
    assert isinstance(x, Xstream) and "xs" in xstreams and x.type == "xstream"
    with pytest.raises(BedrockException, match="xstream"):
        del pools["extra"]  # still used by xs
    with pytest.raises(BedrockException):
        pools.create('{"name": "extra"}')  # duplicate
    # a provider can run in the new pool
    server.providers.create("db_extra", "yokan", config=MAP, dependencies={"pool": "extra"})
    with pytest.raises(BedrockException, match="only xstream"):
        del xstreams["xs"]
    del server.providers["db_extra"]
    del xstreams["xs"]
    del pools["extra"]
    assert len(pools) == 1 and len(xstreams) == 1
    with pytest.raises(BedrockException):
        pools["nope"]
    with pytest.raises(BedrockException):
        pools[7]
    with pytest.raises(BedrockException):
        del xstreams["__primary__"]
    with pytest.raises(BedrockException, match="rpc pool|progress pool"):
        del pools["__primary__"]


def test_provider_manager(server, tmp_path):
    pm = server.providers
    assert len(pm) == 1 and "db" in pm and "nope" not in pm
    p = pm["db"]
    assert (p.name, p.type, p.provider_id) == ("db", "yokan", 3)
    assert pm[0].name == "db"
    q = pm.create("db2", "yokan", config=MAP, tags=["t"])
    assert q.provider_id not in (0, 3) and len(pm) == 2
    assert pm.lookup("db2").provider_id == q.provider_id
    assert pm.lookup("yokan:3").name == "db"
    assert pm.lookup("db@local").name == "db"
    with pytest.raises(BedrockException):
        pm.lookup("ghost")
    with pytest.raises(BedrockException):
        pm.create("db2", "yokan", config=MAP)
    assert [c["name"] for c in pm.config] == ["db", "db2"]
    assert pm.spec[1].tags == ["t"]
    pm["db"].change_pool("__primary__")
    # a component without those operations says so
    pm.create("grp", "flock", config={"bootstrap": "self", "group": {"type": "static"}})
    with pytest.raises(BedrockException, match="does not support snapshots"):
        pm.snapshot("grp", str(tmp_path / "snap"))
    with pytest.raises(BedrockException, match="does not support restore"):
        pm.restore("grp", str(tmp_path / "snap"))
    with pytest.raises(BedrockException, match="does not support migration"):
        pm.migrate("grp", "ofi+tcp://127.0.0.1:1", 3)
    del pm["grp"]
    del pm["db2"]
    assert len(pm) == 1
    with pytest.raises(BedrockException):
        pm["db2"]


def test_yokan_provider_is_usable(server):
    import mochi.yokan.client as yc

    engine = server.margo.engine
    db = yc.Client(engine).make_database_handle(engine.address, 3)
    db.put(b"k", b"v")
    assert db.length(b"k") == 1


def test_warabi_component_and_migration():
    s = Server(TCP, {"providers": [
        {"name": "src", "type": "warabi", "provider_id": 1, "config": {"target": {"type": "memory"}}},
        {"name": "dst", "type": "warabi", "provider_id": 2, "config": {"target": {"type": "memory"}}}]})
    try:
        from mochi.warabi.client import Client
        from mochi.warabi.client import Exception as WarabiException

        engine = s.margo.engine
        th = Client(engine).make_target_handle(str(engine.address), 1)
        rid = th.create_and_write(b"hello", persist=True)
        for bad in ('{"transfer_size": 0}', '{"transfer_size": "big"}', "[1]", "{oops"):
            with pytest.raises(BedrockException, match="warabi migrate"):
                s.providers.migrate("src", str(engine.address), 2, bad)
        assert th.read(rid, 0, 5) == b"hello"  # refused migrations leave the source alone
        s.providers.migrate("src", str(engine.address), 2, '{"transfer_size": 2}')  # 3 writes
        dst = Client(engine).make_target_handle(str(engine.address), 2)
        # The destination was empty, so its first memory region has the same (index, size) id.
        assert dst.read(rid, 0, 5) == b"hello"
        with pytest.raises(WarabiException):
            th.read(rid, 0, 5)  # remove_source=True (the default) erased the original
    finally:
        s.finalize()


def test_warabi_migration_installs_a_target_where_there_was_none(tmp_path):
    src_dir, dst_dir = tmp_path / "src", tmp_path / "dst"
    src_dir.mkdir()
    dst_dir.mkdir()
    src_file = src_dir / "blobs.dat"
    s = Server(TCP, {"providers": [
        {"name": "src", "type": "warabi", "provider_id": 1,
         "config": {"target": {"type": "abtio", "config": {"path": str(src_file), "create_if_missing": True}}}},
        {"name": "dst", "type": "warabi", "provider_id": 2, "config": {}}]})
    try:
        from mochi.warabi.client import Client
        from mochi.warabi.client import Exception as WarabiException

        engine = s.margo.engine
        th = Client(engine).make_target_handle(str(engine.address), 1)
        rid = th.create_and_write(b"moved by bedrock", persist=True)
        for bad in ('{"new_root": 5}', '{"new_root": ""}', '{"merge_config": [1]}'):
            with pytest.raises(BedrockException, match="warabi migrate"):
                s.providers.migrate("src", str(engine.address), 2, bad)
        assert th.read(rid, 0, 16) == b"moved by bedrock"  # refused: the source is untouched
        s.providers.migrate("src", str(engine.address), 2,
                            json.dumps({"new_root": str(dst_dir), "merge_config": {"sync": True}}))
        dst_cfg = {p["name"]: p for p in s.config["providers"]}["dst"]["config"]["target"]
        assert dst_cfg["type"] == "abtio"
        assert dst_cfg["config"]["path"] == str(dst_dir / "blobs.dat")
        assert dst_cfg["config"]["sync"] is True
        with pytest.raises(WarabiException, match="no target"):
            th.read(rid, 0, 16)  # remove_source: the source is left without a target
        assert not src_file.exists()
        # A fresh file target places its first region where the source had it: same id.
        dst = Client(engine).make_target_handle(str(engine.address), 2)
        assert dst.read(rid, 0, 16) == b"moved by bedrock"
    finally:
        s.finalize()


def test_query(server):
    assert server.query("return $__config__.providers[0].provider_id;") == 3
    assert server.query('return {"n": count($__config__.providers)};') == {"n": 1}


def test_change_pool_moves_builtin_providers(server):
    import mochi.warabi.client as wc

    server.margo.pools.create({"name": "side"})
    server.margo.xstreams.create({"name": "xs_side", "scheduler": {"pools": ["side"]}})
    pm = server.providers
    pm.create("blobs", "warabi", provider_id=7, config={"target": {"type": "memory"}})
    pm.create("grp", "flock", provider_id=8, config={"bootstrap": "self", "group": {"type": "static"}})
    for name in ("blobs", "grp"):
        pm[name].change_pool("side")
        entry = next(p for p in pm.config if p["name"] == name)
        assert entry["dependencies"]["pool"] == "side"
    # "side" now runs their handlers: it cannot be removed, and they still answer
    with pytest.raises(BedrockException, match="only xstream"):
        del server.margo.xstreams["xs_side"]
    engine = server.margo.engine
    th = wc.Client(engine).make_target_handle(str(engine.address), 7)
    rid = th.create_and_write(b"blob bytes")
    assert th.read(rid, 0, 10) == b"blob bytes"
    with pytest.raises(BedrockException, match="nowhere"):
        pm["blobs"].change_pool("nowhere")
    assert th.read(rid, 0, 4) == b"blob"  # a refused move changes nothing
    # moving both back frees the pool
    for name in ("blobs", "grp"):
        pm[name].change_pool("__primary__")
    del server.margo.xstreams["xs_side"]
    del server.margo.pools["side"]
    assert th.read(rid, 0, 4) == b"blob"


def test_warabi_snapshot_and_restore(server, tmp_path):
    import mochi.warabi.client as wc

    pm = server.providers
    pm.create("blobs", "warabi", provider_id=7, config={"target": {"type": "memory"}})
    engine = server.margo.engine
    th = wc.Client(engine).make_target_handle(str(engine.address), 7)
    rids = [th.create_and_write(bytes([i]) * (1000 * i + 1)) for i in range(5)]
    th.erase(rids[1])
    with pytest.raises(BedrockException, match="not valid JSON"):
        pm.snapshot("blobs", str(tmp_path / "snap"), "{oops", remove_source=False)
    assert not (tmp_path / "snap").exists()  # refused before anything was written
    pm.snapshot("blobs", str(tmp_path / "snap"), remove_source=False)
    assert (tmp_path / "snap" / "warabi.snapshot").exists()
    assert th.read(rids[2], 0, 3) == b"\x02\x02\x02"  # still there
    pm.snapshot("blobs", str(tmp_path / "snap2"))  # upstream default: remove_source=True
    with pytest.raises(wc.Exception):
        th.read(rids[2], 0, 3)
    # a fresh memory target gets the same region ids back
    pm.create("blobs2", "warabi", provider_id=8, config={"target": {"type": "memory"}})
    pm.restore("blobs2", str(tmp_path / "snap"))
    th2 = wc.Client(engine).make_target_handle(str(engine.address), 8)
    for i in (0, 2, 3, 4):
        assert th2.read(rids[i], 0, 1000 * i + 1) == bytes([i]) * (1000 * i + 1)
    with pytest.raises(wc.Exception):
        th2.read(rids[1], 0, 1)  # erased before the snapshot
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "warabi.snapshot").write_bytes(b"KNKWSNAP" + b"\0" * 10)
    with pytest.raises(BedrockException, match="blobs2"):
        pm.restore("blobs2", str(tmp_path / "bad"))


def test_warabi_restore_installs_a_target_where_there_was_none(tmp_path):
    """restore into a warabi provider without a target installs one like the snapshot's source,
    its file under new_root with merge_config over it, as a migration would."""
    src_dir, dst_dir = tmp_path / "src", tmp_path / "dst"
    src_dir.mkdir()
    dst_dir.mkdir()
    s = Server(TCP, {"providers": [
        {"name": "src", "type": "warabi", "provider_id": 1,
         "config": {"target": {"type": "abtio", "config": {"path": str(src_dir / "blobs.dat"),
                                                          "create_if_missing": True}}}},
        {"name": "dst", "type": "warabi", "provider_id": 2, "config": {}}]})
    try:
        from mochi.warabi.client import Client
        from mochi.warabi.client import Exception as WarabiException

        engine = s.margo.engine
        c = Client(engine)
        th, dst = c.make_target_handle(str(engine.address), 1), c.make_target_handle(str(engine.address), 2)
        rid = th.create_and_write(b"restored by bedrock", persist=True)
        s.providers.snapshot("src", str(tmp_path / "snap"), remove_source=False)

        def dst_target():
            return {p["name"]: p for p in s.config["providers"]}["dst"]["config"].get("target")

        for bad in ('{"new_root": 5}', '{"new_root": ""}', '{"merge_config": [1]}', "[1]", "{oops"):
            with pytest.raises(BedrockException, match="warabi restore"):
                s.providers.restore("dst", str(tmp_path / "snap"), bad)
        missing = tmp_path / "nowhere"
        with pytest.raises(BedrockException, match=f'directory "{missing}" does not exist'):
            s.providers.restore("dst", str(tmp_path / "snap"), json.dumps({"new_root": str(missing)}))
        assert dst_target() is None  # refused: still no target, still serving
        with pytest.raises(WarabiException, match="warabi provider 2 has no target"):
            dst.read(rid, 0, 1)

        s.providers.restore("dst", str(tmp_path / "snap"),
                            json.dumps({"new_root": str(dst_dir), "merge_config": {"sync": True}}))
        got = dst_target()
        assert got["type"] == "abtio"
        assert got["config"]["path"] == str(dst_dir / "blobs.dat")
        assert got["config"]["sync"] is True
        # A fresh file target places its first region where the source had it: same id.
        assert dst.read(rid, 0, 19) == b"restored by bedrock"
        assert th.read(rid, 0, 19) == b"restored by bedrock"  # the snapshot kept the source
        # dst has a target now: install options no longer apply.
        with pytest.raises(BedrockException, match='already has a "abtio" target'):
            s.providers.restore("dst", str(tmp_path / "snap"), json.dumps({"new_root": str(dst_dir)}))
    finally:
        s.finalize()


def _value(db, key):
    buf = bytearray(db.length(key))
    db.get(key, buf)
    return bytes(buf)


def test_yokan_snapshot_restore_and_migrate(server, tmp_path):
    import mochi.yokan.client as yc
    from mochi.yokan.exception import YOKAN_ERR_MIGRATED
    from mochi.yokan.exception import Exception as YokanException

    pm = server.providers
    engine = server.margo.engine
    client = yc.Client(engine)
    db = client.make_database_handle(engine.address, 3)
    pairs = {f"key{i:03d}".encode(): bytes([i % 251]) * i for i in range(200)}
    for k, v in pairs.items():
        db.put(k, v)
    coll = db.create_collection("docs")
    ids = [coll.store(f"doc{i}".encode()) for i in range(5)]
    pm.snapshot("db", str(tmp_path / "snap"), remove_source=False)
    assert _value(db, b"key042") == pairs[b"key042"]

    # restore into a provider of another backend type
    pm.create("db2", "yokan", provider_id=4, config={"database": {"type": "unordered_map"}})
    db2 = client.make_database_handle(engine.address, 4)
    db2.put(b"stale", b"x")
    pm.restore("db2", str(tmp_path / "snap"))
    assert not db2.exists(b"stale")  # restore replaces the content by default
    for k in (b"key000", b"key001", b"key199"):
        assert _value(db2, k) == pairs[k]
    coll2 = db2.open_collection("docs")
    buf = bytearray(coll2.length(ids[3]))
    coll2.load(ids[3], buf)
    assert bytes(buf) == b"doc3"

    # migrate db -> db3: the pairs arrive, the source answers "migrated"
    pm.create("db3", "yokan", provider_id=5, config={"database": {"type": "map"}})
    pm.migrate("db", str(engine.address), 5)
    db3 = client.make_database_handle(engine.address, 5)
    assert _value(db3, b"key150") == pairs[b"key150"]
    with pytest.raises(YokanException) as err:
        _value(db, b"key150")
    assert err.value.code == YOKAN_ERR_MIGRATED

    # a damaged snapshot is refused, naming the provider, and changes nothing
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "yokan.snapshot").write_bytes(b"garbage")
    with pytest.raises(BedrockException, match="db3"):
        pm.restore("db3", str(bad))
    assert _value(db3, b"key150") == pairs[b"key150"]

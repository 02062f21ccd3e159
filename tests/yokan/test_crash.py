"""Acknowledged writes to synced persistent backends survive kill -9 and a restart."""

import json

import pytest

from conftest import all_backends
from mochi.yokan.client import Client


def test_kill9_durability(make_server, client_engine_factory, tmp_path):
    if not {"rocksdb", "lmdb"} <= set(all_backends()):
        pytest.skip("rocksdb or lmdb not compiled in")
    providers = {
        1: json.dumps({"database": {"type": "rocksdb", "config": {
            "path": str(tmp_path / "rocks"), "create_if_missing": True, "write_options": {"sync": True}}}}),
        2: json.dumps({"database": {"type": "lmdb", "config": {"path": str(tmp_path / "lmdb")}}}),
    }
    server = make_server(providers)
    e = client_engine_factory()
    c = Client(e)
    dbs = {pid: c.make_database_handle(e.lookup(server.address), pid) for pid in providers}
    for pid, db in dbs.items():
        for i in range(50):
            db.put(f"key{i:03d}", f"value-{pid}-{i}")  # each put is acknowledged before the next
        db.put_multi([(f"batch{i:03d}", f"b{i}") for i in range(100)])
        db.erase("key000")
    server.kill()  # SIGKILL: no shutdown, no flush

    server2 = make_server(providers)
    for pid in providers:
        db = c.make_database_handle(e.lookup(server2.address), pid)
        assert db.count() == 149
        assert db.exists("key000") is False
        for i in range(1, 50):
            buf = bytearray(32)
            n = db.get(f"key{i:03d}", buf)
            assert bytes(buf[:n]) == f"value-{pid}-{i}".encode()
        assert db.length("batch099") == 3

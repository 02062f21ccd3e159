"""Compaction of the log backend through the Python API: documents updated over and over keep
the database directory bounded, and every document is intact after the provider restarts."""

import gc
import itertools
import json

import pytest

from conftest import all_backends
from mochi.yokan.client import Collection
from mochi.yokan.exception import Exception as YokanException, YOKAN_ERR_KEY_NOT_FOUND
from mochi.yokan.server import Provider

CHUNK = 16384
_ids = itertools.count(7000)  # provider ids of this module (conftest counts from 100)


def chunk_bytes(path):
    return sum(p.stat().st_size for p in path.glob("*.chunk"))


def log_config(path, **extra):
    cfg = {"path": str(path), "chunk_size": CHUNK, "cache_size": 4}
    cfg.update(extra)
    return json.dumps({"database": {"type": "log", "config": cfg}})


def doc(i, version):
    head = f"doc-{i}-v{version}:".encode()
    return head + bytes([97 + (i + version) % 26]) * (150 + (i * 37 + version * 11) % 300)


def load(coll, i):
    buf = bytearray(coll.length(i) or 0)
    n = coll.load(i, buf)
    return bytes(buf[:n])


@pytest.fixture
def log_server(engine, client, tmp_path):
    """Factory: log_server(**config) -> (provider, collection "docs"), on tmp_path/log."""
    if "log" not in all_backends():
        pytest.skip("log backend not compiled in")
    path = tmp_path / "log"

    def start(**extra):
        pid = next(_ids)
        provider = Provider(engine, pid, log_config(path, **extra))
        db = client.make_database_handle(engine.addr(), pid)
        if not db.collection_exists("docs"):
            db.create_collection("docs")
        return provider, Collection("docs", db)

    start.path = path
    return start


def run_updates(coll, path, docs, rounds, version):
    """Updates every document `rounds` times; returns (peak directory size, version)."""
    peak = 0
    for r in range(rounds):
        ids = sorted(docs)
        half = len(ids) // 2
        for i in ids[:half]:  # one RPC each
            version += 1
            docs[i] = doc(i, version)
            coll.update(i, docs[i])
        version += 1
        for i in ids[half:]:
            docs[i] = doc(i, version)
        coll.update_multi(ids[half:], [docs[i] for i in ids[half:]])  # one RPC for the rest
        peak = max(peak, chunk_bytes(path))
        i = ids[r % len(ids)]
        assert load(coll, i) == docs[i]
    return peak, version


def test_updates_keep_directory_bounded_across_restart(log_server):
    provider, coll = log_server()
    docs = {}
    for i in range(60):
        docs[coll.store(doc(i, 0))] = doc(i, 0)
    assert sorted(docs) == list(range(60))
    peak, version = run_updates(coll, log_server.path, docs, 50, 0)
    # Some documents go away for good.
    erased = [3, 17, 59]  # 59: the highest id
    for i in erased:
        coll.erase(i)
        del docs[i]
    peak2, version = run_updates(coll, log_server.path, docs, 20, version)
    live = sum(32 + (len(d) + 7) // 8 * 8 for d in docs.values())
    written = 70 * live
    # Every chunk but the last keeps at least half of its bytes live (threshold 0.5).
    bound = 2 * live + 3 * CHUNK
    assert max(peak, peak2) <= bound, (peak, peak2, live)
    assert written > 10 * chunk_bytes(log_server.path)

    # Restart the provider on the same directory.
    del provider, coll
    gc.collect()
    provider, coll = log_server()
    assert coll.size() == len(docs)
    for i, d in docs.items():
        assert load(coll, i) == d
    for i in erased:
        with pytest.raises(YokanException) as ei:
            coll.load(i, bytearray(1024))
        assert ei.value.code == YOKAN_ERR_KEY_NOT_FOUND
    seen = []
    coll.iter(lambda n, i, d: seen.append((i, bytes(d))))
    assert seen == sorted(docs.items())
    # Ids are not handed out again (59, erased, was the highest).
    assert coll.store(b"after restart") == 60
    peak3, version = run_updates(coll, log_server.path, docs, 10, version)
    assert peak3 <= bound
    del provider, coll
    gc.collect()


def test_without_compaction_the_directory_grows(log_server):
    provider, coll = log_server(compaction=False)
    docs = {}
    for i in range(60):
        docs[coll.store(doc(i, 0))] = doc(i, 0)
    live = sum(32 + (len(d) + 7) // 8 * 8 for d in docs.values())
    run_updates(coll, log_server.path, docs, 20, 0)
    assert chunk_bytes(log_server.path) > 10 * live
    del provider, coll
    gc.collect()
    # Turning compaction on later reclaims the space as the updates go on.
    provider, coll = log_server(compaction=True, compaction_threshold=0.5)
    for i, d in docs.items():
        assert load(coll, i) == d
    run_updates(coll, log_server.path, docs, 20, 100)
    assert chunk_bytes(log_server.path) <= 2 * live + 3 * CHUNK
    for i, d in docs.items():
        assert load(coll, i) == d
    del provider, coll
    gc.collect()

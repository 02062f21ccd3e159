"""Module layout, the Exception class, constants, construction and bad input (in-process)."""

import json
import pickle

import numpy as np
import pytest

import mochi.yokan.backends
import mochi.yokan.exception as exc
from mochi.yokan.client import Client, Database, Collection
from mochi.yokan.client import Exception as ClientException
from mochi.yokan.server import Provider
from mochi.yokan.server import Exception as ServerException
from mochi.yokan.exception import Exception as YokanException

MAP = '{"database":{"type":"map"}}'


def test_layout():
    import mochi.yokan
    import pyyokan_client
    import pyyokan_common
    import pyyokan_server

    assert ClientException is ServerException is YokanException is pyyokan_common.Exception
    assert Client is pyyokan_client.Client and Provider is pyyokan_server.Provider
    assert Database is pyyokan_client.Database and Collection is pyyokan_client.Collection
    assert "map" in mochi.yokan.backends.available_backends
    assert {"rocksdb", "lmdb"} <= set(mochi.yokan.backends.available_backends)


def test_exception_class():
    e = YokanException("Key not found", exc.YOKAN_ERR_KEY_NOT_FOUND)
    assert isinstance(e, RuntimeError) and str(e) == "Key not found" and e.code == 15
    with pytest.raises(AttributeError):
        e.code = 3
    e2 = pickle.loads(pickle.dumps(e))
    assert (str(e2), e2.code) == ("Key not found", 15)


def test_error_constants():
    names = ["SUCCESS", "ERR_ALLOCATION", "ERR_INVALID_MID", "ERR_INVALID_ARGS", "ERR_INVALID_PROVIDER",
             "ERR_INVALID_DATABASE", "ERR_INVALID_BACKEND", "ERR_INVALID_CONFIG", "ERR_INVALID_ID",
             "ERR_INVALID_FILTER", "ERR_FROM_MERCURY", "ERR_FROM_ARGOBOTS", "ERR_FROM_REMI",
             "ERR_OP_UNSUPPORTED", "ERR_OP_FORBIDDEN", "ERR_KEY_NOT_FOUND", "ERR_BUFFER_SIZE",
             "ERR_KEY_EXISTS", "ERR_CORRUPTION", "ERR_IO", "ERR_INCOMPLETE", "ERR_TIMEOUT", "ERR_ABORTED",
             "ERR_BUSY", "ERR_EXPIRED", "ERR_TRY_AGAIN", "ERR_SYSTEM", "ERR_CANCELED", "ERR_PERMISSION",
             "ERR_MODE", "ERR_NONCONTIG", "ERR_READONLY", "ERR_MIGRATED", "ERR_MID_NOT_LISTENING",
             "STOP_ITERATION", "ERR_OTHER"]
    assert [getattr(exc, "YOKAN_" + n) for n in names] == list(range(36))
    import pyyokan_common as c

    assert c.YOKAN_KEY_NOT_FOUND == 2**64 - 1 and c.YOKAN_SIZE_TOO_SMALL == 2**64 - 2
    assert c.YOKAN_NO_MORE_KEYS == c.YOKAN_NO_MORE_DOCS == 2**64 - 3 and c.YOKAN_LAST_VALID_SIZE == 2**64 - 4


def test_construction_forms(engine):
    p = Provider(mid=engine.mid, provider_id=7, config=MAP)
    c1 = Client(mid=engine.mid)
    c2 = Client(engine=engine)
    db = c1.make_database_handle(engine.addr().hg_addr, 7)  # a raw hg_addr capsule
    db.put("k", "v")
    assert c2.make_database_handle(address=engine.addr(), provider_id=7, check=True).exists("k")
    assert c2.make_database_handle(engine.addr(), 7, False).count() == 1
    del p


def test_check_identity(engine, client):
    with pytest.raises(YokanException) as ei:
        client.make_database_handle(engine.addr(), 9999)
    assert ei.value.code == exc.YOKAN_ERR_INVALID_PROVIDER


def test_duplicate_provider(engine):
    p = Provider(engine, 8, MAP)
    with pytest.raises(YokanException) as ei:
        Provider(engine, 8, MAP)
    assert ei.value.code == exc.YOKAN_ERR_INVALID_PROVIDER
    del p


@pytest.mark.parametrize("config,code,words", [
    ('{"database":{"type":"no_such_backend"}}', exc.YOKAN_ERR_INVALID_BACKEND, "no_such_backend"),
    ('{"database":{"type":"map"', exc.YOKAN_ERR_INVALID_CONFIG, ""),
    ("", exc.YOKAN_ERR_INVALID_CONFIG, "missing configuration"),
    ('{"database":{"type":"map","config":{"use_lock":"yes"}}}', exc.YOKAN_ERR_INVALID_CONFIG, "use_lock"),
])
def test_bad_config(engine, config, code, words):
    with pytest.raises(YokanException) as ei:
        Provider(engine, 9, config)
    assert ei.value.code == code
    assert words in str(ei.value) and str(ei.value)
    Provider(engine, 9, MAP)  # the id is still free


def test_config_must_be_str(engine):
    with pytest.raises(TypeError, match="json.dumps"):
        Provider(engine, 10, {"database": {"type": "map"}})


def test_bad_buffers(serve):
    db = serve("map").db
    db.put("k", "value")
    with pytest.raises(YokanException) as ei:
        db.put("", "v")
    assert ei.value.code == exc.YOKAN_ERR_INVALID_ARGS
    with pytest.raises(YokanException) as ei:
        db.get("", bytearray(4))
    assert ei.value.code == exc.YOKAN_ERR_INVALID_ARGS
    strided = np.zeros((4, 4), dtype=np.uint8)[:, 1]
    for call in (lambda: db.put("k2", strided), lambda: db.put(strided, "v"),
                 lambda: db.get("k", np.zeros((8, 2), dtype=np.uint8)[:, 0]),
                 lambda: db.get_multi([("k", memoryview(bytearray(16))[::2])])):
        with pytest.raises(YokanException) as ei:
            call()
        assert ei.value.code == exc.YOKAN_ERR_NONCONTIG and "contiguous" in str(ei.value)
    for out in (b"12345678", "a str", memoryview(bytearray(8)).toreadonly()):
        with pytest.raises(YokanException) as ei:
            db.get("k", out)
        assert ei.value.code == exc.YOKAN_ERR_READONLY and "Read-only" in str(ei.value)
    with pytest.raises(YokanException) as ei:
        db.list_keys([b"readonly"])
    assert ei.value.code == exc.YOKAN_ERR_READONLY
    with pytest.raises(TypeError):
        db.put(12, "v")
    with pytest.raises(TypeError):
        db.fetch("k", "not callable")
    assert db.count() == 1  # still serving, nothing written


def test_numpy_multidim_contiguous(serve):
    db = serve("map").db
    a = np.arange(12, dtype=np.float64).reshape(3, 4)
    db.put("arr", a)
    out = np.empty_like(a)
    assert db.get("arr", out) == a.nbytes
    assert (out == a).all()
    f = np.asfortranarray(a)
    db.put("f", f)  # Fortran-contiguous memory is one block too
    assert db.length("f") == a.nbytes


def test_concurrent_threads(serve):
    import threading

    db = serve("map").db
    errors = []

    def work(t):
        try:
            for i in range(50):
                db.put(f"t{t}-{i}", f"v{i}")
                assert db.length(f"t{t}-{i}") == len(f"v{i}")
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and db.count() == 400


def test_json_config_dict_dumped(engine):
    p = Provider(engine=engine, provider_id=11, config=json.dumps({"database": {"type": "map", "config": {}}}))
    del p

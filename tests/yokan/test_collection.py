"""Every Collection method over every backend that stores documents."""

import json

import pytest

from conftest import DOC_BACKENDS, SORTED_DOCS, require
from mochi.yokan.client import Collection
from mochi.yokan.exception import (Exception as YokanException, YOKAN_ERR_KEY_NOT_FOUND,
                                   YOKAN_ERR_INVALID_ID, YOKAN_ERR_BUFFER_SIZE)

DOCS = [json.dumps({"name": n, "i": i}) for i, n in enumerate(["ann", "bob", "cyd", "dee", "eve"])]


@pytest.fixture
def coll(serve, backend):
    s = serve(backend)
    require(s, DOC_BACKENDS, lambda: s.db.create_collection("c"), "collections")
    return s.db.create_collection("people")


@pytest.fixture
def sorted_coll(serve, backend):
    s = serve(backend)
    require(s, DOC_BACKENDS, lambda: s.db.create_collection("c"), "collections")
    c = s.db.create_collection("people")
    require(s, SORTED_DOCS, lambda: c.list_docs(0, [bytearray(8)]), "list_docs")
    return c


def test_store_load(coll):
    assert coll.size() == 0
    assert coll.store(DOCS[0]) == 0
    assert coll.store(document=DOCS[1].encode(), mode=0, timeout_ms=0.0) == 1
    assert coll.store(bytearray(DOCS[2].encode())) == 2
    assert coll.size() == 3
    buf = bytearray(64)
    n = coll.load(id=1, buffer=buf)
    assert bytes(buf[:n]) == DOCS[1].encode()
    with pytest.raises(YokanException) as ei:
        coll.load(7, buf)
    assert ei.value.code == YOKAN_ERR_KEY_NOT_FOUND
    with pytest.raises(YokanException) as ei:
        coll.load(0, bytearray(3))
    assert ei.value.code == YOKAN_ERR_BUFFER_SIZE


def test_collection_constructor(serve, backend):
    s = serve(backend)
    require(s, DOC_BACKENDS, lambda: s.db.create_collection("c"), "collections")
    s.db.create_collection("named")
    c = Collection(name="named", db=s.db)
    assert c.store("doc") == 0
    assert Collection("named", s.db).size() == 1


def test_store_multi_packed(coll):
    assert coll.store_multi(documents=DOCS[:3]) == [0, 1, 2]
    packed = "".join(DOCS[3:]).encode()
    assert coll.store_packed(documents=packed, doc_sizes=[len(d) for d in DOCS[3:]]) == [3, 4]
    assert coll.size() == 5
    out = bytearray(256)
    sizes = coll.load_packed(ids=[4, 3, 9], buffer=out)
    assert sizes == [len(DOCS[4]), len(DOCS[3]), None]
    assert bytes(out[:sizes[0] + sizes[1]]) == (DOCS[4] + DOCS[3]).encode()
    bufs = [bytearray(64), bytearray(4), bytearray(64)]
    assert coll.load_multi(ids=[0, 1, 99], buffers=bufs) == [len(DOCS[0]), -1, None]
    assert bytes(bufs[0][:len(DOCS[0])]) == DOCS[0].encode()
    # Buffers all of one size travel as one capacity; each document is still held to it.
    cap = min(len(DOCS[0]), len(DOCS[1]))
    same = [bytearray(cap) for _ in range(3)]
    want = [len(d) if len(d) <= cap else -1 for d in DOCS[:2]] + [None]
    assert coll.load_multi(ids=[0, 1, 99], buffers=same) == want
    short = [bytearray(len(DOCS[0]) - 1) for _ in range(3)]
    assert coll.load_multi(ids=[0, 1, 99], buffers=short) == [-1, -1, None]


def test_update(coll):
    coll.store_multi(DOCS[:3])
    coll.update(id=1, document="updated")
    buf = bytearray(64)
    assert bytes(buf[:coll.load(1, buf)]) == b"updated"
    with pytest.raises(YokanException) as ei:
        coll.update(42, "nope")
    assert ei.value.code == YOKAN_ERR_INVALID_ID
    coll.update_multi(ids=[0, 2], documents=["zero", b"two"])
    assert coll.length_multi([0, 2]) == [4, 3]
    assert coll.update_packed(ids=[0, 1], documents=b"AB", doc_sizes=[1, 1]) == [0, 1]
    assert coll.length_multi(ids=[0, 1, 2]) == [1, 1, 3]
    with pytest.raises(ValueError):
        coll.update_multi([0, 1], ["only one"])
    with pytest.raises(ValueError):
        coll.update_packed([0], b"A", [2])


def test_fetch(coll):
    coll.store_multi(DOCS)
    seen = []

    def cb(i, doc_id, doc):
        seen.append((i, doc_id, None if doc is None else bytes(doc)))
        if doc is not None:
            assert doc.readonly

    coll.fetch(id=2, callback=cb)
    coll.fetch_multi(ids=[4, 10, 0], callback=cb, mode=0, batch_size=2)
    assert seen == [(0, 2, DOCS[2].encode()), (0, 4, DOCS[4].encode()), (1, 10, None),
                    (2, 0, DOCS[0].encode())]

    def bad(i, doc_id, doc):
        raise YokanException("from callback", 22)

    with pytest.raises(YokanException) as ei:
        coll.fetch_multi([0, 1], bad)
    assert ei.value.code == 22


def test_length_erase(coll):
    coll.store_multi(DOCS)
    assert coll.length(id=3) == len(DOCS[3])
    assert coll.length(77) is None
    assert coll.length_multi(ids=[0, 77]) == [len(DOCS[0]), None]
    coll.erase(id=1)
    assert coll.length(1) is None
    with pytest.raises(YokanException) as ei:
        coll.load(1, bytearray(64))
    assert ei.value.code == YOKAN_ERR_KEY_NOT_FOUND
    coll.erase_multi(ids=[2, 3])
    assert coll.size() == 2
    assert coll.store("next") == 5  # ids are never reused


def test_list_docs(sorted_coll):
    c = sorted_coll
    c.store_multi(DOCS)
    bufs = [bytearray(64) for _ in range(3)]
    res = c.list_docs(start_id=1, buffers=bufs, filter="")
    assert res == [(1, len(DOCS[1])), (2, len(DOCS[2])), (3, len(DOCS[3]))]  # start_id inclusive
    assert bytes(bufs[0][:res[0][1]]) == DOCS[1].encode()
    res = c.list_docs(4, [bytearray(64), bytearray(64)])
    assert res == [(4, len(DOCS[4]))]  # shorter: the end
    res = c.list_docs(0, [bytearray(2), bytearray(64)])
    assert res == [(0, -1), (1, len(DOCS[1]))]
    c.erase(2)
    res = c.list_docs(1, [bytearray(64)] * 2)
    assert [r[0] for r in res] == [1, 3]


def test_list_docs_packed(sorted_coll):
    c = sorted_coll
    c.store_multi(DOCS)
    out = bytearray(512)
    res = c.list_docs_packed(start_id=3, buffer=out, count=5, filter="")
    assert res == [(3, len(DOCS[3])), (4, len(DOCS[4]))]
    assert bytes(out[:res[0][1] + res[1][1]]) == (DOCS[3] + DOCS[4]).encode()


def test_iter(sorted_coll):
    c = sorted_coll
    c.store_multi(DOCS)
    seen = []
    c.iter(callback=lambda i, doc_id, doc: seen.append((i, doc_id, bytes(doc))), from_id=1, filter="",
           count=3, mode=0, batch_size=2)
    assert seen == [(0, 1, DOCS[1].encode()), (1, 2, DOCS[2].encode()), (2, 3, DOCS[3].encode())]
    seen.clear()
    c.iter(lambda i, d, doc: seen.append(d))
    assert seen == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("backend", ["set", "unordered_set"])
def test_collections_on_sets(serve, backend):
    """Sets store keys only, so they cannot hold documents: that should read as an
    unsupported operation (13), not as a bad argument."""
    s = serve(backend)
    with pytest.raises(YokanException) as ei:
        s.db.create_collection("c")
    assert ei.value.code == 13, repr(ei.value)

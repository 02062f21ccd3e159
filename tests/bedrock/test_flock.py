"""mochi.flock: views, the provider (view, self, file, join bootstraps) and group handles."""

import json

import pytest

from bedrock_helpers import engine  # noqa: F401 (fixtures)
from bedrock_helpers import TCP

import mochi.margo
from mochi.flock.client import Client, FlockException
from mochi.flock.server import Provider
from mochi.flock.view import GroupView


def test_group_view():
    v = GroupView()
    v.members.add("a", 1)
    v.members.add("b", 2)
    v.members.add("a", 1)
    assert len(v.members) == 2 and ("a", 1) in v.members and v.members.exists("b", 2)
    v.metadata.add("k", "v")
    with v.locked():
        v.members.remove("b", 2)
    assert len(v.members) == 1 and v.metadata["k"] == "v"
    w = GroupView.from_json(v.to_json())
    assert [tuple(m) for m in w.members] == [("a", 1)]


def test_provider_and_handles(engine, tmp_path):
    view = GroupView()
    view.members.add(str(engine.address), 5)
    gf = tmp_path / "g.flock"
    p = Provider(engine, 5, json.dumps({"file": str(gf)}), view)
    assert json.loads(gf.read_text())["members"][0]["address"] == str(engine.address)
    assert p.view.members[0].provider_id == 5
    c = Client(engine)
    h = c.make_group_handle(engine.address, 5)
    assert [tuple(m) for m in h.view.members] == [(str(engine.address), 5)]
    h2 = c.make_group_handle_from_file(str(gf))
    h2.update()
    assert len(h2.view.members) == 1
    h3 = c.make_group_handle_from_serialized(view.to_json())
    h3.update()
    assert h3.view.metadata["__type__"] == "static"
    with pytest.raises(FlockException):
        Provider(engine, 6, '{"bootstrap": "weird"}')
    with pytest.raises(FlockException):
        Provider(engine, 6, '{"colour": 1}', view)


def test_join_centralized_group(tmp_path):
    gf = tmp_path / "group.flock"
    cfg = {"bootstrap": ["join", "self"], "file": str(gf), "group": {"type": "centralized"}}
    engines = [mochi.margo.Engine(TCP, mochi.margo.server) for _ in range(3)]
    try:
        providers = [Provider(e, 3, json.dumps(cfg)) for e in engines]  # first: self, others: join
        members = json.loads(gf.read_text())["members"]
        assert [m["address"] for m in members] == [str(e.address) for e in engines]
        for p in providers:
            assert len(p.view.members) == 3
        # "file" bootstrap: this process must be listed
        with pytest.raises(FlockException, match="not listed"):
            Provider(engines[0], 9, json.dumps({"bootstrap": "file", "file": str(gf)}))
        del providers
    finally:
        for e in engines:
            e.finalize()


def test_join_static_group_is_refused(engine, tmp_path):
    gf = tmp_path / "static.flock"
    keep = Provider(engine, 1, json.dumps({"bootstrap": "self", "file": str(gf)}))  # noqa: F841
    other = mochi.margo.Engine(TCP, mochi.margo.server)
    try:
        with pytest.raises(FlockException, match="static"):
            Provider(other, 1, json.dumps({"bootstrap": "join", "file": str(gf)}))
    finally:
        other.finalize()

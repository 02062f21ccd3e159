"""mochi.flock: views, the provider (view, self, file, join bootstraps) and group handles."""

import json
import os
import signal
import time

import pytest

from bedrock_helpers import bedrock_process, engine  # noqa: F401 (fixtures)
from bedrock_helpers import MPIRUN, TCP, wait_until

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


# ---------------------------------------------------------------------------- swim groups

def _swim(period_ms, suspect_periods, **extra):
    return {"type": "swim", "config": {"period_length_ms": period_ms,
                                       "suspect_timeout_periods": suspect_periods, **extra}}


def test_swim_config_defaults_and_errors(engine):
    view = GroupView()
    view.members.add(str(engine.address), 4)
    p = Provider(engine, 4, json.dumps({"group": _swim(200, 2)}), view)
    assert p.config["group"]["config"] == {"period_length_ms": 200, "suspect_timeout_periods": 2,
                                           "subgroup_member_count": 3, "ping_timeout_ms": 50,
                                           "disabled": False}
    del p
    for bad, key in [({"period_length_ms": -1}, "period_length_ms"),
                     ({"suspect_timeout_periods": "5"}, "suspect_timeout_periods"),
                     ({"ping_timeout_ms": 900}, "ping_timeout_ms"),
                     ({"disabled": 1}, "disabled"),
                     ({"gossip": 3}, "gossip")]:
        with pytest.raises(FlockException, match=f"group.config.{key}"):
            Provider(engine, 4, json.dumps({"group": {"type": "swim", "config": bad}}), view)


def test_swim_group_drops_a_finalized_member(tmp_path):
    gf = tmp_path / "swim.flock"
    period, suspect = 100, 3
    cfg = json.dumps({"file": str(gf), "group": _swim(period, suspect)})
    engines = [mochi.margo.Engine(TCP, mochi.margo.server) for _ in range(3)]
    try:
        view = GroupView()
        for e in engines:
            view.members.add(str(e.address), 2)
        providers = [Provider(e, 2, cfg, view) for e in engines]
        dead = str(engines[2].address)
        handle = Client(engines[0]).make_group_handle_from_file(str(gf))
        assert len(handle.view.members) == 3
        t0 = time.monotonic()
        engines[2].finalize()

        def dropped():
            return all(dead not in [m.address for m in p.view.members] for p in providers[:2])

        assert wait_until(dropped, 10.0), [len(p.view.members) for p in providers]
        took = time.monotonic() - t0
        print(f"swim: finalized member left both views after {took:.2f} s "
              f"(period {period} ms, suspect_timeout_periods {suspect})")
        # about (suspect + 1) periods after the first failed probe, which comes within 2 periods
        assert took < (suspect + 4) * period / 1000 + 3.0, took
        assert wait_until(lambda: len(json.loads(gf.read_text())["members"]) == 2, 5.0)
        assert dead not in [m["address"] for m in json.loads(gf.read_text())["members"]]
        handle.update()
        assert sorted(m.address for m in handle.view.members) == sorted(str(e.address) for e in engines[:2])
        del providers
    finally:
        for e in engines:
            e.finalize()


@pytest.mark.skipif(MPIRUN is None, reason="mpirun not found")
def test_swim_group_under_mpirun_drops_a_killed_rank(bedrock_process, engine):
    from mochi.bedrock.client import Client as BedrockClient

    period, suspect, n = 200, 3, 3
    config = {"providers": [
        {"name": "group", "type": "flock", "provider_id": 1,
         "config": {"bootstrap": "mpi", "file": "group.flock", "group": _swim(period, suspect)}},
    ]}
    p = bedrock_process(config, nprocs=n, mpi_args=("-disable-auto-cleanup",))
    addrs = p.addresses()
    gf = p.workdir / "group.flock"
    assert wait_until(lambda: gf.exists() and len(json.loads(gf.read_text())["members"]) == n, 30)
    handle = Client(engine).make_group_handle_from_file(str(gf))
    assert [m.address for m in handle.view.members] == addrs
    # A few periods of probing: nobody is removed while everybody is up (startup included).
    time.sleep((suspect + 2) * period / 1000)
    assert len(json.loads(gf.read_text())["members"]) == n, p.output()
    pids = p.rank_pids()
    assert len(pids) == n
    # Kill rank 0: the file writer. Rank 1 becomes the first member and must rewrite the file.
    by_rank = {}
    for pid in pids:
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = dict(kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv)
        rank = env.get(b"PMI_RANK", env.get(b"OMPI_COMM_WORLD_RANK"))
        by_rank[int(rank)] = pid
    t0 = time.monotonic()
    os.kill(by_rank[0], signal.SIGKILL)

    def file_members():
        try:
            return [m["address"] for m in json.loads(gf.read_text())["members"]]
        except (OSError, ValueError):
            return None

    assert wait_until(lambda: file_members() == addrs[1:], 15.0), (file_members(), p.output())
    took = time.monotonic() - t0
    print(f"swim under mpirun: killed rank 0 left the group file after {took:.2f} s "
          f"(period {period} ms, suspect_timeout_periods {suspect})")
    assert took < (suspect + n + 2) * period / 1000 + 5.0, took
    handle.update()
    assert [m.address for m in handle.view.members] == addrs[1:]
    # the survivors keep serving
    bc = BedrockClient(engine)
    for rank in (1, 2):
        assert bc.make_service_handle(addrs[rank], timeout=5000).query("return $__rank__;") == rank
    p.kill()

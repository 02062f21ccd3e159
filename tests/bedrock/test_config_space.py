"""ConfigSpace support: space()/from_config() of mochi.bedrock.spec, YokanSpaceBuilder and
WarabiSpaceBuilder. Sampled process configs must be valid bedrock configs: a few are started."""

import json
import os
import subprocess
import sys

import pytest

from bedrock_helpers import PYTHON_DIR, subprocess_env

ConfigSpace = pytest.importorskip("ConfigSpace")

from mochi.bedrock import spec  # noqa: E402
from mochi.bedrock.spec import (  # noqa: E402
    ArgobotsSpec, MargoSpec, MercurySpec, PoolSpec, ProcSpec, ProviderConfigSpaceBuilder, ProviderSpec,
    SchedulerSpec, XstreamSpec)
from mochi.yokan.backends import available_backends  # noqa: E402
from mochi.yokan.config_space import YokanSpaceBuilder  # noqa: E402
from mochi.warabi.config_space import WarabiSpaceBuilder  # noqa: E402

SEED = 1234
PERSISTENT_YOKAN = {"rocksdb", "leveldb", "lmdb", "log"}


def sample(space, n):
    space.seed(SEED)
    return [space.sample_configuration()] if n == 1 else space.sample_configuration(n)


def check_margo(d):
    """Checks the margo section the way kinako's engine does (src/margo/config.cpp)."""
    abt = d["argobots"]
    pools = [p["name"] for p in abt["pools"]]
    assert len(set(pools)) == len(pools) and pools
    for p in abt["pools"]:
        assert p["kind"] in spec.POOL_KINDS and p["access"] == "mpmc"
    served = set()
    names = [x["name"] for x in abt["xstreams"]]
    assert names[0] == "__primary__" and len(set(names)) == len(names)
    for x in abt["xstreams"]:
        assert x["scheduler"]["type"] in spec.SCHEDULER_TYPES
        assert x["scheduler"]["pools"], x
        assert set(x["scheduler"]["pools"]) <= set(pools)
        served |= set(x["scheduler"]["pools"])
    assert served == set(pools)  # no pool is left without an xstream
    assert d["rpc_pool"] in pools and d["progress_pool"] in pools
    return pools


def proc_space(tmp_path, **kw):
    for d in ("y1", "y2", "w"):  # warabi file targets need an existing directory
        (tmp_path / d).mkdir(exist_ok=True)
    yokan = YokanSpaceBuilder(paths=[str(tmp_path / "y1"), str(tmp_path / "y2")], tags=["kv"],
                              need_sorted_db=False)
    warabi = WarabiSpaceBuilder(paths=[str(tmp_path / "w")], pipeline_num_pools=(1, 3),
                                pipeline_num_buffers_per_pool=[2, 4], pipeline_first_buffer_size=(4096, 65536),
                                pipeline_buffer_size_multiplier=(1.5, 3.0))
    return ProcSpec.space(provider_space_factories=[{"family": "db", "builder": yokan, "count": (1, 3)},
                                                    {"family": "blobs", "builder": warabi, "count": (0, 2)}], **kw)


def test_small_spaces_round_trip():
    cfg = PoolSpec.space().sample_configuration()
    assert PoolSpec.from_config("p", cfg).kind in spec.POOL_KINDS
    assert list(PoolSpec.space(pool_kinds="prio_wait")) == ["kind"]
    for c in sample(SchedulerSpec.space(max_num_pools=3), 20):
        s = SchedulerSpec.from_config(["a", "b", "c"], c)
        assert s.pools and set(s.pools) <= {"a", "b", "c"}
    x = XstreamSpec.from_config("xs", [PoolSpec("a")], XstreamSpec.space().sample_configuration())
    assert x.name == "xs" and x.scheduler.pools == ["a"]
    hg = MercurySpec.space(eager_size=(4096, 1 << 20), na_no_block=[True, False])
    m = MercurySpec.from_config(hg.sample_configuration(), address="na+sm")
    assert 4096 <= m.extra["eager_size"] <= 1 << 20 and isinstance(m.extra["na_no_block"], bool)
    assert len(list(MercurySpec.space())) == 0


def test_argobots_and_margo_spaces():
    space = ArgobotsSpec.space(num_pools=(1, 4), num_xstreams=(1, 3))
    assert space["num_pools"].lower == 1 and space["num_pools"].upper == 4
    counts = set()
    for c in sample(space, 60):
        a = ArgobotsSpec.from_config(c)
        d = {"argobots": a.to_dict(), "rpc_pool": a.pools[0].name, "progress_pool": a.pools[0].name}
        check_margo(d)
        counts.add((len(a.pools), len(a.xstreams)))
    assert len(counts) > 4  # both counts really vary
    space = MargoSpec.space(num_pools=(2, 3), num_xstreams=2, handle_cache_size=(8, 64), scheduler_types=["basic_wait"])
    for c in sample(space, 40):
        m = MargoSpec.from_config(c, address="na+sm")
        d = m.to_dict()
        check_margo(d)
        assert 8 <= d["handle_cache_size"] <= 64 and d["mercury"]["address"] == "na+sm"
        assert MargoSpec.from_dict(d).to_dict() == d


def test_proc_space_samples_are_valid(tmp_path):
    space = proc_space(tmp_path, num_pools=(1, 3), num_xstreams=(1, 2))
    assert "providers.db.num_providers" in space and "providers.blobs[1].tm.pipeline.num_pools" in space
    yokan_types, warabi_types, tms = set(), set(), set()
    for c in sample(space, 150):
        p = ProcSpec.from_config(c, address="na+sm")
        d = json.loads(p.to_json())
        pools = check_margo(d["margo"])
        assert ProcSpec.from_dict(d).to_dict() == d
        ids = [x["provider_id"] for x in d["providers"]]
        names = [x["name"] for x in d["providers"]]
        assert ids == list(range(1, len(ids) + 1)) and len(set(names)) == len(names)
        assert 1 <= sum(n.startswith("db_") for n in names) <= 3
        assert sum(n.startswith("blobs_") for n in names) <= 2
        for prov in d["providers"]:
            assert prov["dependencies"]["pool"] in pools
            if prov["type"] == "yokan":
                assert prov["tags"] == ["kv"]
                db = prov["config"]["database"]
                assert db["type"] in available_backends
                yokan_types.add(db["type"])
                if db["type"] in PERSISTENT_YOKAN:
                    assert db["config"]["path"] in (str(tmp_path / "y1" / prov["name"]),
                                                    str(tmp_path / "y2" / prov["name"]))
                else:
                    assert "path" not in db["config"]
            else:
                t, tm = prov["config"]["target"], prov["config"]["transfer_manager"]
                warabi_types.add(t["type"])
                tms.add(tm["type"])
                if t["type"] == "memory":
                    assert t["config"] == {}
                else:
                    assert t["config"]["path"] == str(tmp_path / "w" / f"{prov['name']}.{t['type']}")
                if tm["type"] == "pipeline":
                    c2 = tm["config"]
                    assert sorted(c2) == sorted(["num_pools", "num_buffers_per_pool", "first_buffer_size",
                                                 "buffer_size_multiplier"])
                    assert 1 <= c2["num_pools"] <= 3 and c2["num_buffers_per_pool"] in (2, 4)
                    assert 4096 <= c2["first_buffer_size"] <= 65536 and 1.5 <= c2["buffer_size_multiplier"] <= 3.0
                else:
                    assert tm["config"] == {}
    assert warabi_types == {"memory", "abtio", "pmdk"} and tms == {"__default__", "pipeline"}
    assert len(yokan_types) >= 4


def test_sampled_configs_start_servers(tmp_path):
    from mochi.bedrock.server import Server

    # Waiting pools and schedulers only: spinning xstreams would eat the test machine's cores.
    space = proc_space(tmp_path, num_pools=(1, 2), num_xstreams=(1, 2), pool_kinds=["fifo_wait", "prio_wait"],
                       scheduler_types=["basic_wait"])
    space.seed(7)
    for c in space.sample_configuration(4):
        p = ProcSpec.from_config(c)
        s = Server("na+sm", config=p.to_json())
        try:
            for prov in p.providers:
                got = s.providers[prov.name]
                assert (got.type, got.provider_id) == (prov.type, prov.provider_id)
            running = {x["name"]: x for x in s.config["providers"]}
            for prov in p.providers:
                assert running[prov.name]["dependencies"]["pool"] == prov.dependencies["pool"]
                if prov.type == "yokan":
                    assert running[prov.name]["config"]["database"]["type"] == prov.config["database"]["type"]
                else:
                    assert running[prov.name]["config"]["transfer_manager"]["type"] == \
                        prov.config["transfer_manager"]["type"]
            pools = [x["name"] for x in s.config["margo"]["argobots"]["pools"]]
            assert [x.name for x in p.margo.argobots.pools] == pools[:len(p.margo.argobots.pools)]
        finally:
            s.finalize()


def test_file_backed_providers_start(tmp_path):
    from mochi.bedrock.server import Server

    log = YokanSpaceBuilder(types=["log"], paths=[str(tmp_path)], need_keyval=False)
    pmdk = WarabiSpaceBuilder(types=["pmdk"], paths=[str(tmp_path)], transfer_managers="pipeline")
    space = ProcSpec.space(scheduler_types=["basic_wait"], pool_kinds="fifo_wait",
                           provider_space_factories=[{"family": "docs", "builder": log},
                                                     {"family": "blobs", "builder": pmdk}])
    p = ProcSpec.from_config(sample(space, 1)[0])
    s = Server("na+sm", config=p.to_dict())
    try:
        assert s.providers["docs_0"].type == "yokan" and s.providers["blobs_0"].type == "warabi"
    finally:
        s.finalize()
    assert (tmp_path / "docs_0").is_dir() and (tmp_path / "blobs_0.pmdk").is_file()


def test_backend_hyperparameters(tmp_path):
    b = YokanSpaceBuilder(types=["unordered_map", "map"], need_sorted_db=False,
                          backend_hyperparameters={"unordered_map": {"initial_bucket_count": (16, 4096)},
                                                   "map": {"use_lock": [True, False]}})
    space = ProcSpec.space(provider_space_factories=[{"family": "db", "builder": b}])
    assert space["providers.db[0].unordered_map.initial_bucket_count"].log
    for c in sample(space, 30):
        cfg = ProcSpec.from_config(c).providers[0].config["database"]
        if cfg["type"] == "unordered_map":
            assert set(cfg["config"]) == {"initial_bucket_count"}
            assert 16 <= cfg["config"]["initial_bucket_count"] <= 4096
        else:
            assert set(cfg["config"]) == {"use_lock"}


def test_provider_space_alone_and_custom_builder():
    b = YokanSpaceBuilder(types=["map"])
    c = ProviderSpec.space(b, num_pools=(1, 3)).sample_configuration()
    p = ProviderSpec.from_config("kv", 9, c, pools=["a", "b", "c"])
    assert p.type == "yokan" and p.provider_id == 9 and p.dependencies["pool"] in ("a", "b", "c")
    assert p.config == {"database": {"type": "map", "config": {}}}

    class Sample(ProviderConfigSpaceBuilder):  # upstream-style builder, made with plain ConfigSpace objects
        def set_provider_hyperparameters(self, configuration_space):
            configuration_space.add(ConfigSpace.Integer("x", (0, 9)))
            configuration_space.add(spec.CategoricalChoice("pool", configuration_space["margo.argobots.num_pools"]))

        def resolve_to_provider_spec(self, name, provider_id, config, prefix):
            return ProviderSpec(name=name, type="yokan", provider_id=provider_id,
                                config={"database": {"type": "map"}, "x": int(config[prefix + "x"])},
                                dependencies={"pool": int(config[prefix + "pool"])})

    space = ProcSpec.space(num_pools=(1, 3),
                           provider_space_factories=[{"family": "s", "builder": Sample(), "count": 2}])
    for c in sample(space, 30):
        p = ProcSpec.from_config(c)
        assert [x.name for x in p.providers] == ["s_0", "s_1"]
        assert all(x.dependencies["pool"] in [q.name for q in p.margo.argobots.pools] for x in p.providers)
    # the factories can be handed over explicitly, e.g. when the space was nested in another one
    outer = ConfigSpace.ConfigurationSpace()
    outer.add_configuration_space("proc", space, delimiter=".")
    c = outer.sample_configuration()
    with pytest.raises(ValueError, match="provider_space_factories"):
        ProcSpec.from_config(c, prefix="proc.")
    p = ProcSpec.from_config(c, prefix="proc.", provider_space_factories=[{"family": "s", "builder": Sample(),
                                                                            "count": 2}])
    assert len(p.providers) == 2


@pytest.mark.parametrize("call, error", [
    (lambda: ArgobotsSpec.space(num_pools=(3, 1)), "empty range"),
    (lambda: ArgobotsSpec.space(num_pools=0), "minimum"),
    (lambda: ArgobotsSpec.space(num_xstreams=(0, 2)), "minimum"),
    (lambda: ArgobotsSpec.space(num_pools=[1, 2]), "tuple"),
    (lambda: PoolSpec.space(pool_kinds=["fifo_wait", "lifo"]), "unknown value 'lifo'"),
    (lambda: SchedulerSpec.space(scheduler_types=[]), "at least one"),
    (lambda: SchedulerSpec.space(max_num_pools=2, pool_association_weights=(1.0, -1.0)), "empty range"),
    (lambda: MargoSpec.space(progress_timeout_ub_msec=(0, 10)), "minimum"),
    (lambda: MercurySpec.space(eager_size=(16, 64)), "minimum"),
    (lambda: ProcSpec.space(provider_space_factories=[{"family": "a", "builder": YokanSpaceBuilder(),
                                                       "count": (2, 1)}]),
     "empty range"),
    (lambda: ProcSpec.space(provider_space_factories=[{"family": "a", "builder": YokanSpaceBuilder()},
                                                      {"family": "a", "builder": YokanSpaceBuilder()}]), "duplicate"),
    (lambda: ProcSpec.space(provider_space_factories=[{"family": "a-b", "builder": YokanSpaceBuilder()}]),
     "not a valid name"),
    (lambda: ProcSpec.space(provider_space_factories=[{"family": "a"}]), "builder"),
    (lambda: YokanSpaceBuilder(types=["map", "nosuchdb"]), "unknown backend type 'nosuchdb'"),
    (lambda: YokanSpaceBuilder(types=[]), "empty"),
    (lambda: YokanSpaceBuilder(types=["rocksdb"]), "needs paths"),
    (lambda: YokanSpaceBuilder(need_persistence=True), "paths"),
    (lambda: YokanSpaceBuilder(types=["set"]), "requirements"),
    (lambda: YokanSpaceBuilder(backend_hyperparameters={"map": {"nope": 1}}), "no tunable key"),
    (lambda: YokanSpaceBuilder(types=["map"], backend_hyperparameters={"map": {"use_lock": 3}}), "not a boolean"),
    (lambda: WarabiSpaceBuilder(types=["memory", "tape"]), "unknown target type 'tape'"),
    (lambda: WarabiSpaceBuilder(types=["abtio"]), "needs paths"),
    (lambda: WarabiSpaceBuilder(transfer_managers=["fast"]), "unknown transfer manager"),
    (lambda: WarabiSpaceBuilder(pipeline_num_pools=(0, 4)), "minimum"),
    (lambda: WarabiSpaceBuilder(pipeline_num_pools=(1, 65)), "maximum"),
    (lambda: WarabiSpaceBuilder(pipeline_buffer_size_multiplier=1), "minimum"),
    (lambda: WarabiSpaceBuilder(pipeline_first_buffer_size=(1 << 20, 1 << 30), pipeline_num_pools=8), "16 GiB"),
    (lambda: WarabiSpaceBuilder(initial_size=1024), "initial_size"),
])
def test_errors(call, error):
    with pytest.raises(ValueError, match=error):
        call()


def test_type_errors():
    with pytest.raises(TypeError, match="unexpected keyword"):
        MargoSpec.space(num_pool=2)
    with pytest.raises(TypeError, match="unknown mercury parameter"):
        MercurySpec.space(input_eager_size=4096)
    with pytest.raises(TypeError, match="not a provider space builder"):
        ProcSpec.space(provider_space_factories=[{"family": "a", "builder": object()}])


def test_module_imports_without_configspace():
    code = ("import sys; sys.modules['ConfigSpace'] = None\n"
            "from mochi.bedrock import spec\n"
            "p = spec.ProcSpec.from_json(spec.ProcSpec(margo='na+sm').to_json())\n"
            "for f in (spec.ProcSpec.space, lambda: __import__('mochi.warabi.config_space')):\n"
            "    try:\n"
            "        f()\n"
            "    except ImportError as e:\n"
            "        assert 'pip install ConfigSpace' in str(e), e\n"
            "    else:\n"
            "        raise SystemExit('no ImportError')\n"
            "print('ok')\n")
    env = subprocess_env()
    env["PYTHONPATH"] = os.pathsep.join([str(PYTHON_DIR), env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr

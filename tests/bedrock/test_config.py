"""Config processing through the Python Server: valid configs, their echo, and errors."""

import json

import pytest

from bedrock_helpers import engine  # noqa: F401 (fixtures)
from bedrock_helpers import SAMPLE_LIB, TCP

from mochi.bedrock.server import BedrockException, Server

import pybedrock_server

MAP = {"database": {"type": "map"}}


def start(cfg):
    return Server(TCP, cfg)


def error_of(cfg):
    with pytest.raises(BedrockException) as info:
        s = start(cfg)
        s.finalize()
    return str(info.value)


def test_empty_config_echo_has_four_sections():
    s = start("{}")
    try:
        cfg = s.config
        assert set(cfg) == {"margo", "bedrock", "libraries", "providers"}
        assert cfg["bedrock"] == {"pool": "__primary__", "provider_id": 0, "dependency_resolution_timeout": 30.0}
        assert cfg["libraries"] == [] and cfg["providers"] == []
        assert "argobots" in cfg["margo"]
        assert cfg["margo"]["mercury"]["address"].startswith("ofi+tcp://127.0.0.1:")
    finally:
        s.finalize()


def test_provider_echo_and_auto_ids():
    s = start({"providers": [
        {"name": "a", "type": "yokan", "config": MAP, "tags": ["x"]},
        {"name": "b", "type": "yokan", "provider_id": 1, "config": MAP},
        {"name": "c", "type": "yokan", "config": MAP, "dependencies": {"pool": "__primary__"}}]})
    try:
        provs = {p["name"]: p for p in s.config["providers"]}
        assert set(provs["a"]) == {"config", "dependencies", "engine", "name", "provider_id", "tags", "type"}
        assert provs["b"]["provider_id"] == 1
        # auto ids skip bedrock's own id (0) and the ids already taken
        assert provs["a"]["provider_id"] == 2 and provs["c"]["provider_id"] == 3
        assert provs["a"]["tags"] == ["x"]
        assert provs["c"]["dependencies"] == {"pool": "__primary__"}
        assert provs["a"]["config"]["database"]["type"] == "map"
    finally:
        s.finalize()


def test_if_filtering_dotted_keys_and_libraries_forms():
    s = start({"libraries": "libyokan-bedrock-module.so",
               "providers": [{"name": "gone", "type": "yokan", "__if__": False},
                             {"name": "kept", "type": "yokan", "__if__": "$__rank__ == 0",
                              "config.database.type": "map"}]})
    try:
        cfg = s.config
        assert [p["name"] for p in cfg["providers"]] == ["kept"]
        assert cfg["providers"][0]["config"]["database"]["type"] == "map"
        assert cfg["libraries"] == ["libyokan-bedrock-module.so"]
    finally:
        s.finalize()


def test_rank_indexed_arrays_preprocessing():
    cfg = [{"providers": [{"name": "r0", "type": "yokan"}]}, {"providers": [{"name": "r1", "type": "yokan"}]}]
    out = json.loads(pybedrock_server.preprocess_config(json.dumps(cfg), 1, 2))
    assert out["providers"][0]["name"] == "r1"
    one = json.loads(pybedrock_server.preprocess_config(json.dumps(cfg[:1])))
    assert one["providers"][0]["name"] == "r0"


def test_margo_array_of_engines():
    s = start({"margo": [{}, {"mercury": {"address": TCP}}],
               "providers": [{"name": "on1", "type": "yokan", "engine": 1, "config": MAP}]})
    try:
        cfg = s.config
        assert isinstance(cfg["margo"], list) and len(cfg["margo"]) == 2
        assert cfg["providers"][0]["engine"] == 1
        assert s.margo.num_engines == 2
    finally:
        s.finalize()


@pytest.mark.parametrize("cfg, needles", [
    ('{"providers": [', ["invalid JSON"]),
    ({"providers": {}}, ["providers", "{}"]),
    ({"providers": [{"type": "yokan"}]}, ["providers[0]", "name"]),
    ({"providers": [{"name": "9x", "type": "yokan"}]}, ["providers[0].name", '"9x"']),
    ({"providers": [{"name": "a", "type": "yokan", "provider_id": "abc"}]}, ["providers[0].provider_id", '"abc"']),
    ({"providers": [{"name": "a", "type": "yokan", "provider_id": 70000}]}, ["providers[0].provider_id", "70000"]),
    ({"providers": [{"name": "a", "type": "yokan"}, {"name": "a", "type": "yokan"}]}, ["providers[1].name", "duplicate"]),
    ({"providers": [{"name": "a", "type": "yokan", "provider_id": 4}, {"name": "b", "type": "yokan", "provider_id": 4}]},
     ["providers[1].provider_id", "duplicate"]),
    ({"providers": [{"name": "a", "type": "yokan", "provider_id": 0}]}, ["providers[0].provider_id", "bedrock"]),
    ({"providers": [{"name": "a", "type": "nosuchtype"}]}, ["providers[0].type", "nosuchtype"]),
    ({"providers": [{"name": "a", "type": "yokan", "pool": "p"}]}, ["providers[0].pool", "dependencies"]),
    ({"providers": [{"name": "a", "type": "yokan", "colour": 1}]}, ["providers[0].colour"]),
    ({"providers": [{"name": "a", "type": "yokan", "dependencies": {"pool": "nope"}}]},
     ["providers[0].dependencies.pool", '"nope"']),
    ({"providers": [{"name": "a", "type": "yokan", "dependencies": {"pool": 9}}]}, ["providers[0].dependencies.pool", "9"]),
    ({"providers": [{"name": "a", "type": "yokan", "dependencies": {"bogus": "x"}}]},
     ["providers[0].dependencies.bogus", "no such dependency"]),
    ({"providers": [{"name": "a", "type": "yokan", "config": {"database": {"type": "nosuchdb"}}}]},
     ["providers[0].config", "nosuchdb"]),
    ({"providers": [{"name": "a", "type": "yokan", "__if__": 3}]}, ["__if__", "3"]),
    ({"bedrock": {"provider_id": -1}}, ["bedrock.provider_id", "-1"]),
    ({"bedrock": {"pool": "nope"}}, ["bedrock.pool", '"nope"']),
    ({"margo": 5}, ["margo", "5"]),
    ({"margo": {"argobots": {"pools": [{"name": "p", "kind": "weird"}]}}}, ["margo", "weird"]),
    ({"libraries": ["/no/such/lib.so"]}, ["libraries[0]", "/no/such/lib.so"]),
    ({"ssg": []}, ["ssg", "flock"]),
    ({"whatever": 1}, ["whatever"]),
])
def test_invalid_configs_name_path_and_value(cfg, needles):
    msg = error_of(cfg)
    for n in needles:
        assert n in msg, msg


@pytest.mark.skipif(SAMPLE_LIB is None, reason="sample component library not built")
class TestThirdPartyComponent:
    def base(self, sample):
        return {"libraries": [SAMPLE_LIB],
                "providers": [sample, {"name": "db", "type": "yokan", "provider_id": 5, "config": MAP},
                              {"name": "db2", "type": "yokan", "provider_id": 6, "config": MAP}]}

    def test_dependencies_by_name_type_id_and_order(self):
        # "s" comes first in the list but depends on providers defined after it.
        s = start(self.base({"name": "s", "type": "sample",
                             "dependencies": {"db": "db", "extra": ["yokan:6", "db"], "pool": 0}}))
        try:
            cfg = s.config
            assert cfg["libraries"] == [SAMPLE_LIB]
            got = next(p for p in cfg["providers"] if p["name"] == "s")["config"]["received"]
            assert got["db"] == [{"name": "db", "type": "yokan", "provider_id": 5, "address": "", "local": True}]
            assert [d["name"] for d in got["extra"]] == ["db2", "db"]
            assert got["pool"][0]["name"] == "__primary__"
            with pytest.raises(BedrockException, match="depends on it"):
                del s.providers["db"]
            s.providers["s"].change_pool("__primary__")
        finally:
            s.finalize()

    def test_remote_dependency_by_address(self, engine):
        addr = str(engine.address)
        s = start(self.base({"name": "s", "type": "sample", "dependencies": {"db": f"yokan:9@{addr}"}}))
        try:
            got = next(p for p in s.config["providers"] if p["name"] == "s")["config"]["received"]
            assert got["db"][0] == {"name": "", "type": "yokan", "provider_id": 9, "address": addr, "local": False}
        finally:
            s.finalize()

    def test_remote_dependency_by_name_asks_that_server(self):
        other = start({"providers": [{"name": "far", "type": "yokan", "provider_id": 12, "config": MAP}]})
        try:
            addr = other.config["margo"]["mercury"]["address"]
            s = start(self.base({"name": "s", "type": "sample", "dependencies": {"db": f"far@{addr}"}}))
            try:
                got = next(p for p in s.config["providers"] if p["name"] == "s")["config"]["received"]
                assert got["db"][0]["provider_id"] == 12 and got["db"][0]["name"] == "far"
            finally:
                s.finalize()
        finally:
            other.finalize()

    @pytest.mark.parametrize("deps, needles", [
        ({}, ["providers[0].dependencies.db", "missing required"]),
        ({"db": "nothere"}, ["providers[0].dependencies.db", "nothere"]),
        ({"db": ["db", "db2"]}, ["providers[0].dependencies.db", "exactly one"]),
        ({"db": "flock:1"}, ["providers[0].dependencies.db", "yokan"]),
    ])
    def test_dependency_errors(self, deps, needles):
        msg = error_of(self.base({"name": "s", "type": "sample", "dependencies": deps}))
        for n in needles:
            assert n in msg, msg

    def test_component_failure_names_provider(self):
        msg = error_of(self.base({"name": "s", "type": "sample", "config": {"fail": True},
                                  "dependencies": {"db": "db"}}))
        assert "providers[0].config" in msg and "asked to fail" in msg

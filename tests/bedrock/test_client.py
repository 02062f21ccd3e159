"""mochi.bedrock.client against an in-process Server and against the bedrock command."""

import json
import subprocess

import pytest

from bedrock_helpers import bedrock_process, engine, server  # noqa: F401 (fixtures)
from bedrock_helpers import BEDROCK, BEDROCK_QUERY, BEDROCK_SHUTDOWN, SAMPLE_LIB, TCP, running_bedrock, subprocess_env

import mochi.margo
from mochi.bedrock.client import Client, ClientException, ServiceGroupHandle, ServiceHandle
from mochi.bedrock import spec

MAP = {"database": {"type": "map"}}
CONFIG = {"providers": [{"name": "db", "type": "yokan", "provider_id": 3, "config": MAP},
                        {"name": "group", "type": "flock", "provider_id": 7,
                         "config": {"bootstrap": "self", "file": "group.flock"}}]}


def test_client_construction(engine):
    c = Client(engine)
    assert c.engine is engine and c.mid is not None
    c2 = Client("tcp")
    assert isinstance(c2.engine, mochi.margo.Engine)
    c2.finalize()
    with pytest.raises(TypeError):
        Client(3)


def test_service_handle_in_process(server, engine):
    addr = str(server.margo.engine.address)
    sh = Client(engine).make_service_handle(addr)
    assert isinstance(sh, ServiceHandle) and sh.address == addr and sh.provider_id == 0
    assert sh.config["providers"][0]["name"] == "db"
    assert isinstance(sh.spec, spec.ProcSpec)
    assert sh.query("return $__config__.providers[0].type;") == "yokan"
    with pytest.raises(ClientException):
        sh.load_module("/no/such/library.so")
    sh.load_module("libyokan-bedrock-module.so")
    sh.add_pool({"name": "p1"})
    with pytest.raises(ClientException):
        sh.add_pool('{"name": "p1"}')
    sh.add_xstream(spec.XstreamSpec(name="x1", scheduler=spec.SchedulerSpec(pools=["p1"])))
    with pytest.raises(ClientException):
        sh.add_xstream({"name": "x1", "scheduler": {"pools": ["p1"]}})
    assert "p1" in server.margo.pools and "x1" in server.margo.xstreams
    sh.remove_xstream("x1")
    sh.remove_pool("p1")
    assert "p1" not in server.margo.pools
    with pytest.raises(ClientException):
        sh.remove_pool("p1")
    pid = sh.add_provider({"name": "db2", "type": "yokan", "config": MAP})
    assert server.providers["db2"].provider_id == pid
    pid2 = sh.add_provider(spec.ProviderSpec(name="db3", type="yokan", provider_id=40, config=MAP))
    assert pid2 == 40
    assert sh.add_provider('{"name": "db4", "type": "yokan"}') not in (0, 3, pid, 40)
    with pytest.raises(ClientException, match="already exists"):
        sh.add_provider({"name": "db2", "type": "yokan"})
    assert sh.lookup_provider("db3") == {"name": "db3", "type": "yokan", "provider_id": 40}
    if SAMPLE_LIB:
        sh.load_module(SAMPLE_LIB)
        assert SAMPLE_LIB in sh.config["libraries"]
        sh.add_provider({"name": "s", "type": "sample", "dependencies": {"db": "db3"}})


def test_wrong_provider_id_is_an_error(server, engine):
    sh = Client(engine).make_service_handle(str(server.margo.engine.address), provider_id=9, timeout=2000)
    with pytest.raises(ClientException):
        sh.config


def test_group_handle_from_addresses(engine):
    from mochi.bedrock.server import Server

    servers = [Server(TCP, CONFIG | {"providers": CONFIG["providers"][:1]}) for _ in range(2)]
    try:
        addrs = [str(s.margo.engine.address) for s in servers]
        g = Client(engine).make_service_group_handle(addrs)
        assert isinstance(g, ServiceGroupHandle) and g.size == 2 and len(g) == 2
        assert g[1].address == addrs[1]
        with pytest.raises(ClientException):
            g[2]
        assert set(g.config) == set(addrs)
        assert g.query("return $__config__.providers[0].provider_id;") == {a: 3 for a in addrs}
        assert all(isinstance(v, spec.ProcSpec) for v in g.spec.values())
    finally:
        for s in servers:
            s.finalize()


def test_bedrock_command_single_process(bedrock_process, engine):
    p = bedrock_process(CONFIG, extra_args=("-o", "effective.json"))
    (addr,) = p.addresses()
    group_file = p.workdir / "group.flock"
    assert json.loads(group_file.read_text())["members"] == [{"address": addr, "provider_id": 7}]
    effective = json.loads((p.workdir / "effective.json").read_text())
    assert [x["name"] for x in effective["providers"]] == ["db", "group"]
    c = Client(engine)
    g = c.make_service_group_handle_from_flock(str(group_file))
    assert g.size == 1 and g[0].config["providers"][0]["name"] == "db"
    # bedrock-query: configs and queries, by address and by group file
    out = subprocess.run([BEDROCK_QUERY, "tcp", "-a", addr], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[addr]["providers"][0]["name"] == "db"
    out = subprocess.run([BEDROCK_QUERY, "tcp", "-f", str(group_file), "-q", "return $__config__.providers[1].type;"],
                         capture_output=True, text=True, timeout=60)
    assert json.loads(out.stdout) == {addr: "flock"}
    out = subprocess.run([BEDROCK_SHUTDOWN, "tcp", "-f", str(group_file)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert p.wait(30) == 0
    assert "Bedrock daemon stopped" in p.output()


def test_bedrock_command_stdin_sigint_and_errors(tmp_path, bedrock_process):
    with running_bedrock(["--stdin"], stdin_text=json.dumps(CONFIG | {"providers": CONFIG["providers"][:1]})):
        pass
    # a bad config: exit code 1 and an error naming the path
    bad = tmp_path / "bad.json"
    bad.write_text('{"providers":[{"name":"x","type":"yokan","provider_id":"abc"}]}')
    out = subprocess.run([BEDROCK, TCP, "-c", str(bad)], capture_output=True, text=True, timeout=60,
                         env=subprocess_env())
    assert out.returncode == 1 and "providers[0].provider_id" in out.stderr
    out = subprocess.run([BEDROCK, TCP, "-c", str(bad), "--stdin"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    out = subprocess.run([BEDROCK, TCP, "-v", "loud"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "loud" in out.stderr


TOML_CONFIG = '''
# the same service as CONFIG, in TOML
[margo.argobots]
pools = [ { name = "extra" } ]
xstreams = [ { name = "xs_extra", scheduler = { pools = ["extra"] } } ]

[[providers]]
name = "db"
type = "yokan"
provider_id = 3
tags = ["kv"]
dependencies = { pool = "extra" }
[providers.config.database]
type = "map"
'''


def test_bedrock_command_toml_config(tmp_path, engine):
    import mochi.yokan.client as yc

    cfg = tmp_path / "config.toml"
    cfg.write_text(TOML_CONFIG)
    with running_bedrock(["-c", str(cfg), "-t", "-o", str(tmp_path / "effective.json")]) as addr:
        effective = json.loads((tmp_path / "effective.json").read_text())
        (db,) = effective["providers"]
        assert (db["name"], db["provider_id"], db["tags"], db["dependencies"]) == ("db", 3, ["kv"], {"pool": "extra"})
        assert db["config"]["database"]["type"] == "map"
        assert "extra" in [p["name"] for p in effective["margo"]["argobots"]["pools"]]
        handle = yc.Client(engine).make_database_handle(engine.lookup(addr), 3)
        handle.put(b"from", b"toml")
        assert handle.exists(b"from")
    # TOML syntax errors name the file, line and column; config errors name the key
    bad = tmp_path / "bad.toml"
    bad.write_text('providers = [\n  { name = "db"\n')
    out = subprocess.run([BEDROCK, TCP, "-c", str(bad), "-t"], capture_output=True, text=True, timeout=60,
                         env=subprocess_env())
    assert out.returncode == 1 and f"{bad}:2:" in out.stderr, out.stderr
    bad.write_text('[[providers]]\nname = "x"\ntype = "yokan"\nprovider_id = "abc"\n')
    out = subprocess.run([BEDROCK, TCP, "-c", str(bad), "-t"], capture_output=True, text=True, timeout=60,
                         env=subprocess_env())
    assert out.returncode == 1 and "providers[0].provider_id" in out.stderr, out.stderr

"""Jx9 configs (`bedrock -j --jx9-context ...`) and Jx9 queries (`bedrock-query -j`), through
the real commands."""

import json
import subprocess

import pytest

from bedrock_helpers import bedrock_process, engine  # noqa: F401 (fixtures)
from bedrock_helpers import BEDROCK, BEDROCK_QUERY, MPIRUN, TCP, running_bedrock, subprocess_env, wait_until

from mochi.bedrock.client import Client

pytestmark = pytest.mark.skipif(BEDROCK is None or BEDROCK_QUERY is None, reason="the bedrock commands were not found")

# Providers built in a loop from context variables and $MPI_COMM_WORLD; a user function; "__if__"
# strings in single quotes (double quotes would interpolate $MPI_COMM_WORLD).
CONFIG_JX9 = r'''
// kinako test config: $num_dbs yokan databases named "$prefix_<rank>_<i>"
$rank = $MPI_COMM_WORLD.rank;
function database($name, $id) {
    return {
        name: $name,
        type: "yokan",
        provider_id: $id,
        tags: ["jx9", "size-" .. $MPI_COMM_WORLD.size],
        config: { database: { type: "map" } }
    };
}
$providers = [];
for ($i = 0; $i < $num_dbs; $i++) {
    $providers[] = database(sprintf("%s_%d_%d", $prefix, $rank, $i), 10 + 10 * $rank + $i);
}
if ($with_extra) {
    $providers[] = { name: "extra_{$rank}", type: "yokan", config: { database: { type: "map" } },
                     __if__: '$MPI_COMM_WORLD.rank == 0' };
}
return {
    margo: { argobots: { pools: [ { name: "__primary__", kind: "fifo_wait" } ] } },
    providers: $providers
};
'''

QUERY_JX9 = r'''
# every yokan provider as "name:id", and how many there are
$names = [];
foreach ($__config__.providers as $i, $p) {
    if ($p.type != "yokan") { continue; }
    $names[] = $p.name .. ":" .. $p.provider_id;
}
return { count: count($names), names: $names, pools: count($__config__.margo.argobots.pools) };
'''


def run_bedrock(args, **kw):
    return subprocess.run([BEDROCK, TCP, *args], capture_output=True, text=True, timeout=60, env=subprocess_env(), **kw)


def test_jx9_config_with_context(tmp_path, engine):
    import mochi.yokan.client as yc

    cfg = tmp_path / "config.jx9"
    cfg.write_text(CONFIG_JX9)
    effective_path = tmp_path / "effective.json"
    args = ["-c", str(cfg), "-j", "--jx9-context", "num_dbs=3,prefix=db,with_extra=true", "-o", str(effective_path)]
    with running_bedrock(args) as addr:
        sh = Client(engine).make_service_handle(addr)
        provs = sh.config["providers"]
        assert [(p["name"], p["provider_id"]) for p in provs] == [("db_0_0", 10), ("db_0_1", 11), ("db_0_2", 12),
                                                                    ("extra_0", provs[3]["provider_id"])]
        assert provs[0]["tags"] == ["jx9", "size-1"]
        assert provs[0]["config"]["database"]["type"] == "map"
        assert json.loads(effective_path.read_text())["providers"][1]["name"] == "db_0_1"
        # the providers are real
        db = yc.Client(engine).make_database_handle(engine.lookup(addr), 11)
        db.put(b"made", b"by jx9")
        assert db.exists(b"made")
        # Jx9 queries through the client (ServiceHandle.query)
        assert sh.query(QUERY_JX9) == {"count": 4, "names": ["db_0_0:10", "db_0_1:11", "db_0_2:12",
                                                            f"extra_0:{provs[3]['provider_id']}"], "pools": 1}
        assert sh.query("$n = 0; for ($i = 1; $i <= 10; $i++) { $n += $i; } return $n;") == 55
        # the context variables are also visible to queries and "__if__" conditions
        assert sh.query("return [$__rank__, $__size__, $prefix, $num_dbs];") == [0, 1, "db", 3]


def test_jx9_config_from_stdin_and_context_types(tmp_path, engine):
    script = r'''
        return { providers: [ { name: "typed", type: "yokan", provider_id: $id,
                                tags: [gettype($id), gettype($ratio), gettype($flag), gettype($word), $word],
                                config: { database: { type: "map" } } } ] };
    '''
    args = ["--stdin", "-j", "--jx9-context", "id=5,ratio=0.5", "--jx9-context", "flag=false,word=hello world"]
    with running_bedrock(args, stdin_text=script) as addr:
        (p,) = Client(engine).make_service_handle(addr).config["providers"]
        assert p["provider_id"] == 5
        assert p["tags"] == ["int", "float", "bool", "string", "hello world"]


def test_jx9_config_errors(tmp_path):
    bad = tmp_path / "bad.jx9"
    # a syntax error: file:line:column and the offending token
    bad.write_text('$x = 1;\n$y = [1, 2;\nreturn {};\n')
    out = run_bedrock(["-c", str(bad), "-j"])
    assert out.returncode == 1
    assert f"{bad}:2:11: syntax error" in out.stderr and "';'" in out.stderr, out.stderr
    # a runtime error: position and value
    bad.write_text('$n = "three";\nreturn { providers: range(1, $n * 2) };\n')
    out = run_bedrock(["-c", str(bad), "-j"])
    assert out.returncode == 1
    assert f"{bad}:2:33: runtime error" in out.stderr and 'string "three"' in out.stderr, out.stderr
    # an endless loop is stopped
    bad.write_text('while (true) { $i++; }\n')
    out = run_bedrock(["-c", str(bad), "-j"])
    assert out.returncode == 1 and "steps" in out.stderr, out.stderr
    # the script must return an object
    bad.write_text('$cfg = {};\n')
    out = run_bedrock(["-c", str(bad), "-j"])
    assert out.returncode == 1 and "must return an object" in out.stderr, out.stderr
    bad.write_text('return [1, 2];\n')
    out = run_bedrock(["-c", str(bad), "-j"])
    assert out.returncode == 1 and "must return an object" in out.stderr and "[1,2]" in out.stderr, out.stderr
    # the returned object goes through the usual config checks
    bad.write_text('return { providers: [ { name: "x", type: "yokan", provider_id: "abc" } ] };\n')
    out = run_bedrock(["-c", str(bad), "-j"])
    assert out.returncode == 1 and "providers[0].provider_id" in out.stderr, out.stderr
    # option misuse
    out = run_bedrock(["-c", str(bad), "-j", "-t"])
    assert out.returncode == 2 and "cannot be used together" in out.stderr
    out = run_bedrock(["-c", str(bad), "--jx9-context", "a=1"])
    assert out.returncode == 2 and "only valid with -j" in out.stderr
    out = run_bedrock(["-c", str(bad), "-j", "--jx9-context", "novalue"])
    assert out.returncode == 2 and "NAME=VALUE" in out.stderr
    out = run_bedrock(["-j"])
    assert out.returncode == 2


def test_bedrock_query_jx9_script(tmp_path):
    cfg = tmp_path / "config.jx9"
    cfg.write_text(CONFIG_JX9)
    query = tmp_path / "query.jx9"
    query.write_text(QUERY_JX9)
    with running_bedrock(["-c", str(cfg), "-j", "--jx9-context", "num_dbs=2,prefix=q,with_extra=false"]) as addr:
        out = subprocess.run([BEDROCK_QUERY, "tcp", "-a", addr, "-j", str(query)], capture_output=True, text=True,
                             timeout=60, env=subprocess_env())
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout) == {addr: {"count": 2, "names": ["q_0_0:10", "q_0_1:11"], "pools": 1}}
        # -q with loops and functions too
        script = "function sq($x) { return $x * $x; } $s = []; foreach (range(1, 3) as $v) { $s[] = sq($v); } return $s;"
        out = subprocess.run([BEDROCK_QUERY, "tcp", "-a", addr, "-q", script], capture_output=True, text=True,
                             timeout=60, env=subprocess_env())
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout) == {addr: [1, 4, 9]}
        # a bad query: non-zero exit and line:column
        query.write_text("$a = 1;\nreturn $a +;\n")
        out = subprocess.run([BEDROCK_QUERY, "tcp", "-a", addr, "-j", str(query)], capture_output=True, text=True,
                             timeout=60, env=subprocess_env())
        assert out.returncode != 0
        assert "2:12: syntax error" in out.stderr, out.stderr


@pytest.mark.skipif(MPIRUN is None, reason="mpirun not found")
def test_jx9_config_under_mpirun(bedrock_process, engine):
    p = bedrock_process(CONFIG_JX9, nprocs=2, extra_args=("-j", "--jx9-context", "num_dbs=2,prefix=m,with_extra=true"))
    addrs = p.addresses()
    c = Client(engine)
    for rank, addr in enumerate(addrs):
        names = [x["name"] for x in c.make_service_handle(addr).config["providers"]]
        expected = [f"m_{rank}_0", f"m_{rank}_1"] + (["extra_0"] if rank == 0 else [])
        assert names == expected, (rank, names)
        tags = c.make_service_handle(addr).config["providers"][0]["tags"]
        assert tags == ["jx9", "size-2"]

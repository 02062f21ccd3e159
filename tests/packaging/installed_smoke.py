"""Uses an installed kinako from nothing but its prefix; run by test_spack_recipe.py as

    python -S installed_smoke.py <site-packages dir>

with PYTHONPATH = that directory, then one holding only the recipe's Python run dependencies
(attrs, numpy), and no LD_LIBRARY_PATH. `-S` leaves the interpreter's own site-packages (where a
developer's `pip install .` of kinako lives) out of sys.path, so every kinako module must come
from the prefix. Prints one JSON line describing what it did.
"""

import json
import pathlib
import sys

SITE = pathlib.Path(sys.argv[1]).resolve()
T = 10000  # ms: generous bound for calls that are expected to succeed


def check_origin(module):
    """The module was loaded from the prefix's site-packages, not from elsewhere."""
    path = pathlib.Path(module.__file__).resolve()
    assert SITE in path.parents, f"{module.__name__} loaded from {path}, not from {SITE}"
    return str(path.relative_to(SITE))


def import_everything():
    import _pymargo
    import mochi.bedrock.client
    import mochi.bedrock.server
    import mochi.flock.client
    import mochi.margo
    import mochi.warabi.client
    import mochi.warabi.server
    import mochi.yokan.client
    import mochi.yokan.server
    import pybedrock_client
    import pymargo
    import pyyokan_client

    modules = {"mochi.margo": mochi.margo, "pymargo": pymargo, "_pymargo": _pymargo,
               "mochi.yokan.client": mochi.yokan.client, "pyyokan_client": pyyokan_client,
               "mochi.warabi.client": mochi.warabi.client, "mochi.bedrock.server": mochi.bedrock.server,
               "pybedrock_client": pybedrock_client, "mochi.flock.client": mochi.flock.client}
    assert pymargo.Engine is mochi.margo.Engine, "pymargo must alias mochi.margo"
    return {name: check_origin(m) for name, m in modules.items()}


def echo_between_two_engines():
    """An echo RPC over na+sm from a client engine to a server engine in this process."""
    from mochi.margo import Engine, client, server

    srv = Engine("na+sm", server)
    cli = Engine("na+sm", client)
    try:
        srv.register("echo", lambda handle, *args: handle.respond(list(args)))
        echo = cli.register("echo").on(cli.lookup(str(srv.addr())))
        out = echo("hello", 42, b"\x00bytes", timeout=T)
        assert out == ["hello", 42, b"\x00bytes"], out
        return str(srv.addr())
    finally:
        cli.finalize()
        srv.finalize()


def yokan_put_get():
    """put/get/exists on a Yokan provider with the in-memory map backend."""
    from mochi.margo import Engine, server
    from mochi.yokan.client import Client
    from mochi.yokan.server import Provider

    engine = Engine("na+sm", server)
    try:
        provider = Provider(engine=engine, provider_id=7, config='{"database":{"type":"map"}}')
        db = Client(engine=engine).make_database_handle(address=engine.addr(), provider_id=7)
        db.put("planet", "Neptune")
        buf = bytearray(db.length("planet"))
        db.get("planet", buf)
        assert bytes(buf) == b"Neptune", buf
        assert db.exists("planet")
        del db, provider
        return bytes(buf).decode()
    finally:
        engine.finalize()


def warabi_write_read():
    """One region written and read back through a Warabi provider on a memory target."""
    from mochi.margo import Engine, server
    from mochi.warabi.client import Client
    from mochi.warabi.server import Provider

    engine = Engine("na+sm", server)
    try:
        provider = Provider(engine=engine, provider_id=3, config={"target": {"type": "memory", "config": {}}})
        target = Client(engine=engine).make_target_handle(address=str(engine.addr()), provider_id=3)
        region = target.create_and_write(b"blob bytes", persist=True)
        back = target.read(region, offset=0, size=10)
        assert back == b"blob bytes", back
        del target, provider
        return len(back)
    finally:
        engine.finalize()


def main():
    report = {
        "modules": import_everything(),
        "echo_server": echo_between_two_engines(),
        "yokan_value": yokan_put_get(),
        "warabi_bytes": warabi_write_read(),
        "sys_path": sys.path,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()

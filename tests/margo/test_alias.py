"""pymargo is the very same package as mochi.margo; the public names of reference 1.1."""

import subprocess
import sys

from conftest import subprocess_env


def test_pymargo_is_mochi_margo():
    import mochi.margo
    import mochi.margo.core
    import pymargo
    import pymargo.bulk
    import pymargo.core
    import pymargo.logging
    from pymargo.core import Engine

    assert pymargo is mochi.margo
    assert pymargo.core is mochi.margo.core
    assert pymargo.bulk is mochi.margo.bulk
    assert pymargo.logging is mochi.margo.logging
    assert Engine is mochi.margo.core.Engine is mochi.margo.Engine
    for sub in ("core", "bulk", "logging", "serialization", "typing"):
        assert sys.modules["pymargo." + sub] is sys.modules["mochi.margo." + sub]
    assert sys.modules["pymargo"] is sys.modules["mochi.margo"]


def test_alias_when_pymargo_imported_first():
    code = (
        "import pymargo.core, pymargo\n"
        "from pymargo.core import Engine, remote\n"
        "import mochi.margo.core\n"
        "assert pymargo is mochi.margo\n"
        "assert Engine is mochi.margo.core.Engine\n"
        "assert isinstance(Engine.__new__(Engine), mochi.margo.Engine)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=subprocess_env(),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_reexports():
    import _pymargo
    import mochi.margo as m
    import mochi.margo.core as core

    for name in ["client", "server", "Engine", "Address", "Handle", "MargoInstance",
                 "MargoAddress", "MargoHandle", "remote", "provider", "on_finalize",
                 "on_prefinalize"]:
        assert hasattr(m, name), name
    assert m.MargoInstance is m.Engine
    assert m.MargoAddress is m.Address
    assert m.MargoHandle is m.Handle
    assert not hasattr(m, "MargoException")
    assert core.MargoException is _pymargo.MargoException
    assert issubclass(core.MargoException, Exception)
    assert issubclass(_pymargo.MargoTimeoutError, TimeoutError)
    assert issubclass(_pymargo.MargoTimeoutError, core.MargoException)


def test_typing_aliases():
    import mochi.margo.typing as t

    assert t.margo_instance_id is t.hg_addr_t is t.hg_bulk_t is t.margo_request
    assert t.margo_instance_id.__name__ == "PyCapsule"

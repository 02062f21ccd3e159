"""Helpers and fixtures of the spack recipe test: load the recipe with a stub `spack.package`,
and build and install kinako the way the recipe tells Spack to, once per session.

A module with its own name (conftest.py only re-exports the fixtures): other test folders do
`from conftest import ...`, which picks whichever conftest was loaded first when several folders
run in one pytest session.

Spack cannot be installed here (no registry this project reaches has it), so the recipe's own
Python is run against tests/packaging/spack_stub/spack/package.py, and its cmake_args() are fed
to the real CMake build. The dependencies are Debian's (scripts/install-deps.sh), the Python
ones PyPI's: where Spack would pass dependency prefixes in CMAKE_PREFIX_PATH, only pybind11
(not under /usr) needs one.

Environment knobs:
  KINAKO_TEST_BUILD_JOBS     parallel compile jobs of the one full build (default 2)
  KINAKO_PACKAGING_TIMEOUT   seconds allowed to the tests that wait for that build (default 1800)
"""

import importlib.metadata
import importlib.util
import itertools
import os
import pathlib
import subprocess
import sys
import types

import pytest

os.environ["FI_TCP_IFACE"] = "lo"

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
RECIPE = ROOT / "spack" / "packages" / "kinako" / "package.py"
STUB_DIR = HERE / "spack_stub"
BUILD_JOBS = os.environ.get("KINAKO_TEST_BUILD_JOBS", "2")

if str(STUB_DIR) not in sys.path:
    sys.path.insert(0, str(STUB_DIR))
import spack.package as spack_stub  # noqa: E402  (the stub, not Spack)

assert pathlib.Path(spack_stub.__file__).parent.parent == STUB_DIR, (
    f"a real spack module shadows the stub: {spack_stub.__file__}")

_module_ids = itertools.count()


def load_recipe():
    """A fresh import of package.py (its own module object, as Spack gives each package), so
    that globals Spack injects for one spec (python_platlib) do not leak into another."""
    name = f"kinako_recipe_{next(_module_ids)}"
    spec = importlib.util.spec_from_file_location(name, RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def recipe_package(python, prefix, run_tests=False):
    """The recipe's package object for kinako+python / ~python installing into `prefix`,
    with what Spack's python dependency would set up (only when python is a dependency)."""
    module = load_recipe()
    cls = module.Kinako
    pkg = cls(cls.default_spec("kinako", python=python), prefix, run_tests=run_tests)
    if pkg.spec.satisfies("+python"):
        spack_stub.setup_python_dependent_module(module, pkg.prefix)
    return module, pkg


def dependency_prefixes(pkg):
    """CMAKE_PREFIX_PATH as Spack would fill it, for the dependencies not under /usr here."""
    prefixes = []
    if pkg.spec.satisfies("+python"):
        import pybind11  # py-pybind11: <prefix>/share/cmake/pybind11

        prefixes.append(str(pathlib.Path(pybind11.get_cmake_dir()).parents[2]))
    return prefixes


def full_cmake_args(pkg):
    """What Spack passes to cmake: its standard arguments, then the recipe's cmake_args()."""
    std = spack_stub.std_cmake_args(pkg, prefix_path=dependency_prefixes(pkg))
    return std + [a for a in pkg.cmake_args() if a]  # Spack drops empty ones the same way


def run_logged(cmd, log_path, cwd=None, env=None):
    """Run `cmd`, output to `log_path`; fail the test with the log's tail if it fails."""
    with open(log_path, "wb") as log:
        proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        tail = pathlib.Path(log_path).read_text(errors="replace")[-6000:]
        pytest.fail(f"{' '.join(map(str, cmd))} failed ({proc.returncode}); {log_path}:\n{tail}")


def configure(pkg, build_dir, log_dir):
    args = full_cmake_args(pkg)
    run_logged(["cmake", "-S", str(ROOT), "-B", str(build_dir), "-G", "Unix Makefiles", *args],
               log_dir / "configure.log")
    return args


def python_run_dependencies_dir(pkg, dest):
    """A directory holding (as symlinks) the Python packages of exactly the recipe's py-* run
    dependencies, taken from this interpreter's installs: what `spack load kinako` would put on
    PYTHONPATH from the py-attrs, py-numpy... prefixes. A run dependency missing from the recipe
    is then missing here too."""
    dest = pathlib.Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for dep in pkg.dependencies():
        if not (dep.name.startswith("py-") and "run" in dep.types and dep.applies_to(pkg.spec)):
            continue
        dist = importlib.metadata.distribution(dep.name[len("py-"):])
        tops = {f.parts[0] for f in dist.files or () if len(f.parts) > 1
                and not f.parts[0].endswith((".dist-info", ".data")) and f.parts[0] != ".."}
        assert tops, f"{dep.name}: no package directories in {dist.metadata['Name']}"
        for top in tops:
            link = dest / top
            if not link.exists():
                link.symlink_to(pathlib.Path(dist.locate_file(top)))
    return dest


def clean_env(prefix, python_dirs=()):
    """The environment of a user of the installed prefix: system PATH with <prefix>/bin first,
    PYTHONPATH = the recipe's site-packages (then its run dependencies' dirs), no
    LD_LIBRARY_PATH, nothing of the build."""
    env = {
        "PATH": os.pathsep.join([str(pathlib.Path(prefix) / "bin"), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "FI_TCP_IFACE": "lo",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",  # leave the installed tree as installed
    }
    if python_dirs:
        env["PYTHONPATH"] = os.pathsep.join(str(d) for d in python_dirs)
    return env


@pytest.fixture(scope="session")
def plus_python_install(tmp_path_factory):
    """kinako+python configured with the recipe's arguments, built (the session's one full
    build) and installed into a fresh prefix. The build tree is kept apart from the prefix so
    that any path into it found in the installed files is a bug."""
    work = tmp_path_factory.mktemp("kinako-plus-python")
    prefix, build = work / "prefix", work / "build"
    module, pkg = recipe_package(python=True, prefix=prefix)
    args = configure(pkg, build, work)
    run_logged(["cmake", "--build", str(build), "-j", BUILD_JOBS], work / "build.log")
    run_logged(["cmake", "--install", str(build)], work / "install.log")
    return types.SimpleNamespace(prefix=prefix, build=build, work=work, args=args, pkg=pkg,
                                 platlib=pathlib.Path(module.python_platlib))


@pytest.fixture(scope="session")
def minus_python_configure(tmp_path_factory):
    """kinako~python configured only (no second full build): its cache and install rules."""
    work = tmp_path_factory.mktemp("kinako-minus-python")
    prefix, build = work / "prefix", work / "build"
    _, pkg = recipe_package(python=False, prefix=prefix)
    args = configure(pkg, build, work)
    return types.SimpleNamespace(prefix=prefix, build=build, work=work, args=args, pkg=pkg)

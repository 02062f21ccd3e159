"""spack/packages/kinako/package.py, exercised as far as this machine allows without Spack.

1. The recipe is imported with a stub `spack.package` (recipe_helpers.py, spack_stub/) and its
   directives are checked against what the build really needs: the Debian packages of
   scripts/install-deps.sh, the find_package()/pkg-config/find_library calls of the CMake files,
   pyproject.toml's run-time dependencies, and spack.yaml.
2. Its cmake_args() are computed for +python and ~python. +python is configured with them (and
   the install-relevant part of Spack's standard arguments), built once, installed into a fresh
   prefix and used from there with nothing of the build tree in the environment. ~python is only
   configured (a second full build would double the time): its cache and install rules are
   checked, the rules against the +python ones that were really installed.

Not covered: Spack itself (concretization, fetching, Spack-built dependencies, its compiler
wrappers and views). The dependencies here are Debian's and PyPI's.
"""

import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from recipe_helpers import (ROOT, clean_env, load_recipe, python_run_dependencies_dir,
                            recipe_package, run_logged)

# The tests that wait for the full build (several minutes) get their own, larger timeout than
# the --timeout of scripts/test.sh; the fixture's build runs inside the first of them.
BUILD_TIMEOUT = pytest.mark.timeout(int(os.environ.get("KINAKO_PACKAGING_TIMEOUT", "1800")))

COMPONENTS = ("margo", "yokan", "warabi", "flock", "bedrock")
COMMANDS = ("bedrock", "bedrock-query", "bedrock-shutdown")
# Top-level extension modules (named as the Mochi Python packages name theirs).
EXTENSIONS = ("_pymargo", "pyyokan_common", "pyyokan_client", "pyyokan_server",
              "_pywarabi_client", "_pywarabi_server", "pyflock_common", "pyflock_client",
              "pyflock_server", "pybedrock_server", "pybedrock_client")

# ------------------------------------------------------------------ dependency tables
# Each Debian package of scripts/install-deps.sh -> the Spack packages the recipe must depend on.
DEBIAN_TO_SPACK = {
    "build-essential": ("c", "cxx"),            # compilers: Spack's language virtuals
    "pkg-config": ("pkgconfig",),
    "libfabric-dev": ("libfabric",),
    "libboost-fiber-dev": ("boost",),
    "libboost-context-dev": ("boost",),
    "nlohmann-json3-dev": ("nlohmann-json",),
    "libspdlog-dev": ("spdlog",),
    "mpich": ("mpi",),
    "libmpich-dev": ("mpi",),
    "libgtest-dev": ("googletest",),
    "libxxhash-dev": ("xxhash",),
    "librocksdb-dev": ("rocksdb",),
    "liblmdb-dev": ("lmdb",),
    "libleveldb-dev": ("leveldb",),
    "libpmemobj-dev": ("pmdk",),
    "libtomlplusplus-dev": ("tomlplusplus",),
    "liblua5.4-dev": ("lua",),
}
# Deliberate gaps: Debian packages with no dependency of their own in the recipe, and why.
DEBIAN_GAPS = {
    "libfabric-bin": "fi_info & co., for diagnosing the transport; Spack's libfabric installs "
                     "its tools with the library",
    "libfmt-dev": "kinako does not look for fmt itself; spdlog's CMake package does, and "
                  "Spack's spdlog depends on fmt",
}
# Each pip package of scripts/install-deps.sh -> the Spack package, or the reason for none.
PIP_TO_SPACK = {"pybind11": "py-pybind11", "numpy": "py-numpy", "attrs": "py-attrs"}
PIP_GAPS = {
    "scikit-build-core": "pip's build backend; Spack drives CMake itself",
    "pytest": "runs the test suite, not part of an install",
    "pytest-timeout": "runs the test suite, not part of an install",
    "mpi4py": "used by the tests only (python/ never imports it)",
    "ConfigSpace": "optional autotuning extra ([project.optional-dependencies] tuning), "
                   "imported on first use only",
}
# Recipe dependencies that no list of install-deps.sh names.
RECIPE_ONLY = {
    "cmake": "the build tool (install-deps.sh assumes one)",
    "python": "the interpreter of +python (install-deps.sh uses the one it runs with)",
}
# What the CMake files look for -> the Spack package providing it (None: part of libc).
CMAKE_TO_SPACK = {
    "PkgConfig": "pkgconfig", "Boost": "boost", "nlohmann_json": "nlohmann-json",
    "spdlog": "spdlog", "Threads": None, "GTest": "googletest", "MPI": "mpi",
    "tomlplusplus": "tomlplusplus", "Python": "python", "pybind11": "py-pybind11",
    "libfabric": "libfabric", "libpmemobj": "pmdk", "lua5.4": "lua",
    "rocksdb": "rocksdb", "lmdb": "lmdb", "leveldb": "leveldb", "xxhash": "xxhash",
}


# ------------------------------------------------------------------ small readers

def bash_array(script, name):
    """The words of `NAME=( ... )` in a bash script, comments removed (they hold parentheses)."""
    words, inside = [], False
    for line in script.splitlines():
        if not inside:
            if not line.startswith(f"{name}=("):
                continue
            inside, line = True, line[len(name) + 2:]
        code = line.split("#", 1)[0]
        done = ")" in code
        words += code.split(")", 1)[0].split()
        if done:
            return words
    raise AssertionError(f"no array {name} in the script")


def recipe_dependencies(spec):
    """{name: set of dependency types} of the recipe's depends_on that apply to `spec`."""
    cls = load_recipe().Kinako
    deps = {}
    for d in cls.dependencies():
        if d.applies_to(spec):
            deps.setdefault(d.name, set()).update(d.types)
    return deps


def recipe_dependency_specs(name):
    return [d.spec for d in load_recipe().Kinako.dependencies() if d.name == name]


def spec_constraints(spec_string):
    """`boost@1.74: +fiber fabrics=a,b` -> ({'+fiber'}, {'fabrics': {'a', 'b'}})."""
    flags, values = set(), {}
    for token in spec_string.split()[1:]:
        if token[0] in "+~":
            flags.add(token)
        elif "=" in token:
            key, val = token.split("=", 1)
            values[key] = set(val.split(","))
    return flags, values


def cmake_sources(include_tests):
    """The CMake files of the build the recipe drives (bench is off in its cmake_args)."""
    files = [ROOT / "CMakeLists.txt", *sorted((ROOT / "src").rglob("CMakeLists.txt")),
             *sorted((ROOT / "src").rglob("*.cmake"))]
    if include_tests:
        files += sorted((ROOT / "tests" / "cpp").rglob("CMakeLists.txt"))
    return files


_FIND_PACKAGE = re.compile(r"^\s*find_package\(\s*(\w+)", re.M)
_PKG_MODULE = re.compile(r"^\s*pkg_(?:check|search)_modules?\(\s*\w+((?:\s+[^\s)]+)+)\)", re.M)
_FIND_LIBRARY = re.compile(r"^\s*find_library\(\s*\w+\s+(\w+)", re.M)
_LINK = re.compile(r"target_link_libraries\(([^)]*)\)", re.S)
_LINK_KEYWORDS = {"PUBLIC", "PRIVATE", "INTERFACE"}


def without_skbuild_branches(lines):
    """The lines of a CMake file minus its `if(SKBUILD)` branches (pip's wheel build, which the
    recipe does not drive). Tracks if/else/endif nesting; comments are already stripped."""
    kept, depth, skip_depth = [], 0, None
    for line in lines:
        word = line.strip().split("(", 1)[0].strip().lower()
        if word == "if":
            depth += 1
            if skip_depth is None and re.match(r"\s*if\(\s*SKBUILD\s*\)", line):
                skip_depth = depth
                continue
        elif word in ("else", "elseif") and skip_depth == depth:
            skip_depth = None
            continue
        elif word == "endif":
            depth -= 1
            if skip_depth is not None and depth < skip_depth:
                skip_depth = None
                continue
        if skip_depth is None:
            kept.append(line)
    return kept


def cmake_lookups(path):
    """What one CMake file looks for: find_package names, the first pkg-config module of each
    pkg_check_modules/pkg_search_module, find_library names, and libraries linked by bare name."""
    lines = [line.split("#", 1)[0] for line in path.read_text().splitlines()]
    text = "\n".join(without_skbuild_branches(lines))
    found = set(_FIND_PACKAGE.findall(text)) | set(_FIND_LIBRARY.findall(text))
    for args in _PKG_MODULE.findall(text):
        modules = [a for a in args.split() if a not in ("REQUIRED", "QUIET", "IMPORTED_TARGET")]
        found.add(modules[0].strip('"'))
    for args in _LINK.findall(text):
        first, *items = args.split()
        found |= {i for i in items if re.fullmatch(r"[A-Za-z][\w.+]*", i)
                  and i not in _LINK_KEYWORDS and not i.startswith("kinako")}
    return found


def simple_yaml_list(text, key):
    """The `- item` lines under `key:` in a small YAML file (PyYAML is not a project dependency)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == f"{key}:":
            indent = len(line) - len(line.lstrip())
            items = []
            for nxt in lines[i + 1:]:
                stripped = nxt.strip()
                if not stripped or stripped.startswith("#"):
                    continue
                if len(nxt) - len(nxt.lstrip()) < indent or not stripped.startswith("- "):
                    break
                items.append(stripped[2:].strip())
            return items
    raise AssertionError(f"no list {key!r}")


def args_dict(cmake_args):
    """['-DNAME:KIND=VALUE', ...] -> {NAME: VALUE}."""
    out = {}
    for a in cmake_args:
        m = re.fullmatch(r"-D([^:=]+)(?::\w+)?=(.*)", a)
        assert m, f"not a -D argument: {a!r}"
        out[m.group(1)] = m.group(2)
    return out


def install_rules(build_dir, prefix):
    """{(destination, type, file name)} of the generated cmake_install.cmake scripts, the
    destination relative to the prefix (`python` standing for the site-packages dir)."""
    rules = set()
    rule = re.compile(r'file\(INSTALL DESTINATION "([^"]*)" TYPE (\w+)(.*?)\)\s*$', re.S | re.M)
    for script in pathlib.Path(build_dir).rglob("cmake_install.cmake"):
        for dest, kind, rest in rule.findall(script.read_text()):
            dest = dest.replace("${CMAKE_INSTALL_PREFIX}", str(prefix))
            rel = os.path.relpath(dest, prefix)
            rel = re.sub(r"^lib/python\d+\.\d+/site-packages", "<python>", rel)
            files = re.findall(r'"([^"]+)"', rest.split("FILES", 1)[-1])
            rules |= {(rel, kind, pathlib.Path(f).name) for f in files}
    return rules


def wait_for_json(path, proc, timeout):
    """The JSON in `path` once it is complete, or None if `proc` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            return json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):  # not there, or half written
            time.sleep(0.05)
    return None


def elf_runpath(path):
    out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True, check=True).stdout
    m = re.search(r"\((?:RUNPATH|RPATH)\)\s+Library (?:runpath|rpath): \[(.*)\]", out)
    return m.group(1).split(":") if m else []


def ldd(path, env):
    """{library soname: resolved path or 'not found'} as the dynamic loader sees it in `env`."""
    out = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env, check=True).stdout
    libs = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+) => (not found|\S+)", line)
        if m:
            libs[m.group(1)] = m.group(2)
    return libs


# ------------------------------------------------------------------ the recipe on paper

def test_recipe_declares_the_python_variant():
    cls = load_recipe().Kinako
    variants = {d.args[0]: d.kwargs for d in cls.directives_of("variant")}
    assert "python" in variants
    assert variants["python"]["default"] is True  # `spack install kinako` gets the bindings
    extends = cls.directives_of("extends")
    assert [(d.args[0], d.when) for d in extends] == [("python", "+python")]


def test_every_debian_package_has_a_spack_counterpart():
    script = (ROOT / "scripts" / "install-deps.sh").read_text()
    debian = bash_array(script, "DEB_PACKAGES")
    assert not set(DEBIAN_TO_SPACK) & set(DEBIAN_GAPS)
    unmapped = [p for p in debian if p not in DEBIAN_TO_SPACK and p not in DEBIAN_GAPS]
    assert not unmapped, f"install-deps.sh installs {unmapped}: add them to the recipe and here"
    stale = (set(DEBIAN_TO_SPACK) | set(DEBIAN_GAPS)) - set(debian)
    assert not stale, f"no longer in install-deps.sh: {sorted(stale)}"
    # Everything the C++ build needs is needed with or without Python.
    cls = load_recipe().Kinako
    deps = recipe_dependencies(cls.default_spec("kinako", python=False))
    for deb, spack_names in DEBIAN_TO_SPACK.items():
        for name in spack_names:
            assert name in deps, f"{deb}: the recipe has no depends_on({name!r})"
            wanted = {"test"} if name == "googletest" else {"build", "link"}
            assert deps[name] & wanted, f"{name}: types {deps[name]}, expected one of {wanted}"


def test_every_pip_package_has_a_spack_counterpart():
    script = (ROOT / "scripts" / "install-deps.sh").read_text()
    pip = bash_array(script, "PIP_PACKAGES")
    unmapped = [p for p in pip if p not in PIP_TO_SPACK and p not in PIP_GAPS]
    assert not unmapped, f"install-deps.sh pip-installs {unmapped}: map them here"
    cls = load_recipe().Kinako
    with_python = recipe_dependencies(cls.default_spec("kinako", python=True))
    without = recipe_dependencies(cls.default_spec("kinako", python=False))
    for name in PIP_TO_SPACK.values():
        assert name in with_python, f"the recipe has no depends_on({name!r}, when='+python')"
        assert name not in without, f"{name} must be conditional on +python"


def test_pip_gaps_are_not_imported_by_the_packages():
    """The gaps above claim these are test-only or imported lazily: keep that true."""
    for path in (ROOT / "python").rglob("*.py"):
        for line in path.read_text().splitlines():
            for mod in ("mpi4py", "pytest"):
                assert not re.match(rf"\s*(import|from) {mod}\b", line), f"{path}: {line}"
            if re.match(r"(import|from) ConfigSpace\b", line):  # module level, not in a function
                pytest.fail(f"{path} imports ConfigSpace at module level: {line}")


def test_every_recipe_dependency_is_accounted_for():
    mapped = {n for names in DEBIAN_TO_SPACK.values() for n in names} | set(PIP_TO_SPACK.values())
    cls = load_recipe().Kinako
    names = {d.name for d in cls.dependencies()}
    extra = names - mapped - set(RECIPE_ONLY)
    assert not extra, f"recipe dependencies without an install-deps.sh counterpart: {sorted(extra)}"


def test_pyproject_dependencies_are_run_dependencies():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    cls = load_recipe().Kinako
    deps = recipe_dependencies(cls.default_spec("kinako", python=True))
    for req in project["project"]["dependencies"]:
        name = "py-" + re.match(r"[A-Za-z0-9_.-]+", req).group(0).lower().replace("_", "-")
        assert "run" in deps.get(name, set()), f"pyproject needs {req}: depends_on({name!r}, type='run')"
    for req in project["build-system"]["requires"]:
        name = re.match(r"[A-Za-z0-9_.-]+", req).group(0)
        if name in PIP_TO_SPACK:
            assert "build" in deps[PIP_TO_SPACK[name]], f"{req} is needed to build"


def test_cmake_lookups_have_recipe_dependencies():
    cls = load_recipe().Kinako
    without = recipe_dependencies(cls.default_spec("kinako", python=False))
    with_python = recipe_dependencies(cls.default_spec("kinako", python=True))
    for path in cmake_sources(include_tests=True):
        deps = with_python if "python" in path.relative_to(ROOT).parts else without
        for what in cmake_lookups(path):
            assert what in CMAKE_TO_SPACK, f"{path}: looks for {what!r}; map it here and in the recipe"
            name = CMAKE_TO_SPACK[what]
            if name is not None:
                assert name in deps, f"{path} looks for {what}: the recipe lacks depends_on({name!r})"


def test_cmake_languages_are_build_dependencies():
    project = re.search(r"project\([^)]*LANGUAGES([^)]*)\)", (ROOT / "CMakeLists.txt").read_text())
    languages = {"C": "c", "CXX": "cxx"}
    deps = recipe_dependencies(load_recipe().Kinako.default_spec("kinako", python=False))
    for lang in project.group(1).split():
        assert "build" in deps.get(languages[lang], set()), f"project() enables {lang}"


def test_dependency_variants_match_the_build():
    # find_package(Boost ... COMPONENTS fiber context)
    (boost,) = recipe_dependency_specs("boost")
    assert {"+fiber", "+context"} <= spec_constraints(boost)[0]
    # The transports of the design: tcp;ofi_rxm and shm (na+sm).
    (fabric,) = recipe_dependency_specs("libfabric")
    assert {"tcp", "rxm", "shm"} <= spec_constraints(fabric)[1]["fabrics"]


def test_cmake_args_per_variant(tmp_path):
    module, plus = recipe_package(python=True, prefix=tmp_path / "p")
    a = args_dict(plus.cmake_args())
    assert a["KINAKO_BUILD_PYTHON"] == "ON"
    assert a["KINAKO_BUILD_TESTS"] == "OFF" and a["KINAKO_BUILD_BENCH"] == "OFF"
    assert a["KINAKO_LIB_INSTALL_DIR"] == "lib"
    assert a["KINAKO_PYTHON_RPATH"] == str(tmp_path / "p" / "lib")
    # The extensions and packages go where Spack puts an extension's modules.
    assert a["KINAKO_PYTHON_INSTALL_DIR"] == module.python_platlib
    assert pathlib.Path(module.python_platlib).is_relative_to(tmp_path / "p")

    # ~python: no python dependency, so Spack defines no python_platlib; the recipe must not
    # need it (a fresh module has none, as in Spack).
    _, minus = recipe_package(python=False, prefix=tmp_path / "m")
    a = args_dict(minus.cmake_args())
    assert a["KINAKO_BUILD_PYTHON"] == "OFF"
    assert "KINAKO_PYTHON_INSTALL_DIR" not in a

    _, tested = recipe_package(python=False, prefix=tmp_path / "t", run_tests=True)
    assert args_dict(tested.cmake_args())["KINAKO_BUILD_TESTS"] == "ON"


def test_cmake_args_name_real_cache_variables(tmp_path):
    top = (ROOT / "CMakeLists.txt").read_text()
    known = set(re.findall(r"^option\((\w+)", top, re.M))
    known |= set(re.findall(r"^set\((\w+)\s[^)]*\bCACHE\b", top, re.M))
    _, pkg = recipe_package(python=True, prefix=tmp_path)
    unknown = set(args_dict(pkg.cmake_args())) - known
    assert not unknown, f"cmake_args() sets variables CMakeLists.txt does not define: {unknown}"


def test_spack_yaml_matches_the_recipe():
    env = (ROOT / "spack.yaml").read_text()
    specs = simple_yaml_list(env, "specs")
    cls = load_recipe().Kinako
    kinako = [s for s in specs if re.match(r"kinako\b", s)]
    assert kinako == ["kinako+python"], specs  # the HPC path of issue #2
    flags, _ = spec_constraints(kinako[0].replace("kinako+", "kinako +"))
    assert all(cls.has_variant(f[1:]) for f in flags)
    # Other specs pin dependencies: each must be one, and satisfy what the recipe asks of it.
    dep_names = {d.name for d in cls.dependencies()}
    for s in specs:
        if s in kinako:
            continue
        name = s.split()[0].split("@")[0]
        assert name in dep_names, f"spack.yaml pins {name}, which kinako does not depend on"
        env_flags, env_values = spec_constraints(s)
        for wanted in recipe_dependency_specs(name):
            want_flags, want_values = spec_constraints(wanted)
            assert not {"~" + f[1:] for f in want_flags if f[0] == "+"} & env_flags, (s, wanted)
            for key, vals in want_values.items():
                assert vals <= env_values.get(key, vals), f"spack.yaml {s!r} vs recipe {wanted!r}"
    # The repository the environment names holds this recipe under the namespace it declares.
    repos = simple_yaml_list(env, "repos")
    assert repos == ["./spack"]
    repo = ROOT / repos[0]
    assert re.search(r"^\s*namespace:\s*kinako\s*$", (repo / "repo.yaml").read_text(), re.M)
    assert (repo / "packages" / "kinako" / "package.py").samefile(
        ROOT / "spack" / "packages" / "kinako" / "package.py")


# ------------------------------------------------------------------ ~python: configure only

def test_minus_python_configures_without_python(minus_python_configure):
    build = minus_python_configure.build
    cache = (build / "CMakeCache.txt").read_text()
    assert "KINAKO_BUILD_PYTHON:BOOL=OFF" in cache
    # Without a python dependency nothing may look for Python or pybind11.
    assert not re.search(r"^(Python_EXECUTABLE|pybind11_DIR)[:=]", cache, re.M)
    targets = subprocess.run(["cmake", "--build", str(build), "--target", "help"],
                             capture_output=True, text=True, check=True).stdout
    for c in COMPONENTS:
        assert f"kinako-{c}" in targets
    for ext in EXTENSIONS:
        assert ext not in targets, f"~python still builds {ext}"


# ------------------------------------------------------------------ +python: built and installed

@BUILD_TIMEOUT
def test_build_uses_the_optional_dependencies(plus_python_install):
    """The recipe depends on rocksdb, lmdb, leveldb, lua, toml++ and MPI; the build only uses
    them when found, so check it did (else the recipe builds a lesser kinako, silently)."""
    log = (plus_python_install.work / "configure.log").read_text()
    for line in ("yokan: rocksdb backend enabled", "yokan: lmdb backend enabled",
                 "yokan: leveldb backend enabled", "LUA_FILTER enabled"):
        assert line in log, f"configure did not report {line!r}"
    flags = (plus_python_install.build / "src" / "bedrock" / "CMakeFiles" / "bedrock.dir"
             / "flags.make").read_text()
    assert "KINAKO_BEDROCK_WITH_MPI" in flags and "KINAKO_BEDROCK_WITH_TOML" in flags


@BUILD_TIMEOUT
def test_installed_layout(plus_python_install):
    prefix, site = plus_python_install.prefix, plus_python_install.platlib
    assert sorted(p.name for p in prefix.iterdir()) == ["bin", "include", "lib"]
    for c in COMPONENTS:
        assert (prefix / "lib" / f"libkinako-{c}.so").is_file()
    for cmd in COMMANDS:
        assert os.access(prefix / "bin" / cmd, os.X_OK)
    headers = {p.relative_to(ROOT / "include") for p in (ROOT / "include").rglob("*.hpp")}
    installed = {p.relative_to(prefix / "include") for p in (prefix / "include").rglob("*.hpp")}
    assert headers == installed
    cmake_dir = prefix / "lib" / "cmake" / "kinako"
    for name in ("kinako-config.cmake", "kinako-config-version.cmake", "kinako-targets.cmake"):
        assert (cmake_dir / name).is_file()
    # Python: the extensions and the two packages side by side in the recipe's site-packages.
    for ext in EXTENSIONS:
        assert len(list(site.glob(f"{ext}.cpython-*.so"))) == 1, ext
    assert (site / "mochi" / "margo" / "__init__.py").is_file()
    assert (site / "pymargo" / "__init__.py").is_file()
    assert not list(prefix.rglob("__pycache__"))


@BUILD_TIMEOUT
def test_installed_files_do_not_point_into_the_build(plus_python_install):
    prefix, build = plus_python_install.prefix, plus_python_install.build
    elves = [*prefix.glob("lib/*.so"), *prefix.glob("bin/*"), *plus_python_install.platlib.glob("*.so")]
    for elf in elves:
        for entry in elf_runpath(elf):
            assert str(build) not in entry and str(ROOT) not in entry, f"{elf}: RUNPATH {entry}"
    for text in (prefix / "lib" / "cmake").rglob("*.cmake"):
        content = text.read_text()
        assert str(build) not in content and str(ROOT) not in content, text


@BUILD_TIMEOUT
def test_binaries_find_kinako_libraries_through_their_rpath(plus_python_install):
    """Every installed ELF resolves libkinako-*.so into <prefix>/lib with no LD_LIBRARY_PATH:
    the extensions through the RPATH the recipe sets (KINAKO_PYTHON_RPATH), the libraries and
    commands through $ORIGIN."""
    prefix = plus_python_install.prefix
    env = clean_env(prefix)
    lib = str(prefix / "lib")
    extensions = sorted(plus_python_install.platlib.glob("*.so"))
    assert len(extensions) == len(EXTENSIONS)
    for ext in extensions:
        assert lib in elf_runpath(ext), f"{ext.name}: RUNPATH {elf_runpath(ext)}"
    for elf in [*extensions, *prefix.glob("lib/*.so"), *(prefix / "bin" / c for c in COMMANDS)]:
        libs = ldd(elf, env)
        missing = [name for name, where in libs.items() if where == "not found"]
        assert not missing, f"{elf.name}: {missing} not found"
        kinako = {name: where for name, where in libs.items() if name.startswith("libkinako-")}
        assert kinako or elf.name == "libkinako-margo.so", f"{elf.name} links no kinako library?"
        for name, where in kinako.items():  # bin/../lib for the commands: normalize
            assert os.path.dirname(os.path.normpath(where)) == lib, f"{elf.name}: {name} -> {where}"


@BUILD_TIMEOUT
def test_python_modules_work_from_the_prefix_alone(plus_python_install, tmp_path):
    """`python -S` (no site-packages of the interpreter) with PYTHONPATH = the recipe's
    site-packages, then the recipe's py-* run dependencies (as Spack would add them)."""
    site = plus_python_install.platlib
    deps = python_run_dependencies_dir(plus_python_install.pkg, tmp_path / "run-deps")
    # A copy: a script's own folder goes first on sys.path, and this one is in the source tree.
    script = tmp_path / "installed_smoke.py"
    shutil.copy(pathlib.Path(__file__).parent / "installed_smoke.py", script)
    proc = subprocess.run([sys.executable, "-S", str(script), str(site)],
                          capture_output=True, text=True, timeout=120,
                          env=clean_env(plus_python_install.prefix, python_dirs=(site, deps)),
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {"mochi.margo", "pymargo", "_pymargo", "pyyokan_client", "pybedrock_client"} <= set(report["modules"])
    assert report["yokan_value"] == "Neptune" and report["warabi_bytes"] == 10
    assert report["echo_server"].startswith(("na+sm", "ofi+shm"))
    assert not any(str(ROOT) in p for p in report["sys_path"]), report["sys_path"]


@BUILD_TIMEOUT
def test_bedrock_commands_from_the_prefix(plus_python_install):
    prefix = plus_python_install.prefix
    env = clean_env(prefix)
    for cmd in COMMANDS:
        assert shutil.which(cmd, path=env["PATH"]) == str(prefix / "bin" / cmd)
        proc = subprocess.run([cmd, "--help"], capture_output=True, text=True, env=env, timeout=30)
        assert proc.returncode == 0, proc.stderr
        assert f"usage: {cmd}" in proc.stdout + proc.stderr


BEDROCK_QUERY_SCRIPT = """
import json, sys
from mochi.bedrock.client import Client
from mochi.margo import Engine, client
engine = Engine("na+sm", client)
handle = Client(engine).make_service_handle(sys.argv[1], 0)
print(json.dumps([p["name"] for p in handle.config["providers"]]))
del handle
engine.finalize()
"""


@BUILD_TIMEOUT
def test_bedrock_server_from_the_prefix(plus_python_install, tmp_path):
    """The installed `bedrock` serves a yokan provider from a JSON config; the installed Python
    client reads its config; the installed `bedrock-shutdown` stops it."""
    config = {"providers": [{"name": "kv", "type": "yokan", "provider_id": 1,
                             "config": {"database": {"type": "map"}}}]}
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "query.py").write_text(BEDROCK_QUERY_SCRIPT)
    out, log_path = tmp_path / "effective.json", tmp_path / "bedrock.log"
    site = plus_python_install.platlib
    deps = python_run_dependencies_dir(plus_python_install.pkg, tmp_path / "run-deps")
    env = clean_env(plus_python_install.prefix, python_dirs=(site, deps))
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(["bedrock", "na+sm", "-c", "config.json", "-o", str(out)],
                                cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        effective = wait_for_json(out, proc, timeout=30)
        log_text = log_path.read_text(errors="replace")
        assert effective is not None, f"bedrock wrote no effective config (exit {proc.poll()}):\n{log_text}"
        assert [p["name"] for p in effective["providers"]] == ["kv"]
        address = re.search(r"now running at (\S+)", log_text).group(1)

        query = subprocess.run([sys.executable, "-S", "query.py", address], cwd=tmp_path, env=env,
                               capture_output=True, text=True, timeout=60)
        assert query.returncode == 0, query.stdout + query.stderr
        assert json.loads(query.stdout) == ["kv"]

        stop = subprocess.run(["bedrock-shutdown", "na+sm", "-a", address], env=env,
                              capture_output=True, text=True, timeout=60)
        assert stop.returncode == 0, stop.stdout + stop.stderr
        assert proc.wait(timeout=30) == 0, log_path.read_text(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@BUILD_TIMEOUT
def test_cxx_program_uses_the_installed_cmake_package(plus_python_install, tmp_path):
    """A C++ dependent finds kinako through find_package(kinako) with the prefix only."""
    source = pathlib.Path(__file__).parent / "cxx_consumer"
    build = tmp_path / "build"
    run_logged(["cmake", "-S", str(source), "-B", str(build),
                f"-DCMAKE_PREFIX_PATH={plus_python_install.prefix}"], tmp_path / "configure.log")
    run_logged(["cmake", "--build", str(build)], tmp_path / "build.log")
    proc = subprocess.run([str(build / "consumer")], capture_output=True, text=True, timeout=60,
                          env=clean_env(plus_python_install.prefix))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "echo: from an installed kinako"


@BUILD_TIMEOUT
def test_minus_python_installs_the_same_minus_python(plus_python_install, minus_python_configure):
    """~python's install rules are +python's (which were really installed above) without
    anything in site-packages."""
    plus = install_rules(plus_python_install.build, plus_python_install.prefix)
    minus = install_rules(minus_python_configure.build, minus_python_configure.prefix)
    python_rules = {r for r in plus if r[0].startswith("<python>")}
    assert python_rules, "the +python install rules name no site-packages destination"
    assert minus == plus - python_rules
    kinds = {(dest, name) for dest, _, name in minus}
    assert ("include", "mochi") in kinds and ("lib/cmake/kinako", "kinako-config.cmake") in kinds
    assert {("lib", f"libkinako-{c}.so") for c in COMPONENTS} <= kinds

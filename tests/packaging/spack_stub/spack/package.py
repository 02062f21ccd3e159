"""A minimal `spack.package` for testing kinako's recipe without Spack.

It provides only the names spack/packages/kinako/package.py uses, with Spack's semantics where
they decide what the recipe computes (``define``, ``define_from_variant``, ``Prefix``, the
``when=`` conditions of directives, the default dependency types), and records every directive
so that the tests can inspect it. Anything the recipe starts using beyond this makes the import
or the call fail loudly (NameError, StubLimitation) instead of silently doing nothing: extend
the stub then, following Spack's own behaviour.

Not modelled: concretization, version ranges, fetching, the build environment, compiler
wrappers. Directives are plain records here.
"""

import collections.abc
import os
import re
import sys

# What `from spack.package import *` gives a recipe. The test helpers (std_cmake_args,
# setup_python_dependent_module) stay out: a recipe must not come to rely on them.
__all__ = [
    "CMakePackage", "PythonExtension", "Prefix", "Spec",
    "version", "variant", "depends_on", "extends", "conflicts", "requires",
]

# Spack's default for depends_on(type=...): a dependency is needed to build and to link.
DEFAULT_DEPTYPES = ("build", "link")


class StubLimitation(Exception):
    """The recipe used something this stub does not model."""


# ----------------------------------------------------------------------------------- specs

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*")
_VARIANT_TOKEN = re.compile(r"^([+~])([A-Za-z0-9_]+)$")


def spec_name(spec_string):
    """The package name at the start of an abstract spec ("boost@1.74: +fiber" -> "boost")."""
    match = _NAME.match(spec_string.strip())
    if not match:
        raise StubLimitation(f"cannot read a package name from spec {spec_string!r}")
    return match.group(0)


class VariantValue:
    def __init__(self, name, value):
        self.name = name
        self.value = value


class Spec:
    """A concrete spec reduced to its boolean variants: enough for `+x` / `~x` conditions."""

    def __init__(self, name, variants):
        self.name = name
        self.variants = {k: VariantValue(k, v) for k, v in variants.items()}

    def satisfies(self, constraint):
        """True if every token of `constraint` ("+python", "~python +foo") holds."""
        for token in constraint.split():
            match = _VARIANT_TOKEN.match(token)
            if not match:
                raise StubLimitation(f"the stub only evaluates +variant/~variant, not {token!r}")
            sign, name = match.groups()
            if name not in self.variants:
                return False
            if self.variants[name].value != (sign == "+"):
                return False
        return True

    def __contains__(self, constraint):
        return self.satisfies(constraint)


class Prefix(str):
    """An install prefix: attribute access descends into it (prefix.lib == "<prefix>/lib")."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return Prefix(os.path.join(self, name))

    def join(self, name):  # Spack overrides str.join the same way
        return Prefix(os.path.join(self, name))


# ------------------------------------------------------------------------------ directives

class Directive:
    def __init__(self, kind, args, kwargs):
        self.kind = kind
        self.args = args
        self.kwargs = kwargs

    @property
    def when(self):
        return self.kwargs.get("when")

    def applies_to(self, spec):
        return self.when is None or spec.satisfies(self.when)


class Dependency(Directive):
    @property
    def spec(self):
        return self.args[0]

    @property
    def name(self):
        return spec_name(self.spec)

    @property
    def types(self):
        kind = self.kwargs.get("type", DEFAULT_DEPTYPES)
        return (kind,) if isinstance(kind, str) else tuple(kind)


# Directives called while a class body runs wait here; PackageBase.__init_subclass__ takes them
# (Spack's DirectiveMeta does the same job).
_pending = []


def _record(directive):
    _pending.append(directive)
    return directive


def version(ver, **kwargs):
    return _record(Directive("version", (ver,), kwargs))


def variant(name, default=None, description="", **kwargs):
    kwargs = dict(kwargs, default=default, description=description)
    return _record(Directive("variant", (name,), kwargs))


def depends_on(spec, **kwargs):
    return _record(Dependency("depends_on", (spec,), kwargs))


def extends(spec, **kwargs):
    # Spack: extends() also makes the extendee a build+run+link dependency (same condition).
    _record(Dependency("depends_on", (spec,), dict(kwargs, type=("build", "link", "run"))))
    return _record(Directive("extends", (spec,), kwargs))


def conflicts(spec, **kwargs):
    return _record(Directive("conflicts", (spec,), kwargs))


def requires(*specs, **kwargs):
    return _record(Directive("requires", specs, kwargs))


# -------------------------------------------------------------------------------- packages

class PackageBase:
    """What a recipe instance sees: spec, prefix, run_tests, and the class's directives."""

    directives = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.directives = tuple(getattr(cls, "directives", ())) + tuple(_pending)
        _pending.clear()

    def __init__(self, spec, prefix, run_tests=False):
        self.spec = spec
        self.prefix = Prefix(prefix)
        self.run_tests = run_tests

    @property
    def name(self):
        return self.spec.name

    @classmethod
    def directives_of(cls, kind):
        return [d for d in cls.directives if d.kind == kind]

    @classmethod
    def variant_names(cls):
        return [d.args[0] for d in cls.directives_of("variant")]

    @classmethod
    def has_variant(cls, name):
        return name in cls.variant_names()

    @classmethod
    def dependencies(cls):
        return cls.directives_of("depends_on")

    @classmethod
    def default_spec(cls, name, **overrides):
        """The spec with every variant at its default, then `overrides` (python=False ...)."""
        values = {d.args[0]: d.kwargs["default"] for d in cls.directives_of("variant")}
        unknown = set(overrides) - set(values)
        if unknown:
            raise KeyError(f"not variants of {name}: {sorted(unknown)}")
        values.update(overrides)
        return Spec(name, values)


def _define(cmake_var, value):
    """-DVAR:KIND=VALUE as Spack writes it: bools become BOOL ON/OFF, sequences ;-lists."""
    if isinstance(value, bool):
        return f"-D{cmake_var}:BOOL={'ON' if value else 'OFF'}"
    if isinstance(value, collections.abc.Sequence) and not isinstance(value, str):
        value = ";".join(str(v) for v in value)
    return f"-D{cmake_var}:STRING={value}"


class CMakePackage(PackageBase):
    build_system_class = "CMakePackage"
    # Spack's CMakePackage: default build_type variant, and Python hints when python is a
    # build/link dependency (see std_cmake_args below).
    default_build_type = "Release"
    find_python_hints = True

    def define(self, cmake_var, value):
        return _define(cmake_var, value)

    def define_from_variant(self, cmake_var, variant=None):
        variant = variant or cmake_var.lower()
        if not self.has_variant(variant):
            raise KeyError(f'"{variant}" is not a variant of "{self.name}"')
        if variant not in self.spec.variants:  # a conditional variant whose condition fails
            return ""
        value = self.spec.variants[variant].value
        if isinstance(value, (tuple, list)):
            value = sorted(value)
        return _define(cmake_var, value)

    def cmake_args(self):
        return []


class PythonExtension(PackageBase):
    """Spack's mixin for packages installing Python modules; only a marker here."""


# ---------------------------------------------------------------- what Spack adds around it

def setup_python_dependent_module(module, prefix, python_version=None):
    """Spack's python package, in setup_dependent_package, sets python_platlib and
    python_purelib as globals of every dependent's module: <prefix>/lib/pythonX.Y/site-packages
    for a Spack-built python. Call this only when python is a dependency (+python), as Spack."""
    ver = python_version or f"{sys.version_info.major}.{sys.version_info.minor}"
    site = os.path.join(str(prefix), "lib", f"python{ver}", "site-packages")
    module.python_platlib = site
    module.python_purelib = site
    module.python = sys.executable


def std_cmake_args(pkg, prefix_path=(), python_executable=None):
    """The part of Spack's CMakeBuilder.std_args that shapes an install: prefix, RPATH
    handling, build type, and the Python hints. Left out: the generator (make here too), the
    compile-commands/package-registry/IPO defaults, which do not change what gets installed."""
    prefix = str(pkg.prefix)
    args = [
        _define("CMAKE_INSTALL_PREFIX", prefix),
        _define("CMAKE_INSTALL_RPATH_USE_LINK_PATH", True),
        _define("CMAKE_INSTALL_RPATH", [os.path.join(prefix, "lib"), os.path.join(prefix, "lib64")]),
        _define("CMAKE_PREFIX_PATH", list(prefix_path)),
        _define("CMAKE_BUILD_TYPE", pkg.default_build_type),
    ]
    python_is_build_or_link_dep = any(
        d.name == "python" and d.applies_to(pkg.spec) and {"build", "link"} & set(d.types)
        for d in pkg.dependencies())
    if pkg.find_python_hints and python_is_build_or_link_dep:
        exe = python_executable or sys.executable
        args += [_define(v, exe) for v in ("PYTHON_EXECUTABLE", "Python_EXECUTABLE", "Python3_EXECUTABLE")]
    return args

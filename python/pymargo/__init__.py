"""Legacy name of mochi.margo.

``pymargo`` is not a copy: importing it makes ``pymargo`` and ``pymargo.<sub>``
the very same module objects as ``mochi.margo`` and ``mochi.margo.<sub>``, so
``pymargo.core.Engine is mochi.margo.core.Engine`` and isinstance checks agree.
"""

import importlib as _importlib
import sys as _sys

_SUBMODULES = ("core", "bulk", "logging", "serialization", "typing")

_margo = _importlib.import_module("mochi.margo")
for _name in _SUBMODULES:
    _sys.modules["pymargo." + _name] = _importlib.import_module("mochi.margo." + _name)
# Replacing our own entry makes the import statement return mochi.margo itself.
_sys.modules[__name__] = _margo

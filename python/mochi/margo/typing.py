"""Type aliases for the opaque handles that cross the _pymargo boundary.

Every one of them is a ``PyCapsule``. The C++ side names its capsules
``"margo_instance_id"``, ``"hg_addr_t"``, ``"hg_bulk_t"`` and ``"margo_request"``.
"""

import types as _types

try:
    _capsule_type = _types.CapsuleType  # Python >= 3.13
except AttributeError:  # pragma: no cover - depends on the interpreter version
    import datetime as _datetime

    _capsule_type = type(_datetime.datetime_CAPI)

PyCapsule = _capsule_type
margo_instance_id = _capsule_type
hg_addr_t = _capsule_type
hg_bulk_t = _capsule_type
margo_request = _capsule_type

__all__ = ["margo_instance_id", "hg_addr_t", "hg_bulk_t", "margo_request"]

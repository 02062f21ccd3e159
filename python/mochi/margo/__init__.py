"""mochi.margo: the RPC engine of kinako, API-compatible with py-mochi-margo.

``pymargo`` is an alias of this package (same module objects).
"""

from .core import (  # noqa: F401
    client,
    server,
    Engine,
    Address,
    Handle,
    MargoInstance,
    MargoAddress,
    MargoHandle,
    remote,
    provider,
    on_finalize,
    on_prefinalize,
)
from . import core, bulk, logging, serialization, typing  # noqa: F401,E402

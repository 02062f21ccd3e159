"""Bulk (RDMA) handles.

``read_only``, ``write_only`` and ``read_write`` are the access modes passed to
``Engine.create_bulk``; ``push`` and ``pull`` are the operations passed to
``Engine.transfer``.
"""

import _pymargo

access = _pymargo.access
xfer = _pymargo.xfer

read_only = _pymargo.access.read_only
write_only = _pymargo.access.write_only
read_write = _pymargo.access.read_write

push = _pymargo.xfer.push
pull = _pymargo.xfer.pull


class Bulk:
    """A registered memory region, usable in ``Engine.transfer``.

    Bulk objects can be sent inside RPC arguments: they pickle to the serialized
    hg_bulk and unpickle against the receiving engine.
    """

    def __init__(self, mid, hg_bulk, buffer=None):
        self._mid = mid
        self._hg_bulk = hg_bulk
        # keep the exposed memory alive as long as the handle exists
        self._buffer = buffer

    def __getstate__(self):
        return _pymargo.bulk_to_bytes(self._hg_bulk)

    def __setstate__(self, state):
        # The engine whose payload is being unpickled on this thread (see serialization).
        mid = _pymargo.current_mid()
        if mid is None:
            raise RuntimeError(
                "Bulk objects can only be unpickled through mochi.margo.serialization")
        self._mid = mid
        self._hg_bulk = _pymargo.bulk_from_bytes(mid, state)
        self._buffer = None

    def get_internal_hg_bulk(self):
        return self._hg_bulk

    @property
    def hg_bulk(self):
        return self._hg_bulk

    @property
    def size(self) -> int:
        return _pymargo.bulk_size(self._hg_bulk)

    def __repr__(self):
        return f"<mochi.margo.bulk.Bulk size={self.size}>"

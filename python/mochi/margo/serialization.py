"""(De)serialization of RPC payloads.

Payloads are pickles (highest protocol). While one is (un)pickled, the margo instance it
belongs to is the thread's "current mid" (``_pymargo.current_mid()``), so that ``Bulk``
objects found inside can (de)serialize their hg_bulk against it. The work is done in the
extension, which also uses it for calls and responses.
"""

import _pymargo


def dumps(mid, obj) -> bytes:
    """Pickle ``obj`` for sending through the engine ``mid``."""
    return _pymargo.dumps(mid, obj)


def loads(mid, data):
    """Unpickle ``data`` received by the engine ``mid``."""
    return _pymargo.loads(mid, data)

"""(De)serialization of RPC payloads.

Payloads are pickles. Before pickling or unpickling, the margo instance that the
payload belongs to is recorded in ``Bulk._current_mid`` so that ``Bulk`` objects
found inside the payload can (de)serialize their hg_bulk against it.
"""

import pickle

from .bulk import Bulk


def dumps(mid, obj) -> bytes:
    """Pickle ``obj`` for sending through the engine ``mid``."""
    previous = Bulk._current_mid
    Bulk._current_mid = mid
    try:
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        Bulk._current_mid = previous


def loads(mid, data):
    """Unpickle ``data`` received by the engine ``mid``."""
    previous = Bulk._current_mid
    Bulk._current_mid = mid
    try:
        return pickle.loads(data)
    finally:
        Bulk._current_mid = previous

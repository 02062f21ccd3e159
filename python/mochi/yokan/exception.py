"""The Yokan exception and return codes.

``Exception`` is a RuntimeError subclass built as ``Exception(message, code)``; ``e.code`` is
one of the YOKAN_* constants below and ``str(e)`` is the message.
"""

import pyyokan_common as _common

Exception = _common.Exception  # noqa: A001

_names = [n for n in dir(_common) if n == "YOKAN_SUCCESS" or n.startswith("YOKAN_ERR_")
          or n == "YOKAN_STOP_ITERATION"]
globals().update({n: getattr(_common, n) for n in _names})

__all__ = ["Exception"] + _names

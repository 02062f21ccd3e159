"""The Yokan backend types compiled into this build (read from the C++ registry at import)."""

import pyyokan_common as _common

available_backends = list(_common._available_backends())

__all__ = ["available_backends"]

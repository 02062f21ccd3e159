"""Yokan server side: the Provider class (from the pyyokan_server extension)."""

from pyyokan_server import Provider  # noqa: F401
from pyyokan_common import Exception  # noqa: F401,A004

__all__ = ["Provider", "Exception"]

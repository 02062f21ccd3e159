"""Yokan client side: Client, Database and Collection (from the pyyokan_client extension).

Exception is re-exported here too, for code written against older Yokan releases that
imported it from mochi.yokan.client.
"""

from pyyokan_client import Client, Database, Collection  # noqa: F401
from pyyokan_common import Exception  # noqa: F401,A004

__all__ = ["Client", "Database", "Collection", "Exception"]

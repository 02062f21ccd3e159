"""Warabi provider: Provider(engine, provider_id, config: dict) and Exception."""

import _pywarabi_client  # noqa: F401  (RegionID values returned by Provider.migrate)
from _pywarabi_server import Exception, Provider  # noqa: F401

__all__ = ["Provider", "Exception"]

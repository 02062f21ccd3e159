"""Warabi client: Client, TargetHandle, RegionID, AsyncRequest, AsyncCreateRequest, Exception."""

from _pywarabi_client import (  # noqa: F401
    AsyncCreateRequest,
    AsyncRequest,
    Client,
    Exception,
    RegionID,
    TargetHandle,
)

__all__ = ["Client", "TargetHandle", "RegionID", "AsyncRequest", "AsyncCreateRequest", "Exception"]

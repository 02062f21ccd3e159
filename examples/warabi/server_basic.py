"""The smallest server: one memory provider, its address printed, then shut down.

A real server would call engine.wait_for_finalize() instead of finalizing right away.
"""

import mochi.margo
from mochi.warabi.server import Provider

engine = mochi.margo.Engine("na+sm", mochi.margo.server)
provider = Provider(engine, 42, {"target": {"type": "memory", "config": {}}})
print(f"Warabi provider 42 listening at {engine.addr()}")
print(f"effective config: {provider.get_config()}")
# engine.wait_for_finalize()
del provider
engine.finalize()

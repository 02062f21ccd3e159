"""mochi.bedrock: compose services from a JSON config (kinako's implementation).

Submodules: ``server`` (an in-process Server), ``client`` (Client, ServiceHandle,
ServiceGroupHandle) and ``spec`` (attrs classes describing configs).
"""

"""mochi.flock: group membership (kinako's implementation). Submodules: view, server, client."""

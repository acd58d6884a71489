"""Example tool modules for bot owners (see README, "Add your own tool")."""

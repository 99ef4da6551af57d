"""local_workspace package."""

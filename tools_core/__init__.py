"""tools_core: typed Databricks operations over the official clients.

Modules take a ``WorkspaceClient`` (or a :class:`tools_core.backend.Backend`) first and
return small pydantic result models. Nothing here reads the environment, and the SDK is
imported lazily so that importing tools_core stays cheap.
"""

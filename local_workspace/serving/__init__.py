"""Model Serving of the local workspace: endpoints that serve registered model versions."""

from local_workspace.serving.service import ServingService

__all__ = ["ServingService"]

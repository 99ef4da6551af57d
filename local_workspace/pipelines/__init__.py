"""Lakeflow Declarative Pipelines (DLT) of the local workspace: store, SQL runner, service."""

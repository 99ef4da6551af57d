"""Evaluation of models and endpoints on Unity Catalog tables (mlflow_evaluate)."""

from tools_core.evaluation.models import EvaluationResult, WorstRow
from tools_core.evaluation.run import evaluate

__all__ = ["EvaluationResult", "WorstRow", "evaluate"]

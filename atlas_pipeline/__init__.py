"""Atlas: multi-cloud FinOps and GPU-fleet cost pipeline."""

__version__ = "0.1.0"

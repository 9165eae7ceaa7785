"""interactcs: cost-aware LLM customer-service agents with multi-turn RL (InteractCS-RL, CMPO)."""

__version__ = "0.1.0"

"""``cr.utils``: PyTorch's ``torch.utils`` namespace (``utils.data``)."""
from . import data

__all__ = ["data"]

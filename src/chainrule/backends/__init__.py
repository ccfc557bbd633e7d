"""``cr.backends``: PyTorch's backend switches; no GPU backend here, so the availability questions answer False."""
from . import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]

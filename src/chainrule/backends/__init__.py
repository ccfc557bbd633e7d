"""``cr.backends``: PyTorch's backend switches; no GPU backend here, so the availability questions answer False."""
from . import cudnn, mps

__all__ = ["cudnn", "mps"]

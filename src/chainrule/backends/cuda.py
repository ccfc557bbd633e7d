"""``torch.backends.cuda`` switches (``matmul.allow_tf32``), accepted so scripts that set them run;
they change nothing on the CPU."""
from types import SimpleNamespace

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True)


def is_built() -> bool:
    return False

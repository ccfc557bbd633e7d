"""cuDNN switches, accepted so scripts that set them run; they change nothing on the CPU."""
from .. import cuda

benchmark = False
deterministic = False
enabled = True
allow_tf32 = False


def is_available() -> bool:
    return cuda.is_available()

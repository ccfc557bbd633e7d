"""How tensors print: PyTorch's defaults (4 decimals, summarised above 1000 elements) and ``set_printoptions``."""
from __future__ import annotations

from .backend import xp

_DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}
_PROFILES = {"default": _DEFAULTS, "short": {**_DEFAULTS, "precision": 2, "threshold": 1000, "edgeitems": 2},
             "full": {**_DEFAULTS, "threshold": 2**63 - 1}}
options = dict(_DEFAULTS)


def set_printoptions(precision: int | None = None, threshold: int | None = None, edgeitems: int | None = None,
                     linewidth: int | None = None, profile: str | None = None, sci_mode: bool | None = None) -> None:
    """PyTorch's print options; an option left out keeps its value, ``profile=`` resets them all first."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {', '.join(_PROFILES)}, got {profile!r}")
        options.update(_PROFILES[profile])
    for name, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                        ("linewidth", linewidth)):
        if value is not None:
            from .arguments import integer

            options[name] = integer("set_printoptions", name, value, minimum=0)
    if sci_mode is not None:
        options["sci_mode"] = bool(sci_mode)


def body(arr, prefix: str) -> str:
    """The values part of a tensor's repr."""
    o = options
    formatter = None
    if o["sci_mode"] and arr.dtype.kind == "f":
        formatter = {"float_kind": lambda v: f"{v:.{o['precision']}e}"}
    text = xp.array2string(arr, separator=", ", precision=o["precision"], threshold=o["threshold"],
                           edgeitems=o["edgeitems"], max_line_width=o["linewidth"],
                           suppress_small=o["sci_mode"] is False, formatter=formatter, prefix=prefix)
    return text.replace(", ...,", ",  ...,")  # PyTorch sets the summary mark off by two spaces

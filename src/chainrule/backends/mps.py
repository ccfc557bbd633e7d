"""Apple's Metal backend: not part of chainrule."""


def is_available() -> bool:
    return False


def is_built() -> bool:
    return False

"""Helper module imported by with_helper.py."""
CALLS = 0


def normalise(s):
    return " ".join(str(s).split()).lower().rstrip(".")

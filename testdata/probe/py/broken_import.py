"""Imports a module that does not exist: the probe must stop with one clear error."""
import goodhart_no_such_module_xyz  # noqa: F401


def reward(response, answer):
    return 1.0

"""A reward module with its own import: helpers.py sits beside it."""
from helpers import normalise
import helpers


def reward(response, answer):
    helpers.CALLS += 1
    return {"correctness": 1.0 if normalise(response).endswith(normalise(answer)) else 0.0}

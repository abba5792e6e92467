"""Takes 30 s to import (a model load, say): with a short --timeout the probe gives up."""
import time

time.sleep(30)


def reward(response, answer):
    return 1.0

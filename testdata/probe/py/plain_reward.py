"""Plain reward functions, called once per case (rewardspy's convention)."""


def exact(response, answer):
    """1.0 when the last line of the response ends with the answer, else 0.0."""
    lines = [ln for ln in response.strip().splitlines() if ln.strip()]
    last = lines[-1] if lines else ""
    return 1.0 if last.strip().rstrip(".").endswith(str(answer)) else 0.0


def components(response, answer):
    """Named components; the reward is their sum (no "total")."""
    print("scoring", len(response))  # stray print: must not break the protocol
    return {"correctness": exact(response, answer), "format": 0.5 if "Answer:" in response else 0.0, "note": "ignored"}


def lenient(response, answer):
    """Exploitable: pays for length as well as for the answer."""
    return {"correctness": exact(response, answer), "length": min(len(response) / 200, 1.0)}


def returns_none(response, answer):
    """Forgets to return on the wrong answer."""
    if exact(response, answer):
        return 1.0


def returns_text(response, answer):
    return "correct" if exact(response, answer) else "wrong"


def returns_list(response, answer):
    return [exact(response, answer)]


def returns_nan(response, answer):
    return float("nan") if not exact(response, answer) else 1


def raises(response, answer):
    """Fails on cases whose answer is not an integer."""
    return 1.0 / (int(answer) % 2)


async def async_exact(response, answer):
    return exact(response, answer)


class Scorer:
    def score(self, response, answer):
        return exact(response, answer)


scorer = Scorer()
not_callable = 3

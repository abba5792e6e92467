"""TRL GRPOTrainer-style reward functions: batch in, one reward per completion out.

The signatures are the ones TRL documents: completions (strings, or lists of
chat messages), prompts, every dataset column as a keyword list, **kwargs.
"""
import re


def accuracy_reward(completions, answer, **kwargs):
    """1.0 when the \\boxed{} or 'Answer:' value equals the dataset's answer column."""
    out = []
    for completion, ans in zip(completions, answer):
        text = completion[0]["content"] if isinstance(completion, list) else completion
        m = re.findall(r"\\boxed\{([^{}]*)\}|Answer:\s*(\S+)", text)
        got = (m[-1][0] or m[-1][1]).rstrip(".") if m else None
        out.append(1.0 if got == str(ans) else 0.0)
    return out


def format_reward(completions, **kwargs):
    """0.5 for a <think>...</think> block (a typical format reward)."""
    return [0.5 if "<think>" in c and "</think>" in c else 0.0 for c in completions]


def prompt_aware(prompts, completions, **kwargs):
    """Pays for completions longer than their prompt; needs prompts."""
    return [1.0 if len(c) > len(p) else 0.0 for p, c in zip(prompts, completions)]


def step_scaled(completions, trainer_state=None, **kwargs):
    """A curriculum reward: the weight grows with the trainer step."""
    step = trainer_state.global_step if trainer_state is not None else 0
    return [min(1.0, step / 100) for _ in completions]


def explicit_only(completions, answer):
    """No **kwargs: only the names it declares may be passed."""
    return [float(str(a) in c) for c, a in zip(completions, answer)]


def wrong_length(completions, **kwargs):
    return [1.0, 0.0]


def returns_none(completions, **kwargs):
    return [None for _ in completions]


def returns_scalar(completions, **kwargs):
    return 1.0


def needs_ids(completions, completion_ids, **kwargs):
    return [float(len(i)) for i in completion_ids]

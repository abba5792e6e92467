# goodhart's Python adapter (embedded in the reportgen binary; run with
# python3 -c). It imports a reward function by name and serves it over the
# JSONL probe protocol: one case per line on stdin, one result per line on
# stdout.
#
#   argv: TARGET MODE FIELDS
#     TARGET  module:function, package.module:function or path/to/file.py:function
#             (the function may be dotted: module:obj.method)
#     MODE    plain  fn(*args, **kwargs) -> number | {name: number}
#             trl    fn(prompts=[...], completions=[...], **columns) -> [number]
#     FIELDS  JSON list of argument names that may hold the completion (trl)
#
# Results: a number, {name: number, ...}, or {"error": "..."}. Anything the
# function or the modules it imports print goes to stderr: file descriptor 1
# is pointed at stderr before the import, so stray prints (even from C
# extensions) cannot corrupt the protocol.
#
# When the function cannot be loaded, the adapter prints the traceback, then
# one line "goodhart-python: cannot load TARGET: <why>" on stderr, and exits
# with status 3.
import inspect
import json
import math
import os
import sys
import traceback
import types

LOAD_MARK = "goodhart-python: cannot load "
HERE = "<string>"  # this adapter's frames when run with -c


def where(exc):
    """' (file.py:12)' for the innermost frame outside the adapter."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename != HERE and not f.filename.startswith("<frozen")
              and "/importlib/" not in f.filename.replace("\\", "/")]
    if not frames:
        return ""
    f = frames[-1]
    name = f.filename
    try:
        rel = os.path.relpath(name)
        if not rel.startswith(".."):
            name = rel
    except ValueError:
        pass
    return " (%s:%d)" % (name, f.lineno)


def describe(exc):
    msg = str(exc)
    text = type(exc).__name__ + (": " + msg if msg else "")
    return text + where(exc)


def fail_load(target, why, exc=None):
    if exc is not None:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    sys.stderr.write(LOAD_MARK + target + ": " + why + "\n")
    sys.stderr.flush()
    os._exit(3)


def load(target):
    mod_part, sep, attr = target.rpartition(":")
    if not sep or not mod_part or not attr:
        fail_load(target, "want MODULE:FUNCTION or path/to/file.py:FUNCTION")
    is_path = mod_part.endswith(".py") or "/" in mod_part or os.sep in mod_part
    sys.argv = [mod_part]  # a module reading sys.argv at import sees only itself
    try:
        if is_path:
            path = os.path.abspath(mod_part)
            if not os.path.isfile(path):
                fail_load(target, "no such file: " + mod_part)
            sys.path.insert(0, os.path.dirname(path))
            name = os.path.splitext(os.path.basename(path))[0]
            import importlib.util
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        else:
            sys.path.insert(0, os.getcwd())
            import importlib
            module = importlib.import_module(mod_part)
    except BaseException as exc:  # SyntaxError, ImportError, SystemExit at import...
        if isinstance(exc, KeyboardInterrupt):
            raise
        hint = ""
        if isinstance(exc, ModuleNotFoundError) and exc.name and mod_part.split(".")[0] == exc.name:
            hint = " (run reportgen from the directory that holds it, or give path/to/file.py:FUNCTION)"
        elif isinstance(exc, ImportError):
            hint = " (is it installed for this python? use --python PATH or activate the virtualenv)"
        fail_load(target, describe(exc) + hint, exc)
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            names = sorted(n for n, v in vars(module).items()
                           if callable(v) and not n.startswith("_") and not inspect.isclass(v)
                           and getattr(v, "__module__", None) == module.__name__)
            have = ", ".join(names[:12]) if names else "none"
            fail_load(target, "%s has no attribute %r (functions defined there: %s)" % (mod_part, part, have))
        obj = getattr(obj, part)
    if not callable(obj):
        fail_load(target, "%s is a %s, not a function" % (attr, type(obj).__name__))
    return obj


class CaseError(Exception):
    pass


def number(x, what):
    """x as a finite float, or CaseError naming what was returned."""
    if isinstance(x, bool):
        return 1.0 if x else 0.0
    if x is None:
        raise CaseError("%s is None; a reward must be a number" % what)
    if isinstance(x, (str, bytes)):
        raise CaseError("%s is a %s (%s); a reward must be a number" % (what, type(x).__name__, short(x)))
    try:
        f = float(x)
    except (TypeError, ValueError):
        raise CaseError("%s is a %s (%s), not a number" % (what, type(x).__name__, short(x)))
    if math.isnan(f) or math.isinf(f):
        raise CaseError("%s is %r" % (what, f))
    return f


def short(x):
    r = repr(x)
    return r if len(r) <= 60 else r[:57] + "..."


def plain_result(r):
    if hasattr(r, "tolist") and not isinstance(r, (str, bytes)):
        r = r.tolist()  # numpy / torch scalars and arrays
    if isinstance(r, dict) or (hasattr(r, "items") and hasattr(r, "keys")):
        comps = {}
        for k, v in r.items():
            if hasattr(v, "tolist") and not isinstance(v, (str, bytes)):
                v = v.tolist()
            if v is None or isinstance(v, (str, bytes, list, tuple, dict)):
                continue  # not a component (rewardspy ignores these too)
            comps[str(k)] = number(v, "component %r" % str(k))
        if not comps:
            raise CaseError("returned a dict with no numeric values (%s)" % short(r))
        return comps
    if r is None:
        raise CaseError("returned None; a reward function must return a number or a dict of numbers (missing return?)")
    if isinstance(r, (str, bytes)):
        raise CaseError("returned a %s (%s); a reward function must return a number or a dict of numbers"
                        % (type(r).__name__, short(r)))
    if isinstance(r, (list, tuple)):
        raise CaseError("returned a %s of %d values; a reward function returns one number per call "
                        "(for a TRL batch function use --trl)" % (type(r).__name__, len(r)))
    return number(r, "the result")  # "the result is nan", "the result is a set (...)..."


def trl_result(r):
    if hasattr(r, "tolist") and not isinstance(r, (str, bytes)):
        r = r.tolist()
    if not isinstance(r, (list, tuple)):
        if r is None:
            raise CaseError("returned None; a TRL reward function returns a list with one reward per completion (missing return?)")
        raise CaseError("returned a %s (%s); a TRL reward function returns a list with one reward per completion"
                        % (type(r).__name__, short(r)))
    if len(r) != 1:
        raise CaseError("returned %d rewards for 1 completion" % len(r))
    if r[0] is None:
        raise CaseError("returned [None]: no reward for this completion (TRL skips it as NaN)")
    return number(r[0], "the reward")


def noop(*args, **kwargs):
    return None


class Params:
    def __init__(self, fn):
        self.any = True
        self.names = set()
        self.required = []
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            return
        self.any = False
        for p in sig.parameters.values():
            if p.kind == p.VAR_KEYWORD:
                self.any = True
            elif p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                self.names.add(p.name)
                if p.default is p.empty:
                    self.required.append(p.name)

    def accepts(self, name):
        return self.any or name in self.names


def trl_call(fn, params, case, fields):
    args, kw = case.get("args") or [], dict(case.get("kwargs") or {})
    field = next((f for f in fields if f in kw), None)
    if field is not None:
        completion = kw.pop(field)
        if args:
            raise CaseError("--trl: positional arguments cannot be passed to a batch function; name every field")
    elif args:
        if len(args) > 1:
            raise CaseError("--trl: give cases as objects ({\"completion\": ..., \"answer\": ...}); "
                            "positional arguments after the completion have no column name")
        completion = args[0]
    else:
        raise CaseError("--trl: the case has no completion (a field named %s)" % " or ".join(fields))
    call = {"completions": [completion]}
    prompt_key = "prompt" if "prompt" in kw else ("prompts" if "prompts" in kw else None)
    if prompt_key is not None:
        call["prompts"] = [kw.pop(prompt_key)]
    state = kw.pop("trainer_state", None)
    for k, v in kw.items():
        call[k] = [v]
    extra = {
        "trainer_state": types.SimpleNamespace(**state) if isinstance(state, dict) else
        types.SimpleNamespace(global_step=0, max_steps=0, epoch=0.0, num_train_epochs=0),
        "log_extra": noop,
        "log_metric": noop,
    }
    for k, v in extra.items():
        if k not in call:
            call[k] = v
    for name in params.required:
        if name not in call:
            if name == "prompts":
                raise CaseError("the function needs prompts: add a \"prompt\" field to the cases")
            if name == "completion_ids":
                raise CaseError("the function needs completion_ids (token ids), which goodhart cannot make without the tokenizer")
            raise CaseError("the function needs %r: add that field to the cases" % name)
    if not params.any:
        call = {k: v for k, v in call.items() if k in params.names}
    return fn(**call)


def settle(r):
    if inspect.isawaitable(r):
        import asyncio

        async def wait():
            return await r
        return asyncio.run(wait())
    return r


def main():
    target, mode = sys.argv[1], sys.argv[2]
    fields = json.loads(sys.argv[3]) if len(sys.argv) > 3 else ["completion", "completions", "response", "output", "text"]
    # Keep the protocol's pipes to ourselves: fd 1 -> stderr, fd 0 -> /dev/null.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    inp = os.fdopen(os.dup(0), "r", encoding="utf-8")
    os.dup2(2, 1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    sys.stdout = sys.stderr
    sys.stdin = open(os.devnull)

    fn = load(target)
    params = Params(fn)
    trl = mode == "trl"
    for line in inp:
        if not line.strip():
            continue
        try:
            case = json.loads(line)
            if trl:
                res = trl_result(settle(trl_call(fn, params, case, fields)))
            else:
                res = plain_result(settle(fn(*(case.get("args") or []), **(case.get("kwargs") or {}))))
        except CaseError as exc:
            res = {"error": str(exc)}
        except (Exception, SystemExit) as exc:
            res = {"error": describe(exc)}
        out.write(json.dumps(res, allow_nan=False) + "\n")
        out.flush()


main()

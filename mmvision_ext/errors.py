"""User mistakes, told in one line.

A ``UserError`` is a problem with the user's setup (a missing file, an unknown
variant, a misspelt config key, an unreadable image), explained with its fix. The
tools end on one ``error: ...`` line for it, with a non-zero exit code and no
traceback; every other exception is a bug and raises as usual. Set
``MMVX_TRACEBACK=1`` to see the full traceback of a user error too (for bug reports).
"""
import difflib
import inspect
import os
import re
import sys

TRACEBACK_ENV = 'MMVX_TRACEBACK'


class UserError(RuntimeError):
    """A problem with the user's setup, explained; the tools print it and exit."""


class ConfigError(UserError, ValueError):
    """A config value that a module refuses (an unknown variant, a wrong size, ...)."""


class ConversionError(UserError, ValueError):
    """A checkpoint that cannot be converted, with the reason."""


# mmengine's build_from_cfg re-raises as ``type(e)(f'class `X` in path: {e}')``, nested
# once per level of the config; the class is named in our messages already.
_BUILD_PREFIX = re.compile(r'^class `\w+` in [^:]+: ')
# torch re-raises a data-loader worker's exception with its traceback in the message.
_WORKER_TRACE = re.compile(r'Caught \w+ in DataLoader worker process \d+\.')
# mmengine's schedulers, when a run is shorter than the warm-up before them.
_SCHEDULE_ENDS_EARLY = re.compile(
    r'end should be larger than begin, but got begin=(\d+), end=(\d+)')
_UNEXPECTED_KEY = re.compile(r"(\w+)\.__init__\(\) got an unexpected keyword argument '(\w+)'")


def user_error_message(exc, cfg=None):
    """The one-line explanation of ``exc`` if it is a user mistake, else None."""
    if isinstance(exc, UserError):
        msg = str(exc)
        if _WORKER_TRACE.search(msg):  # keep the worker's own message, not its traceback
            msg = msg.rstrip().splitlines()[-1].split(': ', 1)[-1]
        while _BUILD_PREFIX.match(msg):
            msg = _BUILD_PREFIX.sub('', msg, count=1)
        return msg
    if isinstance(exc, TypeError) and cfg is not None:
        return unknown_key_message(exc, cfg)
    match = _SCHEDULE_ENDS_EARLY.search(str(exc)) if isinstance(exc, ValueError) else None
    if match:
        return (f'a param_scheduler phase would end before it begins (begin={match[1]}, '
                f'end={match[2]}): the run is shorter than the warm-up before it; train for '
                'longer (train_cfg.max_epochs or max_iters) or shorten the warm-up '
                '(param_scheduler.0.end and the next phase\'s begin)')
    return None


def _find_key(node, key, path=''):
    """Dotted paths of the dicts of a config that hold ``key``."""
    found = []
    if isinstance(node, dict):
        if key in node:
            found.append((path, node))
        for k, v in node.items():
            found += _find_key(v, key, f'{path}.{k}' if path else str(k))
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            found += _find_key(v, key, f'{path}[{i}]')
    return found


def registered_class(name, scope=None):
    """The class a config's ``type`` names, from any registry of ``scope`` (a config's
    ``default_scope``; default: the current scope). A class (a pure-Python config's
    ``type``) is its own; anything else but a name has none."""
    if inspect.isclass(name):
        return name
    if not isinstance(name, str):
        return None
    from mmengine import registry as r
    with r.DefaultScope.overwrite_default_scope(scope):
        for reg in (r.MODELS, r.DATASETS, r.TRANSFORMS, r.DATA_SAMPLERS, r.HOOKS, r.LOOPS,
                    r.OPTIMIZERS, r.OPTIM_WRAPPERS, r.PARAM_SCHEDULERS, r.METRICS, r.EVALUATOR,
                    r.TASK_UTILS, r.VISUALIZERS, r.VISBACKENDS, r.RUNNERS):
            with reg.switch_scope_and_registry(None) as scoped:
                cls = scoped.get(name)
            if cls is not None:
                return cls
    return None


def accepted_keys(cls, upto):
    """Keyword arguments of ``cls.__init__`` and its bases up to the class named ``upto``."""
    keys = set()
    for klass in inspect.getmro(cls) if inspect.isclass(cls) else ():
        init = klass.__dict__.get('__init__')
        if init is not None:
            keys |= {p.name for p in inspect.signature(init).parameters.values()
                     if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and p.name != 'self'}
        if klass.__name__ == upto:
            break
    return keys


def unknown_key_message(exc, cfg):
    """``X.__init__() got an unexpected keyword argument 'k'`` where ``k`` is in the
    config: name its place in the config and the nearest key the class takes."""
    match = _UNEXPECTED_KEY.search(str(exc))
    if not match:
        return None
    cls_name, key = match.groups()
    for path, node in _find_key(cfg.to_dict() if hasattr(cfg, 'to_dict') else cfg, key):
        if cls_name == 'DataLoader' and path.endswith('dataloader') and '.' not in path:
            from torch.utils.data import DataLoader
            valid = accepted_keys(DataLoader, 'DataLoader') | {'sampler', 'batch_sampler'}
            name = 'DataLoader'
        elif node.get('type') is not None:
            cls = registered_class(node['type'], cfg.get('default_scope'))
            if cls is None or cls_name not in {k.__name__ for k in inspect.getmro(cls)}:
                continue
            valid, name = accepted_keys(cls, cls_name), cls.__name__
        else:
            continue
        where = f'{path}.{key}' if path else key
        close = difflib.get_close_matches(key, sorted(valid), n=3, cutoff=0.6)
        hint = (f'did you mean {" or ".join(close)}?' if close
                else f'{name} takes: {", ".join(sorted(valid))}')
        return f'unknown config key {where}: {name} has no argument {key!r}; {hint}'
    return None  # not in the config: a bug, not a user mistake


def exit_on_user_error(exc, cfg=None):
    """Print ``error: ...`` and exit 1 if ``exc`` is a user mistake; else return."""
    if os.environ.get(TRACEBACK_ENV):
        return
    msg = user_error_message(exc, cfg)
    if msg is None:
        return
    print(f'error: {msg}', file=sys.stderr, flush=True)
    sys.exit(1)

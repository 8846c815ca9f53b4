"""Repository tools run as from a shell, each in a process of its own, without paying
the stack's import time on every run.

A new interpreter spends about 5 s of CPU importing torch, mmengine, mmpretrain, mmdet
and mmvision_ext before a tool does anything, and make test starts tools several dozen
times. Here a fork server (multiprocessing's 'forkserver' context) imports that stack
once per test worker; each tool then runs in a process forked from it, with the
tool's arguments, environment, working directory, ``sys.path`` and ``__main__`` as
``python tools/<tool>.py`` would give it, and ``atexit`` handlers run at its end. The
server has only imported modules (no runner, logger or visualizer exists yet), so each
tool starts from the state a new interpreter reaches after the same imports. (A warning
those imports printed would show once, in the server, not in each tool's output:
test_tool_process.py checks that they print none.)
"""
import atexit
import multiprocessing
import os
import resource
import runpy
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
# What tools/train.py and tools/test.py import before building a runner, and the
# packages whose registries the runner imports for segmentation and detection configs.
PRELOAD = ['torch', 'mmengine.runner', 'mmvision_ext', 'mmpretrain.models', 'mmseg.models',
           'mmdet.models']

# The server starts with the first tool of the process.
FORKSERVER = multiprocessing.get_context('forkserver')
FORKSERVER.set_forkserver_preload(PRELOAD)


def _run_script(script, args, env, stdout_path, stderr_path, new_session, file_size_limit):
    """The body of a tool process: what the interpreter does for ``python script args``."""
    if new_session:
        os.setsid()  # its own process group, as subprocess's start_new_session=True
    if file_size_limit is not None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))
    for fd, path in ((1, stdout_path), (2, stderr_path)):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(target, fd)
        os.close(target)
    sys.stdout = open(1, 'w', buffering=1, closefd=False)
    sys.stderr = open(2, 'w', buffering=1, closefd=False)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(ROOT)
    # The interpreter's path: the script's folder, then PYTHONPATH, then the site's
    # (without the test folder pytest put on the server's path).
    pythonpath = [p for p in env.get('PYTHONPATH', '').split(os.pathsep) if p]
    site = [p for p in sys.path if p and Path(p).resolve() not in (TESTS, ROOT)]
    sys.path[:] = [str((ROOT / script).parent), *pythonpath, *site]
    sys.argv = [str(script), *args]
    # A new interpreter has chosen no start method yet (mmengine warns when it differs).
    multiprocessing.set_start_method(None, force=True)
    torch.set_num_threads(int(env.get('OMP_NUM_THREADS') or os.cpu_count()))
    code = 0
    try:
        runpy.run_path(str(ROOT / script), run_name='__main__')
    except SystemExit as e:
        if isinstance(e.code, int) or e.code is None:
            code = e.code or 0
        else:
            print(e.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


class ToolProcess:
    """A repository script started in a forked process; ``subprocess.Popen``'s
    ``pid``, ``poll``, ``wait`` and ``returncode`` (negative: killed by that signal),
    and the text it wrote to stdout and stderr once it has ended.

    Args:
        script (str | Path): the script, relative to the repository root.
        args (Sequence): its arguments.
        env (dict | None): its whole environment (default: this process's).
        new_session (bool): start a new session (and process group), so that
            ``os.killpg(proc.pid, ...)`` reaches its data-loader workers too.
        file_size_limit (int | None): RLIMIT_FSIZE for the process, in bytes.
    """

    def __init__(self, script, args=(), env=None, new_session=False, file_size_limit=None):
        self.args = [str(script), *map(str, args)]
        self._dir = tempfile.TemporaryDirectory(prefix='tool_')
        self._out = os.path.join(self._dir.name, 'stdout')
        self._err = os.path.join(self._dir.name, 'stderr')
        self._process = FORKSERVER.Process(
            target=_run_script, daemon=False,
            args=(str(script), self.args[1:], dict(os.environ if env is None else env),
                  self._out, self._err, new_session, file_size_limit))
        self._process.start()
        self.pid = self._process.pid
        self.stdout = self.stderr = None

    @property
    def returncode(self):
        return self._process.exitcode

    def poll(self):
        return self._process.exitcode

    def kill(self):
        self._process.kill()

    def wait(self, timeout=None):
        """Wait for the end; on timeout kill it and raise ``subprocess.TimeoutExpired``."""
        self._process.join(timeout)
        if self._process.exitcode is None:
            self._process.kill()
            self._process.join()
            raise subprocess.TimeoutExpired(self.args, timeout)
        if self.stdout is None:  # (no files if it was killed before it opened them)
            out, err = Path(self._out), Path(self._err)
            self.stdout = out.read_text(errors='replace') if out.exists() else ''
            self.stderr = err.read_text(errors='replace') if err.exists() else ''
            self._dir.cleanup()
        return self.returncode


def run_script(script, args=(), env=None, timeout=None, **kwargs):
    """Run a repository script to its end in a forked process (see ``ToolProcess``);
    a ``subprocess.CompletedProcess`` with its text output."""
    proc = ToolProcess(script, args, env=env, **kwargs)
    proc.wait(timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout, proc.stderr)

"""tests/tool_process.py: a tool forked from the preloaded server sees what
``python <script> <args>`` from the repository root would show it."""
import json
import os
import signal
import subprocess
import sys
import time

from conftest import ROOT
from tool_process import PRELOAD, ToolProcess, run_script

SCRIPT = """
import atexit, json, os, sys
atexit.register(lambda: print('atexit ran'))
print(json.dumps(dict(argv=sys.argv, cwd=os.getcwd(), path=sys.path[:3], name=__name__,
                      var=os.environ.get('TOOL_PROCESS_VAR'),
                      start_method=__import__('multiprocessing').get_start_method(True),
                      threads=__import__('torch').get_num_threads())))
action = sys.argv[1]
if action == 'message':
    sys.exit('error: a message')
if action == 'raise':
    raise ValueError('boom')
if action == 'hang':
    import time
    open(sys.argv[2], 'w').close()
    time.sleep(60)
"""


def test_a_forked_tool_sees_a_new_interpreters_view(tmp_path):
    script = tmp_path / 'tool.py'
    script.write_text(SCRIPT)
    plugins = tmp_path / 'plugins'
    env = {**os.environ, 'TOOL_PROCESS_VAR': 'x', 'PYTHONPATH': str(plugins),
           'OMP_NUM_THREADS': '2'}
    proc = run_script(script, ['ok', 3], env=env)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.splitlines()[0])
    assert seen == dict(argv=[str(script), 'ok', '3'], cwd=str(ROOT),
                        path=[str(tmp_path), str(plugins), seen['path'][2]], name='__main__',
                        var='x', start_method=None, threads=2)
    assert 'tests' not in seen['path'][2]
    assert proc.stdout.splitlines()[-1] == 'atexit ran'

    message = run_script(script, ['message'], env=env)
    assert message.returncode == 1 and message.stderr.strip() == 'error: a message'
    error = run_script(script, ['raise'], env=env)
    assert error.returncode == 1 and error.stderr.strip().endswith('ValueError: boom')

    started = tmp_path / 'started'
    hung = ToolProcess(script, ['hang', started], env=env, new_session=True)
    while hung.poll() is None and not started.exists():
        time.sleep(0.01)
    os.killpg(hung.pid, signal.SIGKILL)  # its own process group
    assert hung.wait(timeout=30) == -signal.SIGKILL


def test_the_preloaded_imports_print_nothing():
    """What the server imports once would print its warnings once, not in each tool's
    output, where the console tests look for them."""
    proc = subprocess.run([sys.executable, '-c', f'import {", ".join(PRELOAD)}'], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout + proc.stderr == '', proc.stderr[-2000:]

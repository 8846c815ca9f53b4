"""torch's ``torchrun`` as tools/dist_train.sh and tools/dist_test.sh launch it, ending
a failed run on the processes' own messages:

    python tools/torchrun.py [torchrun options] SCRIPT [SCRIPT ARGS]

torchrun follows them with a traceback of its ``ChildFailedError`` and a failure
summary: for a mistake in a config, some thirty lines after the one that says what is
wrong. Here the run ends with the exit code of the first process that failed, and one
``error:`` line only where that process could not say why (killed by a signal), or
where the launcher itself cannot start (its port in use).
With several processes per node OMP_NUM_THREADS is 1 unless set, as torchrun makes it,
without its banner.
"""
import logging
import os
import signal
import sys

from torch.distributed import DistNetworkError
from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
from torch.distributed.run import determine_local_world_size, parse_args, run


def main(argv=None):
    # Its log lines about the failed process and the others it stops.
    logging.getLogger('torch.distributed.elastic.multiprocessing.api').setLevel(logging.CRITICAL)
    args = parse_args(argv)
    try:
        processes = determine_local_world_size(args.nproc_per_node)
    except ValueError as exc:  # 'gpu' without one, or not a number
        sys.exit(f'error: {args.nproc_per_node} processes per node: {exc}')
    if processes > 1:
        os.environ.setdefault('OMP_NUM_THREADS', '1')
    try:
        run(args)
    except DistNetworkError as exc:
        if 'EADDRINUSE' not in str(exc):
            raise
        sys.exit(f'error: port {args.master_port} is in use (another run on this machine?); '
                 'set PORT=<another port> for tools/dist_train.sh and tools/dist_test.sh')
    except ChildFailedError as exc:
        rank, failure = exc.get_first_failure()
        if failure.exitcode >= 0:
            sys.exit(failure.exitcode or 1)
        hint = ' (out of memory?)' if failure.exitcode == -signal.SIGKILL else ''
        print(f'error: process {rank} of the run was killed by {failure.signal_name()}{hint}',
              file=sys.stderr, flush=True)
        sys.exit(128 - failure.exitcode)


if __name__ == '__main__':
    main()

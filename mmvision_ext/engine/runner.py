"""The runner of every config of the project."""
import copy
import logging

from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop, Runner

from mmvision_ext.engine.checkpoint import check_checkpoint_file, find_resumable_checkpoint
from mmvision_ext.engine.progress import KnownRecordFilter, quiet_known_warnings
from mmvision_ext.engine.reproducibility import make_resumable
from mmvision_ext.errors import ConfigError, UserError
from mmvision_ext.registry import RUNNERS

_RESUMABLE_LOOPS = {'EpochBasedTrainLoop': 'ResumableEpochBasedTrainLoop',
                    'IterBasedTrainLoop': 'ResumableIterBasedTrainLoop'}


def without_idle_persistent_workers(dataloader):
    """Turn off ``persistent_workers`` in a dataloader config (a dict, changed in place)
    that has no workers: torch refuses the combination, which mmengine's runners hand
    it as configured."""
    if dataloader.get('num_workers', 0) == 0:
        dataloader['persistent_workers'] = False


@RUNNERS.register_module()
class ResumableRunner(Runner):
    """MMEngine's ``Runner`` for long runs that get killed: same arguments and
    checkpoint format (plain mmengine loads its checkpoints), plus

    - **exact resume**: data loaders seed each sample from its place in the run
      (``SeededDataset``), checkpoints carry every rank's global random states
      (``SafeCheckpointHook``), and the training loops resume at the next batch without
      loading the ones already trained (``Resumable*TrainLoop``). A run killed and
      resumed ends with the same weights, bit for bit, as one that never stopped
      (on GPUs, with deterministic algorithms: see docs/reliability.md);
    - **crash-safe checkpoints** (``SafeCheckpointHook`` in place of
      ``CheckpointHook``), and auto-resume (``resume=True`` without ``load_from``) from
      the newest checkpoint that reads back;
    - **a guard against NaN/Inf losses** (``NonFiniteLossHook``): the config key
      ``non_finite_loss`` is ``'stop'`` (default) or ``'skip'``;
    - ``num_workers=0`` works with ``persistent_workers=True`` in the config;
    - a test run reads only the test data: ``iter`` and ``epoch`` are 0 until training
      builds its loop, where mmengine's build it (and read the training set) to answer;
    - **compiled submodules**: ``compile=dict(modules=['backbone'], fullgraph=True)``
      compiles those submodules in place (``nn.Module.compile``: parameter names,
      checkpoints and resuming are unchanged) for training, validation and test; any
      other ``compile`` value is mmengine's (the whole ``train_step``);
    - **a quiet console** with ``console='progress'`` in the config (the tools set it
      unless ``--verbose``): progress bars, metrics and output paths on the console
      (``ConsoleProgressHook``), mmengine's warnings and errors too, while the log file
      in the work dir keeps everything.

    The configs of the project select it with ``runner_type = 'ResumableRunner'``.

    Args:
        default_hooks, custom_hooks: as mmengine's ``Runner``; ``CheckpointHook`` becomes
            ``SafeCheckpointHook``, and ``NonFiniteLossHook`` (and with a quiet console
            ``ConsoleProgressHook``) join the custom hooks.
        *args, **kwargs: mmengine's ``Runner`` arguments. Two keys of ``cfg`` are read:
            ``non_finite_loss`` (``'stop'`` or ``'skip'``) and ``console``
            (``'verbose'`` or ``'progress'``).
    """

    def __init__(self, *args, default_hooks=None, custom_hooks=None, **kwargs):
        default_hooks = copy.deepcopy(default_hooks) or {}
        checkpoint = default_hooks.setdefault('checkpoint', dict(interval=1))  # as mmengine
        if isinstance(checkpoint, dict) and checkpoint.get('type') in ('CheckpointHook', None):
            checkpoint['type'] = 'SafeCheckpointHook'
        custom_hooks = list(copy.deepcopy(custom_hooks) or [])
        cfg = kwargs.get('cfg')
        action = (cfg.get('non_finite_loss', 'stop') if cfg is not None else 'stop')
        if action not in ('stop', 'skip'):
            raise ConfigError(f"non_finite_loss must be 'stop' or 'skip', got {action!r}")
        custom_hooks.append(dict(type='NonFiniteLossHook', action=action))
        console = cfg.get('console', 'verbose') if cfg is not None else 'verbose'
        if console not in ('verbose', 'progress'):
            raise ConfigError(f"console must be 'verbose' or 'progress', got {console!r}")
        self._quiet_console = console == 'progress'
        if self._quiet_console:
            quiet_known_warnings()
            custom_hooks.append(dict(type='ConsoleProgressHook'))
        super().__init__(*args, default_hooks=default_hooks, custom_hooks=custom_hooks,
                         **kwargs)

    # mmengine's properties build the training loop, and with it the training set, when
    # asked before training: mmseg's visualization hook asks in test runs. Until train()
    # builds the loop both are 0, as the new loop would say.
    @property
    def iter(self):
        return self._train_loop.iter if isinstance(self._train_loop, BaseLoop) else 0

    @property
    def epoch(self):
        return self._train_loop.epoch if isinstance(self._train_loop, BaseLoop) else 0

    def build_logger(self, log_level='INFO', log_file=None, **kwargs):
        logger = super().build_logger(log_level, log_file, **kwargs)
        if self._quiet_console:  # the console handler only; the file handler keeps all
            for handler in logger.handlers:
                if type(handler) is logging.StreamHandler:
                    handler.setLevel(max(handler.level, logging.WARNING))
                    handler.addFilter(KnownRecordFilter())
        return logger

    @staticmethod
    def build_dataloader(dataloader, seed=None, diff_rank_seed=False):
        if isinstance(dataloader, dict):
            dataloader = copy.deepcopy(dataloader)
            without_idle_persistent_workers(dataloader)
        built = Runner.build_dataloader(dataloader, seed=seed, diff_rank_seed=diff_rank_seed)
        return make_resumable(built, 0 if seed is None else seed)

    def build_train_loop(self, loop):
        if isinstance(loop, dict):
            loop = copy.deepcopy(loop)
            if 'by_epoch' in loop and 'type' not in loop:
                loop['type'] = 'EpochBasedTrainLoop' if loop.pop('by_epoch') \
                    else 'IterBasedTrainLoop'
            loop['type'] = _RESUMABLE_LOOPS.get(loop.get('type'), loop.get('type'))
        return super().build_train_loop(loop)

    def _maybe_compile(self, target):
        if not self.compile_modules():
            super()._maybe_compile(target)

    def compile_modules(self):
        """Compile the submodules ``compile.modules`` names (once; see the class doc).
        Returns False when the config asks for no such compilation."""
        compile_cfg = self.cfg.get('compile')
        if not isinstance(compile_cfg, dict) or 'modules' not in compile_cfg:
            return False
        options = dict(compile_cfg)
        names = options.pop('modules')
        model = self.model.module if is_model_wrapper(self.model) else self.model
        for name in [names] if isinstance(names, str) else names:
            try:
                module = model.get_submodule(name)
            except AttributeError:
                raise ConfigError(f'compile.modules: the model has no submodule {name!r}; '
                                  f'its children: {", ".join(n for n, _ in model.named_children())}'
                                  ) from None
            if getattr(module, '_compiled_call_impl', None) is None:
                module.compile(**options)
        return True

    def val(self):
        self.compile_modules()
        return super().val()

    def test(self):
        self.compile_modules()
        return super().test()

    def load_or_resume(self):
        if self._has_loaded:
            return
        if self._resume and self._load_from is None:
            latest = find_resumable_checkpoint(self.work_dir)
            if latest is None:
                print_log(f'no checkpoint to resume from in {self.work_dir}: training starts '
                          'from the beginning', logger='current', level=logging.WARNING)
                self._resume = False
            else:
                self._load_from = latest
        elif self._resume and '://' not in str(self._load_from):
            check_checkpoint_file(self._load_from, 'checkpoint to resume from')
        super().load_or_resume()

    def load_checkpoint(self, filename, map_location='cpu', strict=False,
                        revise_keys=[(r'^module\.', '')]):  # noqa: B006  (mmengine's default)
        if not self._resume:  # load_from: mmengine's partial loading, with its warnings
            return super().load_checkpoint(filename, map_location, strict, revise_keys)
        try:  # a resumed run must get back every tensor it saved
            return super().load_checkpoint(filename, map_location, True, revise_keys)
        except RuntimeError as e:
            if 'do not match' not in str(e):
                raise
            detail = next((line.strip() for line in str(e).splitlines()[1:] if line.strip()), '')
            raise UserError(f'cannot resume from {filename}: it does not fit the model of this '
                            f'config ({detail}); resume with the config that wrote it') from e

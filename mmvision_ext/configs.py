"""The project's configs by name: ``upernet_patchconvnet_b60`` for
``configs/upernet_patchconvnet_b60.py``, from a source checkout or an installed wheel."""
import difflib
from pathlib import Path

from mmvision_ext.errors import ConfigError

_PACKAGE = Path(__file__).resolve().parent


def config_dirs():
    """Where the project's configs are: in the source checkout the package runs from
    (an editable install) and inside an installed wheel (``mmvision_ext/.mim/configs``,
    OpenMMLab's layout)."""
    dirs = [_PACKAGE / '.mim' / 'configs']
    if (_PACKAGE.parent / 'setup.py').is_file():
        dirs.insert(0, _PACKAGE.parent / 'configs')
    return [d for d in dirs if d.is_dir()]


def find_config(name):
    """The config file of a path or of a config name (``upernet_patchconvnet_b60``,
    with or without ``.py``); an unknown name is an error listing the close ones."""
    path = Path(name)
    if path.is_file():
        return path
    stem = path.name[:-3] if path.name.endswith('.py') else path.name
    dirs = config_dirs()
    if path.parent == Path('.'):  # a bare name, not a missing path
        for d in dirs:
            if (d / f'{stem}.py').is_file():
                return d / f'{stem}.py'
    known = config_names()
    close = difflib.get_close_matches(stem, known, n=5, cutoff=0.6)
    hint = (f'; close names: {", ".join(close)}' if close else
            f'; {len(known)} configs are known (ls {dirs[0]})' if known else '')
    raise ConfigError(f'no config file or config name {str(name)!r}{hint}')


def config_names():
    """Names of every config the project ships (``_base_`` files excluded)."""
    return sorted({p.stem for d in config_dirs() for p in d.glob('*.py')})

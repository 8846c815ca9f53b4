"""mmvision_ext: DeiT III, DeiT, CaiT, ResMLP and PatchConvNet for OpenMMLab."""
import re
import shutil
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).parent
VERSION = re.search(r"__version__ = '([^']+)'",
                    (ROOT / 'mmvision_ext' / 'version.py').read_text()).group(1)



class BuildPyWithMim(build_py):
    """Ship ``configs/`` (with the metafiles), ``tools/`` and ``model-index.yml`` inside
    the package as ``mmvision_ext/.mim/`` (the layout of mmseg, mmdet and mmpretrain
    wheels, which ``mim`` and ``mmvision_ext.configs.find_config`` read). An editable install reads them from
    the checkout instead."""

    def run(self):
        super().run()
        if getattr(self, 'editable_mode', False):
            return
        mim = Path(self.build_lib) / 'mmvision_ext' / '.mim'
        for name in ('configs', 'tools'):
            shutil.copytree(ROOT / name, mim / name, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        shutil.copy2(ROOT / 'model-index.yml', mim / 'model-index.yml')


setup(
    name='mmvision_ext',
    version=VERSION,
    description=('Isotropic vision backbones of Touvron (2022) - DeiT III, DeiT, '
                 'CaiT, ResMLP, PatchConvNet - for mmseg, mmdet and classification'),
    long_description=(ROOT / 'README.md').read_text() if (ROOT / 'README.md').exists() else '',
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    packages=find_packages(include=['mmvision_ext', 'mmvision_ext.*']),
    python_requires='>=3.11,<3.12',
    # mmcv 2.1.0 is built from source by tools/setup_env.sh (PyPI has no wheel
    # for this torch); it is listed so that pip checks it is there.
    install_requires=[
        'torch>=2.1',
        'mmcv>=2.1.0,<2.2.0',
        'mmengine>=0.10.0,<0.11',
        'mmsegmentation>=1.2.2,<1.3',
        'mmdet>=3.3.0,<3.4',
        'mmpretrain>=1.2.0,<1.3',
        'timm>=1.0.15,<1.1',
        'pycocotools>=2.0.7',
        'ftfy',
        'regex',
        'tqdm',
    ],
    extras_require={'tests': ['pytest>=8,<9', 'pytest-xdist>=3.5']},
    cmdclass={'build_py': BuildPyWithMim},
    zip_safe=False,
)

"""Write ImageNet-21k's file list once, so that training starts without walking its
folders: ``DST/meta/train.txt`` (``<synset>/<file> <label>``) and ``DST/meta/classes.txt``
(the sorted synsets), read by the ``ImageNet21kFileList`` dataset (and by mmpretrain's
``ImageNet21k``).

    python tools/dataset_converters/imagenet21k_file_list.py data/imagenet21k/train data/imagenet21k
"""
import argparse
import os.path as osp
import sys
import time

from mmvision_ext.datasets.imagenet21k import write_file_list
from mmvision_ext.errors import UserError
from mmvision_ext.runner_utils import output_folder


def main(argv=None):
    parser = argparse.ArgumentParser(description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('images', help='the folder of synset folders (n01440764/, ...)')
    parser.add_argument('dst', type=output_folder,
                        help='the dataset folder; the lists go to DST/meta/')
    parser.add_argument('--overwrite', action='store_true', help='replace existing lists')
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        images, classes = write_file_list(args.images, osp.join(args.dst, 'meta', 'train.txt'),
                                          osp.join(args.dst, 'meta', 'classes.txt'),
                                          overwrite=args.overwrite)
    except UserError as e:
        sys.exit(f'error: {e}')
    print(f'{images} images of {classes} synsets listed in {time.perf_counter() - start:.1f} s '
          f'-> {osp.join(args.dst, "meta")}/train.txt, classes.txt')


if __name__ == '__main__':
    main()

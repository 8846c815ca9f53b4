"""Write a small synthetic dataset in the real on-disk format of ADE20k, COCO, ImageNet,
CIFAR-10 or CIFAR-100 (two label levels, for Grafit).

    python tools/make_demo_data.py data/synthetic_ade20k --task ade20k
    python tools/make_demo_data.py data/synthetic_coco --task coco --num-train 300
    python tools/make_demo_data.py data/synthetic_two_level --task two_level --num-train 2000
"""
import argparse
import os
import sys
import time

from mmvision_ext.datasets.synthetic import DEFAULT_SIZE, TASKS, make_dataset
from mmvision_ext.runner_utils import output_folder


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('out_dir', type=output_folder, help='folder to write the dataset into')
    parser.add_argument('--task', required=True, choices=TASKS,
                        help='which format to write')
    parser.add_argument('--num-train', type=int, default=200)
    parser.add_argument('--num-val', type=int, default=50)
    parser.add_argument('--size', type=int, default=None,
                        help='short side in pixels (default: %s)' % DEFAULT_SIZE)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--overwrite', action='store_true',
                        help='write into a non-empty out_dir (files of the same name are replaced)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if os.path.isdir(args.out_dir) and os.listdir(args.out_dir) and not args.overwrite:
        sys.exit(f'error: {args.out_dir} exists and is not empty; choose another folder '
                 'or pass --overwrite')
    start = time.time()
    try:
        make_dataset(args.task, args.out_dir, args.num_train, args.num_val, args.size, args.seed,
                     show_progress=True)
    except ValueError as e:
        sys.exit(f'error: {e}')
    print(f'wrote synthetic {args.task} ({args.num_train} train / {args.num_val} val) '
          f'to {args.out_dir} in {time.time() - start:.1f}s')


if __name__ == '__main__':
    main()

"""Plot training curves (loss, learning rate, validation metrics) of one or more runs.

    python tools/analysis/plot_logs.py work_dirs/demo --out curves.png
    python tools/analysis/plot_logs.py work_dirs/run_a work_dirs/run_b --keys loss mIoU --out cmp.png

Reads mmengine's JSON scalars (WORK_DIR/<timestamp>/vis_data/scalars.json) of every
run in each work dir, resumed runs included; one panel per key, one line per work dir.
"""
import argparse

from mmvision_ext.runner_utils import figure_file, user_errors
from mmvision_ext.visualization import plot_runs


def main(argv=None):
    parser = argparse.ArgumentParser(description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('work_dirs', nargs='+', help='work dirs written by tools/train.py')
    parser.add_argument('--keys', nargs='+', help='scalars to plot (default: loss, lr and the '
                        'validation metric the logs have: mIoU, accuracy/top1 or coco mAPs)')
    parser.add_argument('--labels', nargs='+', help='legend names, one per work dir')
    parser.add_argument('--out', type=figure_file, default='curves.png',
                        help='picture to write (.png, .pdf, .svg, ...)')
    args = parser.parse_args(argv)
    if args.labels and len(args.labels) != len(args.work_dirs):
        parser.error('give one --labels name per work dir')
    with user_errors():
        counts = plot_runs(args.work_dirs, args.keys, args.out, args.labels)
    for label, per_key in counts.items():
        print(f'{label}: ' + ', '.join(f'{k} {n} points' for k, n in per_key.items()))
    print(f'curves: {args.out}')


if __name__ == '__main__':
    main()

"""Confusion matrix of a segmentation model on its config's test set.

    python tools/analysis/confusion_matrix.py upernet_patchconvnet_b60 CKPT --out cm.png

Counts every labelled pixel (ground truth in rows, prediction in columns; the ignore
index is left out), draws the row-normalised matrix to --out and writes the counts,
class names and per-class recall to the same name with .json.
"""
import argparse
import json
from pathlib import Path

from mmvision_ext.runner_utils import (
    add_cfg_options_arg, figure_file, torch_device, user_errors
)


def main(argv=None):
    parser = argparse.ArgumentParser(description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('config', help='config file or config name')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', type=figure_file, default='confusion_matrix.png',
                        help='picture to write (and the counts as JSON beside it)')
    add_cfg_options_arg(parser)
    parser.add_argument('--device', type=torch_device, default='cpu', help='cpu or cuda[:N]')
    args = parser.parse_args(argv)
    with user_errors() as run:
        from mmvision_ext.engine.progress import quiet_known_warnings
        quiet_known_warnings()
        from mmvision_ext.analysis import segmentation_confusion
        from mmvision_ext.apis import init_model
        from mmvision_ext.engine.checkpoint import check_checkpoint_file
        from mmvision_ext.errors import UserError
        from mmvision_ext.runner_utils import check_datasets, load_config, task_of
        from mmvision_ext.visualization import plot_confusion_matrix
        check_checkpoint_file(args.checkpoint)
        run.cfg = load_config(args.config, args.cfg_options)  # before the model: keys named
        model = init_model(run.cfg, args.checkpoint, device=args.device)
        if task_of(model.cfg) != 'seg':
            raise UserError(f'{args.config} is not a segmentation config; the confusion '
                            'matrix counts pixels of semantic segmentation')
        check_datasets(model.cfg, ['test_dataloader'])
        counts, classes = segmentation_confusion(model, model.cfg)
        plot_confusion_matrix(counts, classes, args.out)
        # Classes absent from the ground truth have no recall (mmseg's Acc is NaN there).
        labelled = counts.sum(1)
        recall = [float(counts[i, i] / n) if n else None for i, n in enumerate(labelled)]
        report = dict(classes=list(classes), counts=counts.tolist(), recall=recall,
                      pixel_accuracy=float(counts.trace() / max(counts.sum(), 1)))
        Path(args.out).with_suffix('.json').write_text(json.dumps(report, indent=1))
    present = [r for r in recall if r is not None]
    if not present:
        raise SystemExit(f'error: the test set of {args.config} has no labelled pixel; '
                         'check its annotations (and reduce_zero_label)')
    print(f'pixel accuracy {report["pixel_accuracy"]:.3f}, mean recall '
          f'{sum(present) / len(present):.3f} over the {len(present)} classes present')
    print(f'confusion matrix: {args.out} (counts: {Path(args.out).with_suffix(".json")})')


if __name__ == '__main__':
    main()

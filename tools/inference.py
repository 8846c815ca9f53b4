"""Predict on images with any config of the project: painted results and a JSON of
predictions (class ids and names; boxes, scores and RLE masks for detection).

    python tools/inference.py upernet_patchconvnet_b60 CKPT photo.jpg --out vis/
    python tools/inference.py configs/mask_rcnn_patchconvnet_s60_3x_coco.py CKPT images/ --out vis/ --tta

Writes DIR/<image name>_pred.png per image (segmentation: also DIR/<image name>_labels.png,
the class id of each pixel, numbered as the dataset's annotation files, as mmseg's
``tools/test.py --out`` writes them) and DIR/predictions.json (one entry per image).
Images of the same name with other extensions keep the extension in their output names.
"""
import argparse
import json
from pathlib import Path


from mmvision_ext.errors import UserError
from mmvision_ext.runner_utils import output_folder, torch_device, user_errors


def image_paths(source):
    from mmvision_ext.inference import IMAGE_SUFFIXES
    path = Path(source)
    if path.is_file():
        return [path]
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not found:
            raise UserError(f'no images ({", ".join(IMAGE_SUFFIXES)}) in folder {source}')
        return found
    raise UserError(f'{source}: no such image or folder')


def output_stems(paths):
    """Output name stem per image: its stem, or its whole name where two images share one."""
    stems = [p.stem for p in paths]
    return [p.name.replace('.', '_') if stems.count(p.stem) > 1 else p.stem for p in paths]


def main(argv=None):
    parser = argparse.ArgumentParser(description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('config', help='config file or config name')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('images', help='an image or a folder of images')
    parser.add_argument('--out', type=output_folder, required=True,
                        help='folder for the pictures and the JSON')
    parser.add_argument('--tta', action='store_true',
                        help='test-time augmentation, as tools/test.py --tta')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='detection: keep instances scoring at least this (default 0.3)')
    parser.add_argument('--device', type=torch_device, default='cpu', help='cpu or cuda[:N]')
    args = parser.parse_args(argv)
    with user_errors():
        import mmcv
        from PIL import Image

        from mmvision_ext.engine.progress import quiet_known_warnings
        from mmvision_ext.inference import Predictor
        quiet_known_warnings()
        paths = image_paths(args.images)
        out = Path(args.out)
        if (out / 'predictions.json').exists():
            raise UserError(f'--out {out} holds the predictions of an earlier run; remove them '
                            'or name another folder')
        if out.resolve() == Path(args.images).resolve():
            raise UserError(f'--out {out} is the images folder, whose pictures it would mix '
                            'with the predictions; name another folder')
        predictor = Predictor(args.config, args.checkpoint, tta=args.tta, device=args.device)
        results = []
        for path, stem in zip(paths, output_stems(paths)):
            # Read as the test pipeline reads it (mmcv, EXIF orientation applied); OpenCV
            # raises on some files that are not images, returns None on others.
            try:
                img = mmcv.imread(str(path), channel_order='rgb')
            except Exception:
                img = None
            if img is None:
                raise UserError(f'{path} is not a readable image')
            sample = predictor(path)
            out.mkdir(parents=True, exist_ok=True)
            picture = out / f'{stem}_pred.png'
            predictor.paint(img, sample, picture, args.score_thr)
            result = dict(image=str(path), picture=str(picture), task=predictor.task,
                          **predictor.to_json(sample, args.score_thr))
            if predictor.task == 'seg':  # the class id of every pixel, as mmseg's --out
                result['label_map'] = str(out / f'{stem}_labels.png')
                Image.fromarray(predictor.label_map(sample)).save(result['label_map'])
            results.append(result)
            print(f'{path.name}: {summary(results[-1])}')
        (out / 'predictions.json').write_text(json.dumps(results, indent=1))
    print(f'pictures and predictions.json in {out}')


def summary(result):
    if result['task'] == 'cls':
        return f'{result["pred_class"]} ({result["pred_score"]:.3f})'
    if result['task'] == 'seg':
        top = sorted(result['classes'], key=lambda c: -c['pixels'])[:3]
        return ', '.join(f'{c["name"]} {100 * c["fraction"]:.0f}%' for c in top)
    return f'{len(result["instances"])} instances: ' + ', '.join(
        f'{i["name"]} {i["score"]:.2f}' for i in result['instances'][:5])


if __name__ == '__main__':
    main()

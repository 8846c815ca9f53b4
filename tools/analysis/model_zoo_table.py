"""Write docs/model_zoo.md and the model index (model-index.yml, configs/metafiles/):
parameters and FLOPs of every config, beside the thesis' figures.

    python tools/analysis/model_zoo_table.py [--out docs/model_zoo.md] [--skip-dense-flops]
    python tools/analysis/model_zoo_table.py --metafiles-only

Classification at 224x224 (1000 classes); UperNet at 512x2048 (ResMLP: 224x224
windows, reported per window); Mask R-CNN configs where present at 800x1333.
``--metafiles-only`` counts parameters again (on the meta device, in seconds) and takes
the FLOPs from the docs/model_zoo.md that a full run wrote.
"""
import argparse
import glob
import os
import os.path as osp
import re
import sys

import torch
import yaml

from mmvision_ext.analysis import count_flops, count_params, tensor_forward
from mmvision_ext.apis import init_model
from zoo_figures import (COLLECTIONS, OFFICIAL_WEIGHTS, THESIS_CLS, THESIS_DET, THESIS_SEG,
                         THESIS_TOP1, THESIS_TRANSFER, TRANSFER_DATASETS)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
def measure(config, shape, flops=True):
    model = init_model(config)
    params = count_params(model) / 1e6
    if not flops:
        return params, None
    with torch.no_grad():
        gflops = count_flops(tensor_forward(model, shape), (torch.zeros(1, 3, *shape),)) / 1e9
    return params, gflops


def fmt(v, digits=1):
    return '—' if v is None else f'{v:.{digits}f}'


def family_of(config_name):
    rest = re.sub(r'^(cls|upernet|mask_rcnn)_', '', config_name)
    return next(f for f in sorted(COLLECTIONS, key=len, reverse=True)
                if rest.startswith(f + '_'))


def _num(text):
    try:
        return float(text.split()[0])
    except (ValueError, IndexError):
        return None


def model_entry(path, gflops):
    """One model of the index: config, parameters (counted), FLOPs, thesis results and
    the official checkpoint it converts from."""
    name = osp.splitext(osp.basename(path))[0]
    family = family_of(name)
    params = count_params(init_model(path, device='meta'))
    entry = {'Name': name, 'In Collection': COLLECTIONS[family][0],
             'Config': f'configs/{name}.py', 'Metadata': {'Parameters': int(params)}}
    if gflops is not None:
        entry['Metadata']['FLOPs'] = int(round(gflops * 1e9, -6))
    key = re.sub(r'^(cls|upernet|mask_rcnn)_|_in1k$|_3x_coco$', '', name)
    transfer = re.match(r'cls_(\w+?)_({})$'.format('|'.join(TRANSFER_DATASETS)), name)
    if transfer:
        model, dataset = transfer.groups()
        entry['Metadata']['Training Data'] = ['ImageNet-1k', TRANSFER_DATASETS[dataset]]
        table, *top1 = THESIS_TRANSFER[model]
        entry['Results'] = [{'Task': 'Image Classification',
                             'Dataset': TRANSFER_DATASETS[dataset],
                             'Metrics': {'Top 1 Accuracy': top1[list(TRANSFER_DATASETS).index(
                                 dataset)]}}]
        entry['Thesis Table'] = table
    elif name.startswith('cls_'):
        entry['Metadata']['Training Data'] = (
            'ImageNet-21k' if name.endswith('_in21k') else
            ['ImageNet-21k', 'ImageNet-1k'] if '_in21k_ft_' in name else 'ImageNet-1k')
        if key in THESIS_TOP1:
            top1, table = THESIS_TOP1[key]
            entry['Results'] = [{'Task': 'Image Classification', 'Dataset': 'ImageNet-1k',
                                 'Metrics': {'Top 1 Accuracy': top1}}]
            entry['Thesis Table'] = table
        if key in OFFICIAL_WEIGHTS:
            entry['Converted From'] = {'Weights': OFFICIAL_WEIGHTS[key],
                                       'Code': 'https://github.com/facebookresearch/deit'}
    elif name.startswith('upernet_'):
        entry['Metadata']['Training Data'] = 'ADE20K'
        ss, ms = [_num(v) for v in THESIS_SEG.get(key, ('', '', '—', '—'))[2:]]
        metrics = {k: v for k, v in (('mIoU', ss), ('mIoU(ms+flip)', ms)) if v is not None}
        if metrics:
            entry['Results'] = [{'Task': 'Semantic Segmentation', 'Dataset': 'ADE20K',
                                 'Metrics': metrics}]
            entry['Thesis Table'] = 'T6.12' if family == 'deit3' else \
                'T4.6' if family == 'resmlp' else 'T5.3'
    else:
        entry['Metadata']['Training Data'] = 'COCO'
        if key in THESIS_DET:
            box, mask = (_num(v) for v in THESIS_DET[key][2:])
            entry['Results'] = [
                {'Task': 'Object Detection', 'Dataset': 'COCO', 'Metrics': {'box AP': box}},
                {'Task': 'Instance Segmentation', 'Dataset': 'COCO',
                 'Metrics': {'mask AP': mask}}]
            entry['Thesis Table'] = 'T5.6'
    return family, entry


def zoo_configs():
    """Every config of the zoo: not the demos, not the distillation teacher, not Grafit's
    (a training method on mmpretrain's ResNets, with its own table in docs/grafit.md)."""
    return [p for p in sorted(glob.glob(osp.join(ROOT, 'configs', '*.py')))
            if 'demo' not in p and 'teacher' not in p
            and not osp.basename(p).startswith('grafit_')]


def flops_from_table(md_path):
    """GFLOPs per config name as docs/model_zoo.md lists them."""
    flops = {}
    for line in open(md_path):
        m = re.match(r'\| \[(\w+)\.py\]', line)
        if not m:
            continue
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        col = 4 if m.group(1).startswith('upernet_') else 3
        flops[m.group(1)] = _num(cells[col])
    return flops


def model_index_files(flops):
    """{path: text} of configs/metafiles/<family>.yml and of model-index.yml importing
    them (mim's layout)."""
    per_family = {f: [] for f in COLLECTIONS}
    for path in zoo_configs():
        name = osp.splitext(osp.basename(path))[0]
        family, entry = model_entry(path, flops.get(name))
        per_family[family].append(entry)
    files, imports = {}, []
    for family, models in per_family.items():
        title, paper, url = COLLECTIONS[family]
        doc = {'Collections': [{'Name': title, 'Metadata': {'Architecture': [title]},
                                'Paper': {'Title': paper, 'URL': url},
                                'README': 'README.md'}],
               'Models': models}
        files[osp.join(ROOT, 'configs', 'metafiles', f'{family}.yml')] = (
            '# Generated by tools/analysis/model_zoo_table.py; FLOPs at the sizes of '
            'docs/model_zoo.md.\n' + yaml.safe_dump(doc, sort_keys=False, width=100))
        imports.append(f'configs/metafiles/{family}.yml')
    files[osp.join(ROOT, 'model-index.yml')] = yaml.safe_dump({'Import': imports},
                                                              sort_keys=False)
    return files


def write_model_index(flops, check=False):
    """Write the model index; with ``check``, only say which of its files differ from
    what the configs give now (exit status 1 if any)."""
    files = model_index_files(flops)
    if check:
        stale = [path for path, text in files.items()
                 if not osp.isfile(path) or open(path).read() != text]
        if stale:
            sys.exit('error: out of date: ' + ', '.join(osp.relpath(p, ROOT) for p in stale)
                     + '; run python tools/analysis/model_zoo_table.py --metafiles-only')
        print(f'the model index ({len(files)} files) is up to date')
        return
    for path, text in files.items():
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(text)
    print(f'wrote {len(files)} files: model-index.yml and the metafiles in configs/metafiles')


def main(argv=None):
    parser = argparse.ArgumentParser(description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('--out', default=osp.join(ROOT, 'docs', 'model_zoo.md'))
    parser.add_argument('--skip-dense-flops', action='store_true')
    parser.add_argument('--metafiles-only', action='store_true',
                        help='write only the model index, FLOPs from --out')
    parser.add_argument('--check', action='store_true',
                        help='with --metafiles-only: write nothing, fail if the index is stale')
    args = parser.parse_args(argv)
    if args.check and not args.metafiles_only:
        parser.error('--check goes with --metafiles-only')
    if args.metafiles_only:
        write_model_index(flops_from_table(args.out), check=args.check)
        return
    flops = {}
    lines = ['# Model zoo', '',
             'Generated by `python tools/analysis/model_zoo_table.py`. FLOPs are '
             'multiply-accumulates counted by `mmengine.analysis` (fvcore convention: matmuls, '
             'convolutions and norms; attention matmuls included). Checkpoints: convert the '
             'official ImageNet weights with `tools/model_converters/official2mmvx.py` '
             '(see the README); the project ships none.', '',
             '## Classification (224x224, 1000 classes)', '',
             '| config | params (M) | thesis | GFLOPs | thesis |', '|---|---|---|---|---|']
    for path in sorted(glob.glob(osp.join(ROOT, 'configs', 'cls_*_in1k.py'))):
        if '_384_' in path or 'teacher' in path:
            continue  # fine-tuning (same models at 384) and the distillation teacher
        # ImageNet-21k fine-tunings: the 1k model, its figures in the thesis' table.
        name = re.sub(r'^cls_|(_in21k_ft)?_in1k\.py$', '', osp.basename(path))
        params, gflops = measure(path, (224, 224))
        flops[osp.splitext(osp.basename(path))[0]] = gflops
        tp, tf = THESIS_CLS.get(name, ('—', '—'))
        lines.append(f'| [{osp.basename(path)}](../configs/{osp.basename(path)}) | '
                     f'{params:.1f} | {tp} | {gflops:.1f} | {tf} |')
        print(lines[-1], flush=True)
    lines += ['', 'CaiT-M24/M36: our count agrees with the closed form (35.8 / 53.4 G); the '
              "thesis' figures are 0.5 % higher.", '',
              '## Semantic segmentation: UperNet, ADE20k (512x2048)', '',
              'The thesis counts FLOPs of its dense models without the attention matmuls (the '
              'mmcv counter it used ignores them): the column "w/o attn" removes them for '
              'comparison. Its parameter counts of PatchConvNet models include the '
              'attention-pooling head and classifier of the ImageNet model, which a segmenter '
              'does not use: "+ pool head" adds them back.', '',
              '| config | params (M) | + pool head | thesis | GFLOPs | w/o attn | thesis | '
              'mIoU ss / ms (thesis) |', '|---|---|---|---|---|---|---|---|']
    from mmvision_ext.converters import build_classifier
    for path in sorted(glob.glob(osp.join(ROOT, 'configs', 'upernet_*.py'))):
        name = re.sub(r'^upernet_|\.py$', '', osp.basename(path))
        if 'demo' in name:
            continue
        shape = (224, 224) if name.startswith('resmlp') else (512, 2048)
        params, gflops = measure(path, shape, flops=not args.skip_dense_flops)
        flops[osp.splitext(osp.basename(path))[0]] = gflops
        no_attn = None
        if gflops is not None and not name.startswith(('patchconvnet', 'resmlp', 'cait')):
            from mmvision_ext import analysis
            model = init_model(path)
            analyzer = analysis.FlopAnalyzer(tensor_forward(model, shape),
                                             (torch.zeros(1, 3, *shape),))
            analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            analyzer.set_op_handle('aten::baddbmm', analysis.baddbmm_flop_jit)
            with torch.no_grad():
                no_attn = analyzer.total() / 1e9  # SDPA left without a handle
        elif gflops is not None and name.startswith('patchconvnet'):
            no_attn = gflops
        pool = None
        if name.startswith('patchconvnet'):
            clf = build_classifier(dict(family='patchconvnet', arch=name.split('_')[1],
                                        num_classes=1000, img_size=224, distilled=False,
                                        multi_token=False), 'meta')
            pool = params + count_params(clf.head) / 1e6
        tp, tf, ss, ms = THESIS_SEG.get(name, ('—', '—', '—', '—'))
        shape_note = ' (per 224 window)' if name.startswith('resmlp') else ''
        lines.append(f'| [{osp.basename(path)}](../configs/{osp.basename(path)}) | '
                     f'{params:.1f} | {fmt(pool)} | {tp} | {fmt(gflops, 0)}{shape_note} | '
                     f'{fmt(no_attn, 0)} | {tf} | {ss} / {ms} |')
        print(lines[-1], flush=True)
    det = sorted(glob.glob(osp.join(ROOT, 'configs', 'mask_rcnn_*_3x_coco.py')))
    if det:
        lines += ['', '## Instance segmentation: Mask R-CNN 3x, COCO (800x1333)', '',
                  '| config | params (M) | thesis | GFLOPs | thesis | box / mask AP (thesis) |',
                  '|---|---|---|---|---|---|']
        for path in det:
            name = re.sub(r'^mask_rcnn_|_3x_coco\.py$', '', osp.basename(path))
            params, gflops = measure(path, (800, 1333), flops=not args.skip_dense_flops)
            flops[osp.splitext(osp.basename(path))[0]] = gflops
            tp, tf, box, mask = THESIS_DET.get(name, ('—', '—', '—', '—'))
            lines.append(f'| [{osp.basename(path)}](../configs/{osp.basename(path)}) | '
                         f'{params:.1f} | {tp} | {fmt(gflops, 0)} | {tf} | {box} / {mask} |')
    with open(args.out, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    print(f'wrote {args.out}')
    write_model_index(flops)


if __name__ == '__main__':
    main()

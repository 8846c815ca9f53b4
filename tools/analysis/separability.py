"""The separability experiment of thesis Table 2.1 on a trained Grafit model (or any of
its baselines): random fine labels, linear classifiers on the fixed trunk features.

    python tools/analysis/separability.py configs/grafit_resnet50_cifar100.py CKPT --splits 10

Each coarse class of the training set is split at random into two halves (2C synthetic
fine classes); a linear classifier fitted on the trunk features f(x) of the training
images classifies them; its top-1 on those images, mean ± std over the splits, is
reported without and with coarse conditioning. The higher, the more finely the trunk
separates images that share a coarse label. Prints the figures and writes --out (JSON).
"""
import argparse
import json

from mmvision_ext.runner_utils import (
    add_cfg_options_arg, output_file, positive_int, torch_device, user_errors
)


def main(argv=None):
    parser = argparse.ArgumentParser(description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('config', help='config file or config name')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--splits', type=positive_int, default=10,
                        help='random splits (thesis: 10)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', type=output_file('.json'), default='separability.json',
                        help='JSON to write')
    add_cfg_options_arg(parser)
    parser.add_argument('--device', type=torch_device, default='cpu', help='cpu or cuda[:N]')
    args = parser.parse_args(argv)
    with user_errors() as run:
        from mmvision_ext.engine.progress import quiet_known_warnings
        quiet_known_warnings()
        import torch
        from mmengine.runner import Runner

        from mmvision_ext.analysis import separability
        from mmvision_ext.apis import init_model
        from mmvision_ext.engine.checkpoint import check_checkpoint_file
        from mmvision_ext.engine.hooks import GrafitMemoryHook
        from mmvision_ext.errors import UserError
        from mmvision_ext.runner_utils import check_datasets
        check_checkpoint_file(args.checkpoint)
        model = init_model(args.config, args.checkpoint, device=args.device,
                           cfg_options=args.cfg_options)
        run.cfg = model.cfg
        if not hasattr(model, 'trunk'):
            raise UserError(f'{args.config} is not a Grafit config (model type Grafit)')
        check_datasets(model.cfg, ['train_dataloader'])
        loader = Runner.build_dataloader(GrafitMemoryHook.memory_dataloader_cfg(model.cfg))
        features, coarse = [], []
        with torch.no_grad():
            for batch in loader:
                data = model.data_preprocessor(batch, False)
                features.append(model.trunk(data['inputs']).cpu())
                coarse += [int(s.coarse_label) for s in data['data_samples']]
        result = separability(torch.cat(features), torch.tensor(coarse), args.splits, args.seed)
        for key, (mean, std) in result.items():
            print(f'{key}: top-1 {mean:.1f} ± {std:.1f} %')
        with open(args.out, 'w') as f:
            json.dump(dict(config=str(args.config), checkpoint=str(args.checkpoint),
                           splits=args.splits, **{k: dict(mean=m, std=s)
                                                  for k, (m, s) in result.items()}), f, indent=1)


if __name__ == '__main__':
    main()

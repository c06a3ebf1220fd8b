/**
 * The CIFAR-10 ResNet-20 app: the paper's two CIFAR recipes (spec 6), on the CIFAR-10 binary
 * batches, downloaded and checked on request.
 */
import type { AppSpec } from '@csq/bench';

/** Settings of `--smoke`: two epochs (one search, one ticket) over 32 images, batches of 16. */
export const CIFAR_SMOKE = { epochs: 2, batch: 16, limitTrain: 32, evalBatch: 50 } as const;

/** The app's description for the shared harness. */
export const CIFAR_APP: AppSpec = {
  name: 'cifar10-resnet20',
  title: 'CIFAR-10, ResNet-20 (CSQ against the float baseline)',
  command: 'csq-cifar10-resnet20',
  recipes: ['cifar-n8t2', 'cifar-n6t3a4'],
  dataKind: 'cifar10',
  defaultData: 'data/cifar10',
  download: true,
  smoke: () => ({ ...CIFAR_SMOKE }),
  dataHelp:
    'Data: the CIFAR-10 binary version (data_batch_1..5.bin and test_batch.bin in DIR or in\n' +
    'DIR/cifar-10-batches-bin). --download fetches cifar-10-binary.tar.gz from the Toronto site\n' +
    'and checks its md5 (mirror: CSQ_DOWNLOAD_BASE_URL).',
};

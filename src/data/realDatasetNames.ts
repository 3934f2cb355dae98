/** The names of the real data sets and of their classes, apart from where their files live (so a browser build can validate specs). */
export const REAL_DATASETS = ['mnist', 'fashionMnist', 'kmnist', 'cifar10'] as const;
export type RealDataset = (typeof REAL_DATASETS)[number];

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

export const DATASET_CLASSES: Readonly<Record<RealDataset, readonly string[]>> = {
  mnist: DIGITS,
  fashionMnist: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  kmnist: ['お', 'き', 'す', 'つ', 'な', 'は', 'ま', 'や', 'れ', 'を'],
  cifar10: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
};

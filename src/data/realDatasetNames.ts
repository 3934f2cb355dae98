/** The names of the real data sets, apart from where their files live (so a browser build can validate specs). */
export const REAL_DATASETS = ['mnist', 'fashionMnist', 'kmnist', 'cifar10'] as const;
export type RealDataset = (typeof REAL_DATASETS)[number];

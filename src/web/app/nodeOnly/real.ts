/** Real data sets are files on disk: the browser build trains the synthetic toys only. */
export function realDataSplit(): never {
  throw new Error('data.name: real data sets load in Node only (featlab run); the explorer trains the synthetic toys');
}

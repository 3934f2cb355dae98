/**
 * The TypeScript side of native/abi.json, the one table of what crosses into the native addon: the
 * objects' field names must be those of the interfaces in backend.ts, or this file does not compile
 * (the C++ names every field through the header generated from the same table, so a field renamed on
 * one side only fails a build). The code lists are checked against ACTIVATIONS and LOSSES by
 * test/models/mlp/nativeAbi.test.ts.
 */
import type table from '../../../native/abi.json';
import type { MlpBatch, MlpEvaluation, MlpGradients, MlpTrainControl } from './kernels.js';

type Fields<Name extends keyof (typeof table)['objects']> = keyof (typeof table)['objects'][Name];
type SameKeys<A, B> = [Exclude<A, B>, Exclude<B, A>] extends [never, never] ? true : { onlyInTypeScript: Exclude<A, B>; onlyInTable: Exclude<B, A> };

/** Each is `true` exactly when the interface and the table name the same fields (else the type says which differ). */
export const ABI_FIELDS_AGREE: [
  SameKeys<keyof MlpBatch, Fields<'batch'>>,
  SameKeys<keyof MlpEvaluation, Fields<'evaluation'>>,
  SameKeys<keyof MlpGradients, Fields<'gradients'>>,
  SameKeys<keyof MlpTrainControl, Fields<'trainControl'>>,
] = [true, true, true, true];

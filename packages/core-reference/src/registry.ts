/**
 * The CPU reference kernels under the upstream specifiers (spec §7): what the backend offers as
 * its "native" kernels and what every GPU kernel is compared with.
 */
import { mlstmChunkwise } from './chunkwise.js';
import { type MlstmChunkwiseGradients, mlstmChunkwiseBackward } from './chunkwise-backward.js';
import { MlstmArgumentError } from './errors.js';
import { mlstmParallel, mlstmParallelBackward } from './parallel.js';
import {
  type MlstmRecurrentStepArgs,
  type MlstmRecurrentStepResult,
  type MlstmSequenceResult,
  mlstmRecurrentSequence,
  mlstmRecurrentStep,
} from './recurrent.js';
import { mlstmSigParallel, mlstmSigParallelBackward } from './siging/parallel.js';
import type { Tensor } from './tensor.js';
import type { MlstmInitialStates, MlstmSequenceInputs, MlstmSigStates, MlstmStates } from './types.js';
import { rejectStates } from './validate.js';

/** Arguments accepted by every sequence kernel of the registry (unused ones are ignored). */
export interface ReferenceKernelArgs extends MlstmSequenceInputs, MlstmInitialStates {
  eps?: number;
  /** chunkwise kernels only (default 64) */
  chunkSize?: number;
  /** chunkwise kernels only; parallel kernels reject `true` */
  returnLastStates?: boolean;
  /** siging kernels only (default true) */
  normalize?: boolean;
  /** siging kernels only: stable forget-gate matrix (default true) */
  stableF?: boolean;
}

/** Arguments of a registry backward: the forward's plus `dh` (and `dcLast` for chunkwise kernels). */
export interface ReferenceKernelBackwardArgs extends ReferenceKernelArgs {
  dh: Tensor;
  /** chunkwise kernels only: gradient of the returned last `c` */
  dcLast?: Tensor;
  /** chunkwise kernels only (default false = upstream parity, spec §4.5) */
  correctDfForDcLast?: boolean;
}

/** A training kernel (chunkwise or parallel): forward and hand-written backward. */
export interface ReferenceSequenceKernel {
  /** upstream specifier, e.g. `chunkwise--native_custbw` */
  readonly name: string;
  /** `exp` or `sig` input gate */
  readonly gate: 'exp' | 'sig';
  /** whether initial/last states are supported (parallel kernels: no) */
  readonly supportsStates: boolean;
  forward(args: ReferenceKernelArgs): { h: Tensor; lastStates?: MlstmStates | MlstmSigStates };
  backward(args: ReferenceKernelBackwardArgs): MlstmChunkwiseGradients;
}

/** A one-token step kernel. */
export interface ReferenceStepKernel {
  readonly name: string;
  step(args: MlstmRecurrentStepArgs): MlstmRecurrentStepResult;
}

/** A forward-only sequence loop kernel (prefill remainders). */
export interface ReferenceSequenceLoopKernel {
  readonly name: string;
  forward(args: ReferenceKernelArgs): MlstmSequenceResult;
}

function parallelKernel(
  name: string,
  gate: 'exp' | 'sig',
  fixedStableF: boolean | undefined,
): ReferenceSequenceKernel {
  return {
    name,
    gate,
    supportsStates: false,
    forward(args) {
      rejectStates(args, name);
      if (gate === 'sig')
        return { h: mlstmSigParallel({ ...args, stableF: fixedStableF ?? args.stableF }).h };
      return { h: mlstmParallel({ ...args, stableF: fixedStableF }).h };
    },
    backward(args) {
      rejectStates(args, name);
      if (gate === 'sig') return mlstmSigParallelBackward({ ...args, stableF: fixedStableF ?? args.stableF });
      return mlstmParallelBackward({ ...args, stableF: fixedStableF });
    },
  };
}

/** Training kernels (forward + backward) by upstream specifier. */
export const referenceSequenceKernels = {
  'chunkwise--native_custbw': {
    name: 'chunkwise--native_custbw',
    gate: 'exp',
    supportsStates: true,
    forward: (args) => mlstmChunkwise(args),
    backward: (args) => mlstmChunkwiseBackward(args),
  },
  'parallel--native_custbw': parallelKernel('parallel--native_custbw', 'exp', false),
  'parallel--native_stablef_custbw': parallelKernel('parallel--native_stablef_custbw', 'exp', true),
  'parallel--native_siging_custbw': parallelKernel('parallel--native_siging_custbw', 'sig', undefined),
} as const satisfies Record<string, ReferenceSequenceKernel>;

/** Step kernels by upstream name. */
export const referenceStepKernels = {
  native: { name: 'native', step: (args) => mlstmRecurrentStep(args) },
} as const satisfies Record<string, ReferenceStepKernel>;

/** Sequence (loop) kernels by upstream name. */
export const referenceSequenceLoopKernels = {
  native_sequence__native: {
    name: 'native_sequence__native',
    forward: (args) => mlstmRecurrentSequence(args),
  },
} as const satisfies Record<string, ReferenceSequenceLoopKernel>;

/** Specifiers of the training kernels (`chunkwise--native_custbw`, `parallel--…`). */
export type ReferenceSequenceKernelName = keyof typeof referenceSequenceKernels;
/** Specifiers of the step kernels (`native`). */
export type ReferenceStepKernelName = keyof typeof referenceStepKernels;
/** Specifiers of the sequence-loop kernels (`native_sequence__native`). */
export type ReferenceSequenceLoopKernelName = keyof typeof referenceSequenceLoopKernels;
/** Any specifier of the three registries. */
export type ReferenceKernelName =
  | ReferenceSequenceKernelName
  | ReferenceStepKernelName
  | ReferenceSequenceLoopKernelName;

/** Every specifier of the three registries (training kernels, step kernels, sequence kernels). */
export function getAvailableReferenceKernels(): ReferenceKernelName[] {
  return [
    ...(Object.keys(referenceSequenceKernels) as ReferenceSequenceKernelName[]),
    ...(Object.keys(referenceStepKernels) as ReferenceStepKernelName[]),
    ...(Object.keys(referenceSequenceLoopKernels) as ReferenceSequenceLoopKernelName[]),
  ];
}

/**
 * Looks a kernel up by specifier in the three registries; throws {@link MlstmArgumentError}
 * listing the valid names for an unknown one.
 */
export function getReferenceKernel(name: ReferenceSequenceKernelName): ReferenceSequenceKernel;
export function getReferenceKernel(name: ReferenceStepKernelName): ReferenceStepKernel;
export function getReferenceKernel(name: ReferenceSequenceLoopKernelName): ReferenceSequenceLoopKernel;
export function getReferenceKernel(
  name: string,
): ReferenceSequenceKernel | ReferenceStepKernel | ReferenceSequenceLoopKernel;
export function getReferenceKernel(
  name: string,
): ReferenceSequenceKernel | ReferenceStepKernel | ReferenceSequenceLoopKernel {
  const all: Record<string, ReferenceSequenceKernel | ReferenceStepKernel | ReferenceSequenceLoopKernel> = {
    ...referenceSequenceKernels,
    ...referenceStepKernels,
    ...referenceSequenceLoopKernels,
  };
  if (typeof name === 'string' && Object.hasOwn(all, name)) return all[name];
  throw new MlstmArgumentError(
    'name',
    `one of ${getAvailableReferenceKernels()
      .map((n) => `"${n}"`)
      .join(', ')}`,
    JSON.stringify(name),
    'getReferenceKernel',
  );
}

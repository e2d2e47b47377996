/**
 * Option objects of the model's public functions: unknown keys and unknown values throw
 * `MlstmOptionError` listing the valid ones, on the CPU and the WebGPU path alike (before any
 * weight is decoded or uploaded); dtype aliases map; the package's errors are in the one hierarchy.
 */
import { describe, expect, it } from 'vitest';
import {
  CheckpointFormatError,
  MlstmArgumentError,
  MlstmError,
  MlstmOptionError,
  MlstmOutOfMemoryError,
  ModelArgumentError,
  ModelTooLargeError,
  XlstmConfigError,
  XlstmForCausalLM,
} from '../src/index.js';
import { modelDir } from './helpers.js';

describe('load options', () => {
  it.each([
    ['cpu', { weightDtype: 'q8' }, 'weightDtype', ['f32', 'f16', 'auto']],
    ['webgpu', { weightDtype: 'q8' }, 'weightDtype', ['f32', 'f16', 'auto']],
    ['cpu', { device: 'gpu' }, 'device', ['webgpu', 'cpu', 'auto']],
    ['cpu', { cpuCell: 'fast' }, 'cpuCell', ['backend', 'reference']],
  ] as const)(
    'device %s, %o: MlstmOptionError listing the valid values',
    async (device, opts, argument, valid) => {
      const e = await XlstmForCausalLM.fromPretrained(modelDir('single'), { device, ...opts } as never).catch(
        (x) => x,
      );
      expect(e).toBeInstanceOf(MlstmOptionError);
      expect(e.argument).toBe(argument);
      expect(e.valid).toEqual(valid);
    },
  );

  it('a misspelt key is named, with the near known key', async () => {
    const e = await XlstmForCausalLM.fromPretrained(modelDir('single'), { weightDtyp: 'f16' } as never).catch(
      (x) => x,
    );
    expect(e).toBeInstanceOf(MlstmOptionError);
    expect(e.message).toMatch(/options\.weightDtyp: .*did you mean "weightDtype"/);
    const r = await XlstmForCausalLM.fromRandom({}, { sed: 3 } as never).catch((x) => x);
    expect(r).toBeInstanceOf(MlstmOptionError);
  });

  it("the dtype alias 'float32' is accepted", async () => {
    const m = await XlstmForCausalLM.fromPretrained(modelDir('single'), {
      device: 'cpu',
      weightDtype: 'float32' as never,
    });
    expect(m.device).toBe('cpu');
    m.dispose();
  });
});

describe('forward and generate options', () => {
  it('unknown keys', async () => {
    const m = await XlstmForCausalLM.fromPretrained(modelDir('single'), { device: 'cpu' });
    await expect(m.forward([1, 2], { lastonly: true } as never)).rejects.toThrow(/did you mean "lastOnly"/);
    await expect(m.generate([1, 2], { maxNewToken: 2 } as never)).rejects.toBeInstanceOf(MlstmOptionError);
    m.dispose();
  });
});

describe('error hierarchy', () => {
  it.each([
    ['ModelArgumentError', new ModelArgumentError('x', 'bad'), MlstmArgumentError],
    ['ModelTooLargeError', new ModelTooLargeError('t', 10, 5, 'maxBufferSize'), MlstmOutOfMemoryError],
    ['XlstmConfigError', new XlstmConfigError('k', 'bad'), MlstmError],
    ['CheckpointFormatError', new CheckpointFormatError('f', 'bad'), MlstmError],
  ] as const)('%s', (_, err, base) => {
    expect(err).toBeInstanceOf(base);
    expect(err).toBeInstanceOf(MlstmError);
  });
  it('ModelArgumentError keeps its message', () => {
    expect(new ModelArgumentError('cache', 'belongs to another model').message).toBe(
      'cache: belongs to another model',
    );
  });
});

/**
 * Test oracles shared by every package: seeded random tensors, tolerance checks that
 * report the worst element, and a safetensors reader/writer for fixtures.
 */
export { Rng, randn, randomMlstmInputs } from './random.js';
export { assertClose, compare, type Comparison } from './compare.js';
export {
  decodeTensor,
  parseSafetensors,
  readSafetensors,
  writeSafetensors,
  type SafetensorsDtype,
  type SafetensorsEntry,
  type SafetensorsFile,
} from './safetensors.js';

/**
 * Quantise a checkpoint once and save it (Node): read any source `fromPretrained` reads (F32 / F16
 * / BF16, one file or shards), pack every matrix into the chosen formats one tensor at a time, and
 * write a folder with `model.safetensors` (see ./checkpoint.ts), `config.json` (fused layout) and
 * the tokenizer / generation files of the source.
 */
import { parseXlstmConfig } from '../config.js';
import { ModelArgumentError } from '../errors.js';
import { mergeStores, parseSafetensorsFile, shardFiles } from '../safetensors.js';
import { type ModelSource, openSource, type SourceOptions } from '../sources.js';
import { WeightLoader } from '../weights.js';
import {
  type ByteSink,
  type QuantRecord,
  quantizedConfigJson,
  writeQuantizedCheckpoint,
} from './checkpoint.js';
import type { WeightFormat } from './formats.js';
import { resolveFormats } from './pieces.js';

const nodeImport = <T>(name: string): Promise<T> => import(/* @vite-ignore */ name) as Promise<T>;

export interface QuantizeOptions extends SourceOptions {
  /** format of the block matrices */
  dtype: WeightFormat;
  embeddingDtype?: WeightFormat;
  lmHeadDtype?: WeightFormat;
  /** called after each piece (embedding, every block, head) is written */
  onPiece?: (p: { piece: string; done: number; total: number }) => void;
}

/** Files copied from the source when present. */
const SIDE_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'generation_config.json',
  'special_tokens_map.json',
];

/** A {@link ByteSink} writing into a file with positioned writes; `close()` when done. */
export async function fileSink(path: string): Promise<ByteSink & { close(): void }> {
  const fs = await nodeImport<typeof import('node:fs')>('node:fs');
  const fd = fs.openSync(path, 'w');
  return {
    write(offset, bytes) {
      let done = 0;
      while (done < bytes.byteLength) {
        done += fs.writeSync(fd, bytes, done, bytes.byteLength - done, offset + done);
      }
    },
    close: () => fs.closeSync(fd),
  };
}

/**
 * Quantises the checkpoint of `source` into the folder `outDir` (created); returns the record
 * written into the safetensors metadata.
 */
export async function quantizeCheckpoint(
  source: ModelSource,
  outDir: string,
  opts: QuantizeOptions,
): Promise<QuantRecord> {
  const formats = resolveFormats(opts.dtype, opts);
  const fs = await nodeImport<typeof import('node:fs')>('node:fs');
  const { join } = await nodeImport<typeof import('node:path')>('node:path');
  const reader = await openSource(source, opts);
  const cfgText = await reader.text('config.json');
  if (cfgText === null) throw new ModelArgumentError('source', `no config.json in ${reader.description}`);
  const config = parseXlstmConfig(cfgText);
  const indexText = await reader.text('model.safetensors.index.json');
  const files = indexText ? shardFiles(indexText) : ['model.safetensors'];
  const buffers = await reader.binaries(files);
  try {
    const store = mergeStores(buffers.map((b, x) => parseSafetensorsFile(b, files[x])));
    const loader = new WeightLoader(config, store);
    loader.validate();
    const packed = loader.packed(formats);
    const total = config.dims.blocks + 2;
    let done = 0;
    const report = (piece: string) => opts.onPiece?.({ piece, done: ++done, total });
    const counted = {
      formats,
      embedding() {
        const m = packed.embedding();
        report('embedding');
        return m;
      },
      block(i: number) {
        const b = packed.block(i);
        report(`block ${i}`);
        return b;
      },
      head() {
        const h = packed.head();
        report('head');
        return h;
      },
    };
    fs.mkdirSync(outDir, { recursive: true });
    const sink = await fileSink(join(outDir, 'model.safetensors'));
    let record: QuantRecord;
    try {
      record = writeQuantizedCheckpoint(config, counted, sink, {
        source: typeof source === 'object' && !(source instanceof URL) ? 'in-memory files' : String(source),
      });
    } finally {
      sink.close();
    }
    fs.writeFileSync(
      join(outDir, 'config.json'),
      `${JSON.stringify(quantizedConfigJson(JSON.parse(cfgText)), null, 2)}\n`,
    );
    for (const f of SIDE_FILES) {
      const t = await reader.text(f);
      if (t !== null) fs.writeFileSync(join(outDir, f), t);
    }
    return record;
  } finally {
    for (const b of buffers) b.close?.();
  }
}

#!/usr/bin/env node
/**
 * `mlstm-quantize <in> <out> --dtype q4`: quantises an xLSTM checkpoint (a folder, URL or Hugging
 * Face repo id) into a folder that `XlstmForCausalLM.fromPretrained(out)` loads in those formats.
 *
 *   mlstm-quantize NX-AI/xLSTM-7b ./xlstm-7b-q4 --dtype q4
 *   mlstm-quantize ./model ./model-q8 --dtype q8 --embedding-dtype q8 --lm-head-dtype f16
 */
import { parseArgs } from 'node:util';
import { WEIGHT_FORMATS, type WeightFormat } from '../quant/formats.js';
import { quantizeCheckpoint } from '../quant/convert.js';

const USAGE = `usage: mlstm-quantize <in> <out> --dtype <${WEIGHT_FORMATS.join('|')}> [options]

  <in>                  folder, http(s) URL or Hugging Face repo id of an xLSTM checkpoint
  <out>                 folder to write (model.safetensors, config.json, tokenizer files)
  --dtype               format of the block matrices (q8: int8, q4: int4, groups of 32, f16 scales)
  --embedding-dtype     format of the embedding (default: f16 for q8, q8 for q4)
  --lm-head-dtype       format of the lm_head (default: as the embedding)
  --revision            Hugging Face revision (default main)
  -q, --quiet           no progress output
  -h, --help            this text`;

/** Thrown for bad command lines (the message is printed with the usage). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function format(name: string, v: string | undefined): WeightFormat | undefined {
  if (v === undefined) return undefined;
  if (!(WEIGHT_FORMATS as readonly string[]).includes(v)) {
    throw new UsageError(`--${name}: expected one of ${WEIGHT_FORMATS.join(', ')}, got '${v}'`);
  }
  return v as WeightFormat;
}

const parse = (argv: readonly string[]) =>
  parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      dtype: { type: 'string' },
      'embedding-dtype': { type: 'string' },
      'lm-head-dtype': { type: 'string' },
      revision: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
  });

/** Runs the command line `argv` (without node and the script); resolves to the exit code. */
export async function main(
  argv: readonly string[],
  log: (s: string) => void = console.error,
): Promise<number> {
  try {
    const args = parse(argv);
    if (args.values.help) {
      log(USAGE);
      return 0;
    }
    if (args.positionals.length !== 2)
      throw new UsageError(`expected <in> and <out>, got ${args.positionals.length} arguments`);
    const dtype = format('dtype', args.values.dtype);
    if (!dtype) throw new UsageError('--dtype is required');
    const [input, out] = args.positionals;
    const quiet = !!args.values.quiet;
    const t0 = Date.now();
    const record = await quantizeCheckpoint(input, out, {
      dtype,
      embeddingDtype: format('embedding-dtype', args.values['embedding-dtype']),
      lmHeadDtype: format('lm-head-dtype', args.values['lm-head-dtype']),
      revision: args.values.revision,
      onPiece: quiet ? undefined : (p) => log(`  ${p.done}/${p.total} ${p.piece}`),
    });
    if (!quiet) {
      const f = record.formats;
      log(
        `wrote ${out}: blocks ${f.linear}, embedding ${f.embedding}, lm_head ${f.lmHead} (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
      );
    }
    return 0;
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      log(`mlstm-quantize: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    log(`mlstm-quantize: ${(e as Error).message}`);
    return 1;
  }
}

// run when executed directly (not when imported by tests)
const direct =
  typeof process !== 'undefined' &&
  process.argv[1] !== undefined &&
  /mlstm-quantize|cli[\\/]quantize\.(js|ts)$/.test(process.argv[1]);
if (direct) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

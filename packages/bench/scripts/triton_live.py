#!/usr/bin/env python3
"""Times the upstream mlstm_kernels Triton kernel and torch's causal SDPA for mlstm-bench.

Run by the `triton-live` peer of `mlstm-bench` (packages/bench/src/peers/triton-live.ts builds
the command line): needs python3 with torch (CUDA) and triton, and the upstream `mlstm_kernels`
package on PYTHONPATH. Prints one JSON object per line and cell:

  {"kernel": "chunkwise--triton_xl_chunk" | "torch_sdpa", "mode": "fw" | "fwbw",
   "S": .., "B": .., "NH": .., "DHQK": .., "DHHV": .., "dtype": "bfloat16", "ms": ..}

or the same keys with "error" instead of "ms" when a cell fails (out of memory, compile error).
Times are medians of triton.testing.do_bench (warmup / rep in milliseconds).
"""

import argparse
import json
import sys


def parse_cell(text):
    parts = [int(x) for x in text.split(",")]
    if len(parts) != 5 or min(parts) <= 0:
        raise argparse.ArgumentTypeError(f"--cell wants S,B,NH,DHQK,DHHV (positive), got {text!r}")
    return dict(zip(["S", "B", "NH", "DHQK", "DHHV"], parts))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cell", type=parse_cell, action="append", required=True, help="S,B,NH,DHQK,DHHV")
    ap.add_argument("--modes", default="fw", help="fw,fwbw")
    ap.add_argument("--kernels", default="xl_chunk,sdpa", help="xl_chunk,sdpa")
    ap.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    ap.add_argument("--chunk-size", type=int, default=128)
    ap.add_argument("--warmup", type=int, default=25, help="do_bench warm-up [ms]")
    ap.add_argument("--rep", type=int, default=100, help="do_bench repetition time [ms]")
    a = ap.parse_args()

    import torch
    import triton.testing

    dtype = getattr(torch, a.dtype)
    kernels = [k for k in a.kernels.split(",") if k]
    modes = [m for m in a.modes.split(",") if m]
    xl = None
    if "xl_chunk" in kernels:
        from mlstm_kernels.torch import get_mlstm_kernel

        xl = get_mlstm_kernel("chunkwise--triton_xl_chunk")

    def measure(S, B, NH, DHQK, DHHV, kernel, mode):
        """ms of one call (median of do_bench); the tensors are freed when it returns."""
        grad = mode == "fwbw"

        def mk(*shape, offset=0.0):
            x = torch.randn(*shape, device="cuda", dtype=dtype) + offset
            return x.requires_grad_(grad)

        q, k, v = mk(B, NH, S, DHQK), mk(B, NH, S, DHQK), mk(B, NH, S, DHHV)
        if kernel == "xl_chunk":
            ig, fg = mk(B, NH, S), mk(B, NH, S, offset=3.0)  # forget gates mostly open

            def fw():
                return xl(q, k, v, ig, fg, chunk_size=a.chunk_size, return_last_states=False)

        else:

            def fw():
                return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)

        if not grad:
            return float(triton.testing.do_bench(fw, warmup=a.warmup, rep=a.rep))
        do = torch.randn(B, NH, S, DHHV, device="cuda", dtype=dtype)
        return float(triton.testing.do_bench(lambda: fw().backward(do), warmup=a.warmup, rep=a.rep))

    for cell in a.cell:
        for kernel in kernels:
            for mode in modes:
                name = "chunkwise--triton_xl_chunk" if kernel == "xl_chunk" else "torch_sdpa"
                rec = dict(kernel=name, mode=mode, dtype=a.dtype, **cell)
                try:
                    rec["ms"] = measure(kernel=kernel, mode=mode, **cell)
                except Exception as e:  # one failing cell (out of memory, compile error) must not end the sweep
                    msg = str(e).splitlines()[0] if str(e) else ""
                    rec["error"] = f"{type(e).__name__}: {msg}"[:300]
                torch.cuda.empty_cache()
                print(json.dumps(rec), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

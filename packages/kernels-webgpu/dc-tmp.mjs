// packages/core-reference/src/tensor.ts
function numel(shape) {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

// packages/core-reference/src/errors.ts
var MlstmArgumentError = class extends Error {
  /** The offending argument, e.g. `"k"` or `"chunkSize"`. */
  argument;
  /** Human-readable expectation, e.g. `"a positive integer dividing S = 100"`. */
  expected;
  /** What was received, formatted. */
  received;
  constructor(argument, expected, received, context) {
    super(`${context ? `${context}: ` : ''}${argument}: expected ${expected}, got ${received}`);
    this.name = 'MlstmArgumentError';
    this.argument = argument;
    this.expected = expected;
    this.received = received;
  }
};

// packages/core-reference/src/validate.ts
var fmt = (shape) => `(${shape.join(', ')})`;
function isTensor(x) {
  return (
    typeof x === 'object' &&
    x !== null &&
    Array.isArray(x.shape) &&
    (x.data instanceof Float32Array || x.data instanceof Float64Array)
  );
}
function expectShape(name, t, expected, dimNames, context) {
  const want = `shape (${dimNames.join(', ')}) = ${fmt(expected)} with a Float32Array or Float64Array`;
  if (!isTensor(t)) {
    throw new MlstmArgumentError(name, want, t === void 0 ? 'undefined' : typeof t, context);
  }
  const ok = t.shape.length === expected.length && t.shape.every((d, k) => d === expected[k]);
  if (!ok) throw new MlstmArgumentError(name, want, `shape ${fmt(t.shape)}`, context);
  let n = 1;
  for (const d of t.shape) n *= d;
  if (t.data.length !== n) {
    throw new MlstmArgumentError(
      name,
      `${n} elements for shape ${fmt(t.shape)}`,
      `${t.data.length}`,
      context,
    );
  }
}
function expectFinite(name, x, context, positive = false) {
  if (typeof x !== 'number' || !Number.isFinite(x) || (positive && x <= 0)) {
    throw new MlstmArgumentError(
      name,
      positive ? 'a finite number > 0' : 'a finite number',
      String(x),
      context,
    );
  }
  return x;
}
function expectChunkSize(x, context, mustDivide) {
  if (typeof x !== 'number' || !Number.isInteger(x) || x <= 0) {
    throw new MlstmArgumentError('chunkSize', 'a positive integer', String(x), context);
  }
  if (mustDivide !== void 0 && mustDivide % x !== 0) {
    throw new MlstmArgumentError(
      'chunkSize',
      `a divisor of the sequence length S = ${mustDivide}`,
      String(x),
      context,
    );
  }
  return x;
}
function validateSequenceInputs(args, context) {
  const { q, k, v, i, f } = args;
  if (!isTensor(q) || q.shape.length !== 4) {
    throw new MlstmArgumentError(
      'q',
      'a tensor of shape (B, NH, S, DHQK)',
      isTensor(q) ? `shape ${fmt(q.shape)}` : String(q),
      context,
    );
  }
  const [B, NH, S, DHQK] = q.shape;
  if (S < 1 || DHQK < 1 || B < 1 || NH < 1) {
    throw new MlstmArgumentError('q', 'all dims (B, NH, S, DHQK) >= 1', `shape ${fmt(q.shape)}`, context);
  }
  expectShape('q', q, [B, NH, S, DHQK], ['B', 'NH', 'S', 'DHQK'], context);
  expectShape('k', k, [B, NH, S, DHQK], ['B', 'NH', 'S', 'DHQK'], context);
  if (!isTensor(v) || v.shape.length !== 4 || v.shape[3] < 1) {
    throw new MlstmArgumentError(
      'v',
      `a tensor of shape (B, NH, S, DHHV) = (${B}, ${NH}, ${S}, DHHV)`,
      isTensor(v) ? `shape ${fmt(v.shape)}` : String(v),
      context,
    );
  }
  const DHHV = v.shape[3];
  expectShape('v', v, [B, NH, S, DHHV], ['B', 'NH', 'S', 'DHHV'], context);
  expectShape('i', i, [B, NH, S], ['B', 'NH', 'S'], context);
  expectShape('f', f, [B, NH, S], ['B', 'NH', 'S'], context);
  return { B, NH, S, DHQK, DHHV };
}
function validateStates(states, names, d, context, requireM = true) {
  const given = [states.c, states.n, ...(requireM ? [states.m] : [])].map((x) => x !== void 0 && x !== null);
  if (!given.some(Boolean)) {
    if (!requireM && states.m != null)
      expectShape(names.m, states.m, [d.B, d.NH, 1], ['B', 'NH', '1'], context);
    return false;
  }
  if (!given.every(Boolean)) {
    const missing = [names.c, names.n, ...(requireM ? [names.m] : [])].filter((_, k) => !given[k]);
    throw new MlstmArgumentError(
      missing[0],
      `all initial states (${[names.c, names.n, ...(requireM ? [names.m] : [])].join(', ')}) or none`,
      'undefined',
      context,
    );
  }
  expectShape(names.c, states.c, [d.B, d.NH, d.DHQK, d.DHHV], ['B', 'NH', 'DHQK', 'DHHV'], context);
  expectShape(names.n, states.n, [d.B, d.NH, d.DHQK], ['B', 'NH', 'DHQK'], context);
  if (states.m != null) expectShape(names.m, states.m, [d.B, d.NH, 1], ['B', 'NH', '1'], context);
  return true;
}
function validateEps(eps, context, fallback) {
  return eps === void 0 ? fallback : expectFinite('eps', eps, context);
}
function validateFlag(name, x, context, fallback) {
  if (x === void 0) return fallback;
  if (typeof x !== 'boolean') throw new MlstmArgumentError(name, 'a boolean', String(x), context);
  return x;
}
function rejectStates(args, context) {
  for (const name of ['cInitial', 'nInitial', 'mInitial']) {
    if (args[name] != null) {
      throw new MlstmArgumentError(
        name,
        'no initial state (the parallel form has no state)',
        'a value',
        context,
      );
    }
  }
  if (args.returnLastStates) {
    throw new MlstmArgumentError(
      'returnLastStates',
      'false (the parallel form returns no state)',
      String(args.returnLastStates),
      context,
    );
  }
}
function expectRank(name, t, dimNames, context) {
  const want = `a tensor of shape (${dimNames.join(', ')}) with all dims >= 1`;
  if (!isTensor(t)) throw new MlstmArgumentError(name, want, t === void 0 ? 'undefined' : typeof t, context);
  if (t.shape.length !== dimNames.length || t.shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new MlstmArgumentError(name, want, `shape ${fmt(t.shape)}`, context);
  }
  expectShape(name, t, t.shape, dimNames, context);
  return [...t.shape];
}

// packages/core-reference/src/math.ts
function logsigmoid(x) {
  return Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));
}
function sigmoid(x) {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}
function qkScale(DHQK) {
  return 1 / Math.sqrt(DHQK);
}
var DEFAULT_EPS = 1e-6;
function dot(a, aOff, b, bOff, n) {
  let s = 0;
  for (let x = 0; x < n; x++) s += a[aOff + x] * b[bOff + x];
  return s;
}
function logInputGate(kind, x) {
  return kind === 'exp' ? x : logsigmoid(x);
}
function logInputGateGrad(kind, x) {
  return kind === 'exp' ? 1 : sigmoid(-x);
}
function headSlice(data, bh, len) {
  const out = new Float64Array(len);
  const off = bh * len;
  for (let x = 0; x < len; x++) out[x] = data[off + x];
  return out;
}
function setHeadSlice(dst, bh, src) {
  const off = bh * src.length;
  for (let x = 0; x < src.length; x++) dst[off + x] = src[x];
}
function gateGradientsHead(kind, q, k, dq, dk, iPre, fPre, S, DHQK, dLambdaShift, di, df, off) {
  let suffix = dLambdaShift;
  for (let t = S - 1; t >= 0; t--) {
    const kdk = dot(k, t * DHQK, dk, t * DHQK, DHQK);
    const qdq = dot(q, t * DHQK, dq, t * DHQK, DHQK);
    di[off + t] = kdk * logInputGateGrad(kind, iPre[t]);
    suffix += qdq - kdk;
    df[off + t] = suffix * sigmoid(-fPre[t]);
  }
}

// packages/core-reference/src/recurrent.ts
function recurrentStepHead(
  kind,
  normalize,
  st,
  q,
  qOff,
  k,
  kOff,
  v,
  vOff,
  iPre,
  fPre,
  DHQK,
  DHHV,
  eps,
  h,
  hOff,
) {
  const kappa2 = qkScale(DHQK);
  const lambda = logsigmoid(fPre);
  const logI = logInputGate(kind, iPre);
  const mNew = kind === 'exp' ? Math.max(lambda + st.m, logI) : 0;
  const fGate = Math.exp(lambda + st.m - mNew);
  const iGate = Math.exp(logI - mNew);
  const { c, n } = st;
  for (let a = 0; a < DHQK; a++) {
    const ka = iGate * k[kOff + a];
    n[a] = fGate * n[a] + ka;
    const row = a * DHHV;
    for (let b = 0; b < DHHV; b++) c[row + b] = fGate * c[row + b] + ka * v[vOff + b];
  }
  st.m = mNew;
  let nq = 0;
  for (let b = 0; b < DHHV; b++) h[hOff + b] = 0;
  for (let a = 0; a < DHQK; a++) {
    const qa = kappa2 * q[qOff + a];
    nq += n[a] * qa;
    const row = a * DHHV;
    for (let b = 0; b < DHHV; b++) h[hOff + b] += c[row + b] * qa;
  }
  if (!normalize) return;
  const den = Math.max(Math.abs(nq), Math.exp(-mNew)) + eps;
  for (let b = 0; b < DHHV; b++) h[hOff + b] /= den;
}
function mlstmRecurrentStep(args) {
  const ctx2 = 'mlstmRecurrentStep';
  const { q, k, v, i, f, c, n, m } = args;
  const [B, NH, DHQK] = expectRank('q', q, ['B', 'NH', 'DHQK'], ctx2);
  expectShape('k', k, [B, NH, DHQK], ['B', 'NH', 'DHQK'], ctx2);
  const DHHV = expectRank('v', v, ['B', 'NH', 'DHHV'], ctx2)[2];
  expectShape('v', v, [B, NH, DHHV], ['B', 'NH', 'DHHV'], ctx2);
  expectShape('i', i, [B, NH, 1], ['B', 'NH', '1'], ctx2);
  expectShape('f', f, [B, NH, 1], ['B', 'NH', '1'], ctx2);
  expectShape('c', c, [B, NH, DHQK, DHHV], ['B', 'NH', 'DHQK', 'DHHV'], ctx2);
  expectShape('n', n, [B, NH, DHQK], ['B', 'NH', 'DHQK'], ctx2);
  expectShape('m', m, [B, NH, 1], ['B', 'NH', '1'], ctx2);
  const eps = validateEps(args.eps, ctx2, DEFAULT_EPS);
  const h = new Float64Array(B * NH * DHHV);
  const cOut = Float64Array.from(c.data);
  const nOut = Float64Array.from(n.data);
  const mOut = new Float64Array(B * NH);
  const CS = DHQK * DHHV;
  for (let bh = 0; bh < B * NH; bh++) {
    const st = {
      c: cOut.subarray(bh * CS, (bh + 1) * CS),
      n: nOut.subarray(bh * DHQK, (bh + 1) * DHQK),
      m: m.data[bh],
    };
    recurrentStepHead(
      'exp',
      true,
      st,
      q.data,
      bh * DHQK,
      k.data,
      bh * DHQK,
      v.data,
      bh * DHHV,
      i.data[bh],
      f.data[bh],
      DHQK,
      DHHV,
      eps,
      h,
      bh * DHHV,
    );
    mOut[bh] = st.m;
  }
  return {
    h: { shape: [B, NH, DHHV], data: h },
    c: { shape: [B, NH, DHQK, DHHV], data: cOut },
    n: { shape: [B, NH, DHQK], data: nOut },
    m: { shape: [B, NH, 1], data: mOut },
  };
}

// packages/core-reference/src/parallel.ts
function logForgetMatrix(fPre, S, stableF) {
  const L2 = new Float64Array(S * S);
  const lambda = Float64Array.from(fPre, logsigmoid);
  if (stableF) {
    for (let s = 0; s < S; s++) {
      let acc = 0;
      for (let t = s + 1; t < S; t++) {
        acc += lambda[t];
        L2[t * S + s] = acc;
      }
    }
  } else {
    const F = new Float64Array(S);
    let acc = 0;
    for (let t = 0; t < S; t++) F[t] = acc += lambda[t];
    for (let t = 0; t < S; t++) for (let s = 0; s < t; s++) L2[t * S + s] = F[t] - F[s];
  }
  return L2;
}
function parallelForwardHead(x, S, DHQK, DHHV, o) {
  const kappa2 = qkScale(DHQK);
  const L2 = logForgetMatrix(x.f, S, o.stableF);
  const logI = Float64Array.from(x.i, (ii) => logInputGate(o.kind, ii));
  const gate = new Float64Array(S * S);
  const scores = new Float64Array(S * S);
  const h = new Float64Array(S * DHHV);
  const n = new Float64Array(S);
  const m = new Float64Array(S);
  for (let t = 0; t < S; t++) {
    let mt = 0;
    if (o.kind === 'exp') {
      mt = Number.NEGATIVE_INFINITY;
      for (let s = 0; s <= t; s++) mt = Math.max(mt, L2[t * S + s] + logI[s]);
    }
    m[t] = mt;
    let rowSum = 0;
    for (let s = 0; s <= t; s++) {
      const d = Math.exp(L2[t * S + s] + logI[s] - mt);
      const a = kappa2 * dot(x.q, t * DHQK, x.k, s * DHQK, DHQK);
      gate[t * S + s] = d;
      scores[t * S + s] = a;
      const ct = a * d;
      rowSum += ct;
      for (let b = 0; b < DHHV; b++) h[t * DHHV + b] += ct * x.v[s * DHHV + b];
    }
    if (o.normalize) {
      n[t] = Math.max(Math.abs(rowSum), Math.exp(-mt));
      const den = n[t] + o.eps;
      for (let b = 0; b < DHHV; b++) h[t * DHHV + b] /= den;
    } else {
      n[t] = 1;
    }
  }
  return { h, n, m, gate, scores };
}
function parallelBackwardHead(x, dh, S, DHQK, DHHV, o) {
  const kappa2 = qkScale(DHQK);
  const fw = parallelForwardHead(x, S, DHQK, DHHV, o);
  const dhTilde = new Float64Array(S * DHHV);
  for (let t = 0; t < S; t++) {
    const den = o.normalize ? fw.n[t] + o.eps : 1;
    for (let b = 0; b < DHHV; b++) dhTilde[t * DHHV + b] = dh[t * DHHV + b] / den;
  }
  const dq = new Float64Array(S * DHQK);
  const dk = new Float64Array(S * DHQK);
  const dv = new Float64Array(S * DHHV);
  for (let t = 0; t < S; t++) {
    for (let s = 0; s <= t; s++) {
      const d = fw.gate[t * S + s];
      const p = dot(dhTilde, t * DHHV, x.v, s * DHHV, DHHV) * d;
      const ct = fw.scores[t * S + s] * d;
      for (let a = 0; a < DHQK; a++) {
        dq[t * DHQK + a] += kappa2 * p * x.k[s * DHQK + a];
        dk[s * DHQK + a] += kappa2 * p * x.q[t * DHQK + a];
      }
      for (let b = 0; b < DHHV; b++) dv[s * DHHV + b] += ct * dhTilde[t * DHHV + b];
    }
  }
  const di = new Float64Array(S);
  const df = new Float64Array(S);
  gateGradientsHead(o.kind, x.q, x.k, dq, dk, x.i, x.f, S, DHQK, 0, di, df, 0);
  return { dq, dk, dv, di, df };
}
function headInputs(x, d, bh) {
  return {
    q: headSlice(x.q.data, bh, d.S * d.DHQK),
    k: headSlice(x.k.data, bh, d.S * d.DHQK),
    v: headSlice(x.v.data, bh, d.S * d.DHHV),
    i: headSlice(x.i.data, bh, d.S),
    f: headSlice(x.f.data, bh, d.S),
  };
}
function parallelForwardCore(x, d, o) {
  const { B, NH, S, DHHV } = d;
  const h = new Float64Array(B * NH * S * DHHV);
  const n = new Float64Array(B * NH * S);
  const m = new Float64Array(B * NH * S);
  for (let bh = 0; bh < B * NH; bh++) {
    const r2 = parallelForwardHead(headInputs(x, d, bh), S, d.DHQK, DHHV, o);
    setHeadSlice(h, bh, r2.h);
    setHeadSlice(n, bh, r2.n);
    setHeadSlice(m, bh, r2.m);
  }
  return {
    h: { shape: [B, NH, S, DHHV], data: h },
    n: { shape: [B, NH, S], data: n },
    m: { shape: [B, NH, S], data: m },
  };
}
function parallelBackwardCore(x, dh, d, o) {
  const { B, NH, S, DHQK, DHHV } = d;
  const out = {
    dq: new Float64Array(B * NH * S * DHQK),
    dk: new Float64Array(B * NH * S * DHQK),
    dv: new Float64Array(B * NH * S * DHHV),
    di: new Float64Array(B * NH * S),
    df: new Float64Array(B * NH * S),
  };
  for (let bh = 0; bh < B * NH; bh++) {
    const g = parallelBackwardHead(headInputs(x, d, bh), headSlice(dh.data, bh, S * DHHV), S, DHQK, DHHV, o);
    setHeadSlice(out.dq, bh, g.dq);
    setHeadSlice(out.dk, bh, g.dk);
    setHeadSlice(out.dv, bh, g.dv);
    setHeadSlice(out.di, bh, g.di);
    setHeadSlice(out.df, bh, g.df);
  }
  return {
    dq: { shape: [B, NH, S, DHQK], data: out.dq },
    dk: { shape: [B, NH, S, DHQK], data: out.dk },
    dv: { shape: [B, NH, S, DHHV], data: out.dv },
    di: { shape: [B, NH, S], data: out.di },
    df: { shape: [B, NH, S], data: out.df },
  };
}
function validateDh(dh, d, ctx2) {
  expectShape('dh', dh, [d.B, d.NH, d.S, d.DHHV], ['B', 'NH', 'S', 'DHHV'], ctx2);
}
function mlstmParallel(args) {
  const ctx2 = 'mlstmParallel';
  const d = validateSequenceInputs(args, ctx2);
  rejectStates(args, ctx2);
  const eps = validateEps(args.eps, ctx2, DEFAULT_EPS);
  const stableF = validateFlag('stableF', args.stableF, ctx2, true);
  return parallelForwardCore(args, d, { kind: 'exp', stableF, normalize: true, eps });
}
function mlstmParallelBackward(args) {
  const ctx2 = 'mlstmParallelBackward';
  const d = validateSequenceInputs(args, ctx2);
  rejectStates(args, ctx2);
  validateDh(args.dh, d, ctx2);
  const eps = validateEps(args.eps, ctx2, DEFAULT_EPS);
  const stableF = validateFlag('stableF', args.stableF, ctx2, true);
  return parallelBackwardCore(args, args.dh, d, { kind: 'exp', stableF, normalize: true, eps });
}

// packages/core-reference/src/chunkwise.ts
var DEFAULT_CHUNK_SIZE = 64;
function chunkGates(kind, iPre, fPre, start, L2) {
  const lambda = new Float64Array(L2);
  const logI = new Float64Array(L2);
  for (let j = 0; j < L2; j++) {
    lambda[j] = logsigmoid(fPre[start + j]);
    logI[j] = logInputGate(kind, iPre[start + j]);
  }
  const b = new Float64Array(L2);
  let acc = 0;
  for (let j = 0; j < L2; j++) b[j] = acc += lambda[j];
  const a = new Float64Array(L2);
  let suffix = 0;
  for (let j = L2 - 1; j >= 0; j--) {
    a[j] = suffix + logI[j];
    suffix += lambda[j];
  }
  return { b, a, logI, g: b[L2 - 1] };
}
function chunkStatesHead(x, S, DHQK, DHHV, init, o) {
  const L2 = o.chunkSize;
  const NC = S / L2;
  const CS = DHQK * DHHV;
  const cStates = new Float64Array((NC + 1) * CS);
  const nStates = new Float64Array((NC + 1) * DHQK);
  const mStates = new Float64Array(NC + 1);
  if (init) {
    cStates.set(init.c, 0);
    nStates.set(init.n, 0);
    mStates[0] = o.kind === 'exp' ? init.m : 0;
  }
  for (let k = 0; k < NC; k++) {
    const gates = chunkGates(o.kind, x.i, x.f, k * L2, L2);
    const mPrev = mStates[k];
    let mk = 0;
    if (o.kind === 'exp') {
      mk = gates.g + mPrev;
      for (let j = 0; j < L2; j++) mk = Math.max(mk, gates.a[j]);
    }
    mStates[k + 1] = mk;
    const decay = Math.exp(gates.g + mPrev - mk);
    const cPrev = k * CS;
    const cNext = (k + 1) * CS;
    for (let e = 0; e < CS; e++) cStates[cNext + e] = decay * cStates[cPrev + e];
    for (let e = 0; e < DHQK; e++) nStates[(k + 1) * DHQK + e] = decay * nStates[k * DHQK + e];
    for (let j = 0; j < L2; j++) {
      const w2 = Math.exp(gates.a[j] - mk);
      const t = k * L2 + j;
      for (let r2 = 0; r2 < DHQK; r2++) {
        const kr = w2 * x.k[t * DHQK + r2];
        nStates[(k + 1) * DHQK + r2] += kr;
        for (let c = 0; c < DHHV; c++) cStates[cNext + r2 * DHHV + c] += kr * x.v[t * DHHV + c];
      }
    }
  }
  return { cStates, nStates, mStates };
}
function intraChunkGates(kind, gates, mPrev, L2) {
  const { b, logI } = gates;
  const gate = new Float64Array(L2 * L2);
  const mComb = new Float64Array(L2);
  const bBar = new Float64Array(L2);
  for (let j = 0; j < L2; j++) {
    let mj = 0;
    if (kind === 'exp') {
      mj = b[j] + mPrev;
      for (let l = 0; l <= j; l++) mj = Math.max(mj, b[j] - b[l] + logI[l]);
    }
    mComb[j] = mj;
    bBar[j] = Math.exp(b[j] + mPrev - mj);
    for (let l = 0; l <= j; l++) gate[j * L2 + l] = Math.exp(b[j] - b[l] + logI[l] - mj);
  }
  return { gate, mComb, bBar };
}
function chunkwiseForwardHead(x, S, DHQK, DHHV, init, o) {
  const L2 = o.chunkSize;
  const NC = S / L2;
  const CS = DHQK * DHHV;
  const kappa2 = qkScale(DHQK);
  const states = chunkStatesHead(x, S, DHQK, DHHV, init, o);
  const h = new Float64Array(S * DHHV);
  const nOut = new Float64Array(S);
  const mComb = new Float64Array(S);
  for (let k = 0; k < NC; k++) {
    const gates = chunkGates(o.kind, x.i, x.f, k * L2, L2);
    const intra = intraChunkGates(o.kind, gates, states.mStates[k], L2);
    const cPrev = k * CS;
    for (let j = 0; j < L2; j++) {
      const t = k * L2 + j;
      const hRow = t * DHHV;
      let den = 0;
      for (let r2 = 0; r2 < DHQK; r2++) {
        const qb = kappa2 * x.q[t * DHQK + r2] * intra.bBar[j];
        den += qb * states.nStates[k * DHQK + r2];
        for (let c = 0; c < DHHV; c++) h[hRow + c] += qb * states.cStates[cPrev + r2 * DHHV + c];
      }
      for (let l = 0; l <= j; l++) {
        const u = k * L2 + l;
        const w2 = kappa2 * dot(x.q, t * DHQK, x.k, u * DHQK, DHQK) * intra.gate[j * L2 + l];
        den += w2;
        for (let c = 0; c < DHHV; c++) h[hRow + c] += w2 * x.v[u * DHHV + c];
      }
      mComb[t] = intra.mComb[j];
      if (o.normalize) {
        nOut[t] = Math.max(Math.abs(den), Math.exp(-intra.mComb[j]));
        const d = nOut[t] + o.eps;
        for (let c = 0; c < DHHV; c++) h[hRow + c] /= d;
      } else {
        nOut[t] = 1;
      }
    }
  }
  return { h, nOut, mComb, ...states };
}
function chunkHeadInputs(x, d, bh) {
  return {
    q: headSlice(x.q.data, bh, d.S * d.DHQK),
    k: headSlice(x.k.data, bh, d.S * d.DHQK),
    v: headSlice(x.v.data, bh, d.S * d.DHHV),
    i: headSlice(x.i.data, bh, d.S),
    f: headSlice(x.f.data, bh, d.S),
  };
}
function chunkHeadStates(s, d, bh) {
  if (!s) return void 0;
  return {
    c: headSlice(s.c.data, bh, d.DHQK * d.DHHV),
    n: headSlice(s.n.data, bh, d.DHQK),
    m: s.m ? s.m.data[bh] : 0,
  };
}
function chunkwiseForwardCore(x, d, init, o) {
  const { B, NH, S, DHQK, DHHV } = d;
  const NC = S / o.chunkSize;
  const h = new Float64Array(B * NH * S * DHHV);
  const nOut = new Float64Array(B * NH * S);
  const mComb = new Float64Array(B * NH * S);
  const cStates = new Float64Array(B * NH * (NC + 1) * DHQK * DHHV);
  const nStates = new Float64Array(B * NH * (NC + 1) * DHQK);
  const mStates = new Float64Array(B * NH * (NC + 1));
  for (let bh = 0; bh < B * NH; bh++) {
    const r2 = chunkwiseForwardHead(
      chunkHeadInputs(x, d, bh),
      S,
      DHQK,
      DHHV,
      chunkHeadStates(init, d, bh),
      o,
    );
    setHeadSlice(h, bh, r2.h);
    setHeadSlice(nOut, bh, r2.nOut);
    setHeadSlice(mComb, bh, r2.mComb);
    setHeadSlice(cStates, bh, r2.cStates);
    setHeadSlice(nStates, bh, r2.nStates);
    setHeadSlice(mStates, bh, r2.mStates);
  }
  return {
    h: { shape: [B, NH, S, DHHV], data: h },
    nOut: { shape: [B, NH, S], data: nOut },
    mComb: { shape: [B, NH, S], data: mComb },
    cStates: { shape: [B, NH, (NC + 1) * DHQK, DHHV], data: cStates },
    nStates: { shape: [B, NH, (NC + 1) * DHQK], data: nStates },
    mStates: { shape: [B, NH, NC + 1], data: mStates },
  };
}
function lastStatesOf(r2, d) {
  const { B, NH, DHQK, DHHV } = d;
  const NC1 = r2.mStates.shape[2];
  const CS = DHQK * DHHV;
  const c = new Float64Array(B * NH * CS);
  const n = new Float64Array(B * NH * DHQK);
  const m = new Float64Array(B * NH);
  for (let bh = 0; bh < B * NH; bh++) {
    c.set(r2.cStates.data.subarray((bh * NC1 + NC1 - 1) * CS, (bh * NC1 + NC1) * CS), bh * CS);
    n.set(r2.nStates.data.subarray((bh * NC1 + NC1 - 1) * DHQK, (bh * NC1 + NC1) * DHQK), bh * DHQK);
    m[bh] = r2.mStates.data[bh * NC1 + NC1 - 1];
  }
  return {
    c: { shape: [B, NH, DHQK, DHHV], data: c },
    n: { shape: [B, NH, DHQK], data: n },
    m: { shape: [B, NH, 1], data: m },
  };
}
function validateChunkwiseArgs(args, ctx2, requireM = true) {
  const d = validateSequenceInputs(args, ctx2);
  const has = validateStates(
    { c: args.cInitial, n: args.nInitial, m: args.mInitial },
    { c: 'cInitial', n: 'nInitial', m: 'mInitial' },
    d,
    ctx2,
    requireM,
  );
  const chunkSize = expectChunkSize(args.chunkSize ?? DEFAULT_CHUNK_SIZE, ctx2, d.S);
  const eps = validateEps(args.eps, ctx2, DEFAULT_EPS);
  const init = has ? { c: args.cInitial, n: args.nInitial, m: requireM ? args.mInitial : void 0 } : void 0;
  return { d, init, eps, chunkSize };
}
function mlstmChunkwise(args) {
  const ctx2 = 'mlstmChunkwise';
  const { d, init, eps, chunkSize } = validateChunkwiseArgs(args, ctx2);
  const returnLast = validateFlag('returnLastStates', args.returnLastStates, ctx2, false);
  const r2 = chunkwiseForwardCore(args, d, init, { kind: 'exp', normalize: true, eps, chunkSize });
  return returnLast ? { h: r2.h, lastStates: lastStatesOf(r2, d) } : { h: r2.h };
}

// packages/core-reference/src/chunkwise-backward.ts
function chunkwiseBackwardHead(x, dh, dcLast, S, DHQK, DHHV, init, o) {
  const L2 = o.chunkSize;
  const NC = S / L2;
  const CS = DHQK * DHHV;
  const kappa2 = qkScale(DHQK);
  const fw = chunkwiseForwardHead(x, S, DHQK, DHHV, init, o);
  const { cStates, mStates } = fw;
  const dhTilde = new Float64Array(S * DHHV);
  for (let t = 0; t < S; t++) {
    const den = o.normalize ? fw.nOut[t] + o.eps : 1;
    for (let c = 0; c < DHHV; c++) dhTilde[t * DHHV + c] = dh[t * DHHV + c] / den;
  }
  const gates = Array.from({ length: NC }, (_, k) => chunkGates(o.kind, x.i, x.f, k * L2, L2));
  const intra = gates.map((g, k) => intraChunkGates(o.kind, g, mStates[k], L2));
  const dcStates = new Float64Array((NC + 1) * CS);
  if (dcLast) dcStates.set(dcLast, NC * CS);
  for (let k = NC - 1; k >= 0; k--) {
    const decay = Math.exp(gates[k].g + mStates[k] - mStates[k + 1]);
    for (let e = 0; e < CS; e++) dcStates[k * CS + e] = decay * dcStates[(k + 1) * CS + e];
    for (let j = 0; j < L2; j++) {
      const t = k * L2 + j;
      for (let r2 = 0; r2 < DHQK; r2++) {
        const qb = kappa2 * x.q[t * DHQK + r2] * intra[k].bBar[j];
        for (let c = 0; c < DHHV; c++) dcStates[k * CS + r2 * DHHV + c] += qb * dhTilde[t * DHHV + c];
      }
    }
  }
  const dq = new Float64Array(S * DHQK);
  const dk = new Float64Array(S * DHQK);
  const dv = new Float64Array(S * DHHV);
  for (let k = 0; k < NC; k++) {
    const { gate, bBar } = intra[k];
    const cPrev = k * CS;
    const dcNext = (k + 1) * CS;
    for (let j = 0; j < L2; j++) {
      const t = k * L2 + j;
      for (let r2 = 0; r2 < DHQK; r2++) {
        dq[t * DHQK + r2] += kappa2 * bBar[j] * dot(cStates, cPrev + r2 * DHHV, dhTilde, t * DHHV, DHHV);
      }
      for (let l = 0; l <= j; l++) {
        const u = k * L2 + l;
        const d = gate[j * L2 + l];
        const p = dot(dhTilde, t * DHHV, x.v, u * DHHV, DHHV) * d;
        const ct = kappa2 * dot(x.q, t * DHQK, x.k, u * DHQK, DHQK) * d;
        for (let r2 = 0; r2 < DHQK; r2++) {
          dq[t * DHQK + r2] += kappa2 * p * x.k[u * DHQK + r2];
          dk[u * DHQK + r2] += kappa2 * p * x.q[t * DHQK + r2];
        }
        for (let c = 0; c < DHHV; c++) dv[u * DHHV + c] += ct * dhTilde[t * DHHV + c];
      }
    }
    for (let l = 0; l < L2; l++) {
      const u = k * L2 + l;
      const aBar = Math.exp(gates[k].a[l] - mStates[k + 1]);
      for (let r2 = 0; r2 < DHQK; r2++) {
        dk[u * DHQK + r2] += aBar * dot(dcStates, dcNext + r2 * DHHV, x.v, u * DHHV, DHHV);
        const kr = aBar * x.k[u * DHQK + r2];
        for (let c = 0; c < DHHV; c++) dv[u * DHHV + c] += kr * dcStates[dcNext + r2 * DHHV + c];
      }
    }
  }
  const shift = o.correctDfForDcLast && dcLast ? dot(dcLast, 0, cStates, NC * CS, CS) : 0;
  const di = new Float64Array(S);
  const df = new Float64Array(S);
  gateGradientsHead(o.kind, x.q, x.k, dq, dk, x.i, x.f, S, DHQK, shift, di, df, 0);
  return { dq, dk, dv, di, df, dcStates };
}
function chunkwiseBackwardCore(x, dh, dcLast, d, init, o) {
  const { B, NH, S, DHQK, DHHV } = d;
  const NC = S / o.chunkSize;
  const CS = DHQK * DHHV;
  const dq = new Float64Array(B * NH * S * DHQK);
  const dk = new Float64Array(B * NH * S * DHQK);
  const dv = new Float64Array(B * NH * S * DHHV);
  const di = new Float64Array(B * NH * S);
  const df = new Float64Array(B * NH * S);
  const dcStates = new Float64Array(B * NH * (NC + 1) * CS);
  for (let bh = 0; bh < B * NH; bh++) {
    const g = chunkwiseBackwardHead(
      chunkHeadInputs(x, d, bh),
      headSlice(dh.data, bh, S * DHHV),
      dcLast ? headSlice(dcLast.data, bh, CS) : void 0,
      S,
      DHQK,
      DHHV,
      chunkHeadStates(init, d, bh),
      o,
    );
    setHeadSlice(dq, bh, g.dq);
    setHeadSlice(dk, bh, g.dk);
    setHeadSlice(dv, bh, g.dv);
    setHeadSlice(di, bh, g.di);
    setHeadSlice(df, bh, g.df);
    setHeadSlice(dcStates, bh, g.dcStates);
  }
  const out = {
    dq: { shape: [B, NH, S, DHQK], data: dq },
    dk: { shape: [B, NH, S, DHQK], data: dk },
    dv: { shape: [B, NH, S, DHHV], data: dv },
    di: { shape: [B, NH, S], data: di },
    df: { shape: [B, NH, S], data: df },
    dcStates: { shape: [B, NH, (NC + 1) * DHQK, DHHV], data: dcStates },
  };
  if (init) {
    const dc0 = new Float64Array(B * NH * CS);
    for (let bh = 0; bh < B * NH; bh++)
      dc0.set(dcStates.subarray(bh * (NC + 1) * CS, (bh * (NC + 1) + 1) * CS), bh * CS);
    out.dcInitial = { shape: [B, NH, DHQK, DHHV], data: dc0 };
    out.dnInitial = { shape: [B, NH, DHQK], data: new Float64Array(B * NH * DHQK) };
    if (o.kind === 'exp') out.dmInitial = { shape: [B, NH, 1], data: new Float64Array(B * NH) };
  }
  return out;
}
function validateChunkwiseBackwardArgs(args, ctx2, requireM = true) {
  const v = validateChunkwiseArgs(args, ctx2, requireM);
  validateDh(args.dh, v.d, ctx2);
  if (args.dcLast != null) {
    expectShape(
      'dcLast',
      args.dcLast,
      [v.d.B, v.d.NH, v.d.DHQK, v.d.DHHV],
      ['B', 'NH', 'DHQK', 'DHHV'],
      ctx2,
    );
  }
  const correct = validateFlag('correctDfForDcLast', args.correctDfForDcLast, ctx2, false);
  return { ...v, dcLast: args.dcLast ?? void 0, correct };
}
function mlstmChunkwiseBackward(args) {
  const ctx2 = 'mlstmChunkwiseBackward';
  const { d, init, eps, chunkSize, dcLast, correct } = validateChunkwiseBackwardArgs(args, ctx2);
  const { dcStates: _, ...grads } = chunkwiseBackwardCore(args, args.dh, dcLast, d, init, {
    kind: 'exp',
    normalize: true,
    eps,
    chunkSize,
    correctDfForDcLast: correct,
  });
  return grads;
}

// packages/core-reference/src/siging/chunkwise.ts
function mlstmSigChunkwise(args) {
  const ctx2 = 'mlstmSigChunkwise';
  const { d, init, eps, chunkSize } = validateChunkwiseArgs(args, ctx2, false);
  const normalize = validateFlag('normalize', args.normalize, ctx2, true);
  const returnLast = validateFlag('returnLastStates', args.returnLastStates, ctx2, false);
  const r2 = chunkwiseForwardCore(args, d, init, { kind: 'sig', normalize, eps, chunkSize });
  if (!returnLast) return { h: r2.h };
  const { c, n } = lastStatesOf(r2, d);
  if (!normalize) n.data.fill(0);
  return { h: r2.h, lastStates: { c, n } };
}
function mlstmSigChunkwiseBackward(args) {
  const ctx2 = 'mlstmSigChunkwiseBackward';
  const { d, init, eps, chunkSize, dcLast, correct } = validateChunkwiseBackwardArgs(args, ctx2, false);
  const normalize = validateFlag('normalize', args.normalize, ctx2, true);
  const { dcStates: _, ...grads } = chunkwiseBackwardCore(args, args.dh, dcLast, d, init, {
    kind: 'sig',
    normalize,
    eps,
    chunkSize,
    correctDfForDcLast: correct,
  });
  return grads;
}

// packages/core-reference/src/testing/random.ts
var Rng = class {
  state;
  spare;
  constructor(seed) {
    this.state = seed >>> 0 || 2654435769;
  }
  /** Uniform in [0, 1). */
  uniform() {
    this.state = (this.state + 1831565813) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Standard normal. */
  normal() {
    if (this.spare !== void 0) {
      const s = this.spare;
      this.spare = void 0;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r2 = Math.sqrt(-2 * Math.log(u));
    this.spare = r2 * Math.sin(2 * Math.PI * v);
    return r2 * Math.cos(2 * Math.PI * v);
  }
  /** Integer in [lo, hi] (inclusive). */
  int(lo, hi) {
    return lo + Math.floor(this.uniform() * (hi - lo + 1));
  }
  /** One element of a list. */
  pick(items) {
    return items[Math.floor(this.uniform() * items.length)];
  }
};
function randn(rng, shape, opts = {}) {
  const { scale = 1, offset = 0, kind = 'f64' } = opts;
  const n = numel(shape);
  const data = kind === 'f32' ? new Float32Array(n) : new Float64Array(n);
  for (let x = 0; x < n; x++) data[x] = offset + scale * rng.normal();
  return { shape: [...shape], data };
}
function randomMlstmInputs(rng, d, opts = {}) {
  const { iOffset = 0, fOffset = 3, kind = 'f64' } = opts;
  return {
    q: randn(rng, [d.B, d.NH, d.S, d.DHQK], { kind }),
    k: randn(rng, [d.B, d.NH, d.S, d.DHQK], { kind }),
    v: randn(rng, [d.B, d.NH, d.S, d.DHHV], { kind }),
    i: randn(rng, [d.B, d.NH, d.S], { offset: iOffset, kind }),
    f: randn(rng, [d.B, d.NH, d.S], { offset: fOffset, kind }),
  };
}

// packages/core-reference/src/testing/compare.ts
function unravel(index, shape) {
  const out = new Array(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = index % shape[d];
    index = Math.floor(index / shape[d]);
  }
  return out;
}
function compare(actual, expected, tol = {}) {
  const a = 'data' in actual ? actual.data : actual;
  const e = 'data' in expected ? expected.data : expected;
  const shape = 'shape' in expected ? expected.shape : [e.length];
  if (a.length !== e.length) throw new RangeError(`compare: ${a.length} elements vs ${e.length} expected`);
  const { atol = 0, rtol = 0 } = tol;
  let maxAbs = 0;
  let maxRel = 0;
  let num = 0;
  let den = 0;
  let worst = 0;
  let worstExcess = Number.NEGATIVE_INFINITY;
  let nonFinite = 0;
  for (let x = 0; x < e.length; x++) {
    const diff = Math.abs(a[x] - e[x]);
    if (!Number.isFinite(a[x]) && Number.isFinite(e[x])) {
      nonFinite++;
      if (worstExcess !== Number.POSITIVE_INFINITY) {
        worstExcess = Number.POSITIVE_INFINITY;
        worst = x;
      }
      continue;
    }
    if (diff > maxAbs) maxAbs = diff;
    const rel = diff / (Math.abs(e[x]) + 1e-30);
    if (rel > maxRel) maxRel = rel;
    num += diff * diff;
    den += e[x] * e[x];
    const excess = diff - (atol + rtol * Math.abs(e[x]));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = x;
    }
  }
  return {
    maxAbs,
    maxRel,
    relNorm: den > 0 ? Math.sqrt(num / den) : Math.sqrt(num),
    worstIndex: worst,
    worstAt: unravel(worst, shape),
    actualAtWorst: a[worst],
    expectedAtWorst: e[worst],
    nonFinite,
  };
}

// packages/kernels-webgpu/scripts/device-check.ts
import { writeFileSync } from 'node:fs';

// packages/kernels-webgpu/src/errors.ts
var KernelArgumentError = class extends Error {
  argument;
  expected;
  received;
  constructor(argument, expected, received, context) {
    super(`${context ? `${context}: ` : ''}${argument}: expected ${expected}, got ${received}`);
    this.name = 'KernelArgumentError';
    this.argument = argument;
    this.expected = expected;
    this.received = received;
  }
};
var GpuDeviceLostError = class extends Error {
  reason;
  constructor(reason, message) {
    super(
      `GPU device lost (${reason})${message ? `: ${message}` : ''}. Call ctx.recreate() or getGpuContext() again.`,
    );
    this.name = 'GpuDeviceLostError';
    this.reason = reason;
  }
};
var GpuValidationError = class extends Error {
  kind;
  constructor(kind, message) {
    super(`WebGPU ${kind} error: ${message}`);
    this.name = 'GpuValidationError';
    this.kind = kind;
  }
};
var NoAdapterError = class extends Error {
  constructor(message) {
    super(message);
    this.name = 'NoAdapterError';
  }
};

// packages/kernels-webgpu/src/device/f16.ts
var f32 = new Float32Array(1);
var u32 = new Uint32Array(f32.buffer);
function f32ToF16Bits(x) {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 32768;
  const exp = (bits >>> 23) & 255;
  let mant = bits & 8388607;
  if (exp === 255) return sign | 31744 | (mant ? 512 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 31744;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 8388608;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest2 = mant & ((1 << shift) - 1);
    let r3 = mant >>> shift;
    if (rest2 > half || (rest2 === half && r3 & 1)) r3++;
    return sign | r3;
  }
  let r2 = (e << 10) | (mant >>> 13);
  const rest = mant & 8191;
  if (rest > 4096 || (rest === 4096 && r2 & 1)) r2++;
  return sign | r2;
}
function f16BitsToF32(h) {
  const s = h & 32768 ? -1 : 1;
  const e = (h >>> 10) & 31;
  const m = h & 1023;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}
function packF16(values) {
  const out = new Uint16Array(values.length + (values.length & 1));
  for (let x = 0; x < values.length; x++) out[x] = f32ToF16Bits(values[x]);
  return out;
}
function unpackF16(bits, count = bits.length) {
  const out = new Float32Array(count);
  for (let x = 0; x < count; x++) out[x] = f16BitsToF32(bits[x]);
  return out;
}
function roundToF16(values) {
  const out = new Float32Array(values.length);
  for (let x = 0; x < values.length; x++) out[x] = f16BitsToF32(f32ToF16Bits(values[x]));
  return out;
}

// packages/kernels-webgpu/src/device/pool.ts
function sizeClass(bytes) {
  const b = Math.max(4, Math.ceil(bytes));
  if (b <= 4096) return Math.ceil(b / 256) * 256;
  const p = 2 ** Math.floor(Math.log2(b));
  const step = p / 8;
  return Math.ceil(b / step) * step;
}
var BufferPool = class {
  /**
   * @param device the device that creates the buffers
   * @param maxCachedBytes released buffers beyond this many bytes are destroyed (default 1 GiB)
   */
  constructor(device, maxCachedBytes = 1 << 30) {
    this.device = device;
    this.maxCachedBytes = maxCachedBytes;
  }
  device;
  maxCachedBytes;
  free = /* @__PURE__ */ new Map();
  owned = /* @__PURE__ */ new Map();
  live = 0;
  peak = 0;
  cached = 0;
  created = 0;
  reused = 0;
  /** A buffer of at least `bytes` bytes with exactly `usage`. */
  acquire(bytes, usage, label) {
    const size = sizeClass(bytes);
    const key = `${usage}:${size}`;
    const list = this.free.get(key);
    let buffer = list?.pop();
    if (buffer) {
      this.cached -= size;
      this.reused++;
    } else {
      buffer = this.device.createBuffer({ size, usage, label });
      this.created++;
    }
    this.owned.set(buffer, { key, size });
    this.live += size;
    if (this.live > this.peak) this.peak = this.live;
    return buffer;
  }
  /** Gives a buffer back. Releasing a buffer twice, or one the pool did not make, throws. */
  release(buffer) {
    const info = this.owned.get(buffer);
    if (!info) throw new Error('BufferPool.release: buffer is not live in this pool (released twice?)');
    this.owned.delete(buffer);
    this.live -= info.size;
    if (this.cached + info.size > this.maxCachedBytes) {
      buffer.destroy();
      return;
    }
    let list = this.free.get(info.key);
    if (!list) this.free.set(info.key, (list = []));
    list.push(buffer);
    this.cached += info.size;
  }
  /** Destroys every cached (released) buffer. Live buffers are untouched. */
  trim() {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.cached = 0;
  }
  resetPeak() {
    this.peak = this.live;
  }
  get stats() {
    return {
      liveBytes: this.live,
      peakLiveBytes: this.peak,
      cachedBytes: this.cached,
      buffersCreated: this.created,
      reuses: this.reused,
    };
  }
  /** Forgets everything (after device loss: the old buffers are gone with the device). */
  reset(device) {
    this.device = device;
    this.free.clear();
    this.owned.clear();
    this.live = this.peak = this.cached = 0;
  }
};

// packages/kernels-webgpu/src/device/tensor.ts
var BYTES_PER_ELEMENT = { f32: 4, f16: 2 };
var TENSOR_USAGE = 128 | 4 | 8;
var GpuTensor = class _GpuTensor {
  /** @internal use `ctx.empty()` / `ctx.upload()` */
  constructor(buffer, shape, dtype, pool, byteOffset = 0) {
    this.pool = pool;
    this.buf = buffer;
    this.byteOffset = byteOffset;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.numel = shape.reduce((a, b) => a * b, 1);
  }
  pool;
  shape;
  dtype;
  numel;
  /** byte offset of the first element in `buffer` (non-zero only for sub-views) */
  byteOffset;
  buf;
  /** The underlying buffer (at least `byteLength` bytes; pooled buffers may be larger). */
  get buffer() {
    if (!this.buf) throw new KernelArgumentError('tensor', 'a live GpuTensor', 'a released one');
    return this.buf;
  }
  /** Bytes of the elements (f16 tensors are padded to a multiple of 4 bytes). */
  get byteLength() {
    return Math.ceil((this.numel * BYTES_PER_ELEMENT[this.dtype]) / 4) * 4;
  }
  get released() {
    return this.buf === null;
  }
  /** Returns the buffer to the pool. Idempotent. */
  release() {
    if (!this.buf) return;
    if (this.pool) this.pool.release(this.buf);
    this.buf = null;
  }
  /** A view with another shape of the same number of elements (shares the buffer; releasing the view does nothing). */
  view(shape) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (n !== this.numel) {
      throw new KernelArgumentError(
        'shape',
        `${this.numel} elements`,
        `[${shape.join(', ')}] (${n})`,
        'GpuTensor.view',
      );
    }
    return new _GpuTensor(this.buffer, shape, this.dtype, null, this.byteOffset);
  }
  /**
   * A view of `shape` starting `elementOffset` elements into this tensor (shares the buffer;
   * releasing it does nothing). The byte offset must be a multiple of 256 (WebGPU's storage
   * binding alignment).
   */
  subview(elementOffset, shape) {
    const n = shape.reduce((a, b) => a * b, 1);
    const offset = this.byteOffset + elementOffset * BYTES_PER_ELEMENT[this.dtype];
    if (elementOffset < 0 || elementOffset + n > this.numel || offset % 256 !== 0) {
      throw new KernelArgumentError(
        'elementOffset',
        `a range inside the tensor's ${this.numel} elements starting at a multiple of 256 bytes`,
        `[${elementOffset}, ${elementOffset + n}) at byte ${offset}`,
        'GpuTensor.subview',
      );
    }
    return new _GpuTensor(this.buffer, shape, this.dtype, null, offset);
  }
};

// packages/kernels-webgpu/src/device/context.ts
var WANTED_FEATURES = ['shader-f16', 'subgroups', 'timestamp-query', 'chromium-experimental-subgroup-matrix'];
var WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
];
var nodeGpus = /* @__PURE__ */ new Map();
async function findGpu(disableRobustness) {
  const nav = globalThis.navigator;
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  if (!isNode) {
    if (!nav?.gpu) {
      throw new NoAdapterError(
        'WebGPU is not available in this browser (navigator.gpu is missing). Use a browser with WebGPU enabled (Chrome/Edge 113+, Safari 26+, Firefox 141+) on a secure context (https or localhost).',
      );
    }
    return nav.gpu;
  }
  const toggles = ['allow_unsafe_apis', 'vulkan_enable_f16_on_nvidia'];
  if (disableRobustness) toggles.push('disable_robustness');
  const key = toggles.join(',');
  let gpu = nodeGpus.get(key);
  if (!gpu) {
    const name = 'webgpu';
    let mod;
    try {
      mod = await import(
        /* @vite-ignore */
        name
      );
    } catch (e) {
      throw new NoAdapterError(
        `WebGPU under Node needs the 'webgpu' package (dawn.node): npm install webgpu@0.6.2 (${e.message})`,
      );
    }
    Object.assign(globalThis, mod.globals);
    gpu = mod.create([`enable-dawn-features=${key}`, 'disable-dawn-features=timestamp_quantization']);
    nodeGpus.set(key, gpu);
    const g = globalThis;
    if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
    else if (!g.navigator.gpu) g.navigator.gpu = gpu;
  }
  return gpu;
}
function readFeatures(device, adapterInfo) {
  const info = adapterInfo ?? device.adapterInfo;
  const has = (f) => device.features.has(f);
  return {
    shaderF16: has('shader-f16'),
    subgroups: has('subgroups'),
    timestampQuery: has('timestamp-query'),
    subgroupMatrix: has('chromium-experimental-subgroup-matrix'),
    subgroupMatrixConfigs: has('chromium-experimental-subgroup-matrix')
      ? [...(info?.subgroupMatrixConfigs ?? [])].map((c) => ({
          componentType: String(c.componentType),
          resultComponentType: String(c.resultComponentType),
          M: c.M,
          N: c.N,
          K: c.K,
        }))
      : [],
    subgroupMinSize: info?.subgroupMinSize ?? 0,
    subgroupMaxSize: info?.subgroupMaxSize ?? 0,
  };
}
var DispatchBatch = class {
  /** @internal use `ctx.batch()` */
  constructor(ctx2) {
    this.ctx = ctx2;
  }
  ctx;
  pending = [];
  temporaries = [];
  get size() {
    return this.pending.length;
  }
  dispatch(pipeline, buffers, params2, workgroups, label = 'kernel') {
    const [x, y = 1, z = 1] = workgroups;
    const max = this.ctx.limits.maxComputeWorkgroupsPerDimension;
    for (const [n, v] of [
      ['x', x],
      ['y', y],
      ['z', z],
    ]) {
      if (!Number.isInteger(v) || v < 0 || v > max) {
        throw new KernelArgumentError(`workgroups.${n}`, `an integer in [0, ${max}]`, String(v), label);
      }
    }
    this.pending.push({
      label,
      pipeline,
      // tensors bind exactly their bytes (pooled buffers are larger; views start at an offset)
      buffers: buffers.map((b) =>
        b instanceof GpuTensor
          ? { buffer: b.buffer, offset: b.byteOffset, size: b.byteLength }
          : { buffer: b },
      ),
      params: params2,
      workgroups: [x, y, z],
    });
    return this;
  }
  /** A scratch tensor released automatically after `submit()`. */
  scratch(shape, dtype = 'f32') {
    const t = this.ctx.empty(shape, dtype);
    this.temporaries.push(t);
    return t;
  }
  /**
   * Encodes and submits everything; optional timestamp writes at the pass begin/end (by default
   * those of an active {@link GpuContext.beginGpuTiming} session).
   */
  submit(timestampWrites) {
    const { device } = this.ctx;
    this.ctx.throwIfLost();
    if (!this.ctx.timingPerDispatch) timestampWrites ??= this.ctx.nextTimestampWrites('batch');
    const align = device.limits.minUniformBufferOffsetAlignment;
    const slots = this.pending.map((d) => (d.params ? Math.ceil(d.params.byteLength / align) * align : 0));
    const total = slots.reduce((a, b) => a + b, 0);
    let uniforms = null;
    if (total > 0) {
      uniforms = this.ctx.pool.acquire(total, 64 | 8, 'params');
      const staging = new Uint8Array(total);
      let off2 = 0;
      this.pending.forEach((d, x) => {
        if (d.params) staging.set(new Uint8Array(d.params), off2);
        off2 += slots[x];
      });
      device.queue.writeBuffer(uniforms, 0, staging);
    }
    const encoder = device.createCommandEncoder();
    const perDispatch = !timestampWrites && this.ctx.timingPerDispatch;
    let pass = null;
    if (!perDispatch) pass = encoder.beginComputePass(timestampWrites ? { timestampWrites } : {});
    let off = 0;
    this.pending.forEach((d, x) => {
      const entries = [];
      if (d.params && uniforms)
        entries.push({ binding: 0, resource: { buffer: uniforms, offset: off, size: d.params.byteLength } });
      for (const [j, b] of d.buffers.entries()) entries.push({ binding: j + 1, resource: b });
      off += slots[x];
      const bindGroup = device.createBindGroup({ layout: d.pipeline.getBindGroupLayout(0), entries });
      const p = pass ?? encoder.beginComputePass({ timestampWrites: this.ctx.nextTimestampWrites(d.label) });
      p.setPipeline(d.pipeline);
      p.setBindGroup(0, bindGroup);
      const [wx, wy, wz] = d.workgroups;
      if (wx > 0 && wy > 0 && wz > 0) p.dispatchWorkgroups(wx, wy, wz);
      if (!pass) p.end();
    });
    pass?.end();
    device.queue.submit([encoder.finish()]);
    if (uniforms) this.ctx.pool.release(uniforms);
    for (const t of this.temporaries) t.release();
    this.pending.length = 0;
    this.temporaries.length = 0;
  }
};
var GpuContext = class _GpuContext {
  constructor(device, adapterInfo, features, options) {
    this.options = options;
    this.device = device;
    this.adapterInfo = adapterInfo;
    this.features = features;
    this.limits = device.limits;
    this.pool = new BufferPool(device, options.maxCachedBytes);
    this.watch(device);
  }
  options;
  device;
  adapterInfo;
  features;
  limits;
  pool;
  /** number of compute pipelines compiled (a pipeline is compiled once per cache key) */
  pipelinesCompiled = 0;
  pipelines = /* @__PURE__ */ new Map();
  errors = [];
  lostInfo = null;
  /** @internal */
  static async create(options = {}) {
    const { device, adapterInfo, features } = await _GpuContext.openDevice(options);
    return new _GpuContext(device, adapterInfo, features, options);
  }
  static async openDevice(options) {
    let device = options.device;
    let info;
    if (!device) {
      let adapter = options.adapter;
      if (!adapter) {
        const gpu = await findGpu(!!options.disableRobustness);
        adapter = (await gpu.requestAdapter({ powerPreference: options.powerPreference })) ?? void 0;
        if (!adapter) {
          throw new NoAdapterError(
            'requestAdapter() found no WebGPU adapter. In Node on a machine without a GPU install Mesa lavapipe (Debian: mesa-vulkan-drivers from bookworm-backports); in Chromium pass --enable-unsafe-webgpu.',
          );
        }
      }
      info = adapter.info;
      const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f));
      const requiredLimits = {};
      for (const l of WANTED_LIMITS) {
        const v = adapter.limits[l];
        if (typeof v === 'number') requiredLimits[l] = v;
      }
      device = await adapter.requestDevice({ requiredFeatures, requiredLimits, label: 'mlstm' });
    } else {
      info = device.adapterInfo;
    }
    const adapterInfo = {
      vendor: info?.vendor ?? '',
      architecture: info?.architecture ?? '',
      device: info?.device ?? '',
      description: info?.description ?? '',
      isFallbackAdapter: !!info?.isFallbackAdapter,
    };
    return { device, adapterInfo, features: readFeatures(device, info) };
  }
  watch(device) {
    device.lost.then((info) => {
      if (this.device === device) this.lostInfo = info;
    });
    device.addEventListener('uncapturederror', (ev) => {
      const err = ev.error;
      const kind =
        err.constructor?.name === 'GPUOutOfMemoryError'
          ? 'out-of-memory'
          : err.constructor?.name === 'GPUInternalError'
            ? 'internal'
            : 'validation';
      this.errors.push(new GpuValidationError(kind, err.message));
    });
  }
  /** Throws a {@link GpuDeviceLostError} if the device is gone. */
  throwIfLost() {
    if (this.lostInfo) throw new GpuDeviceLostError(this.lostInfo.reason, this.lostInfo.message);
  }
  /** Throws the first WebGPU error reported since the last check (and clears them). */
  throwIfErrors() {
    this.throwIfLost();
    if (this.errors.length) {
      const [first] = this.errors;
      this.errors = [];
      throw first;
    }
  }
  get lost() {
    return this.lostInfo !== null;
  }
  /** Replaces a lost (or any) device by a fresh one; caches and pool are reset. */
  async recreate() {
    const { device, adapterInfo, features } = await _GpuContext.openDevice({
      ...this.options,
      device: void 0,
    });
    this.device = device;
    this.adapterInfo = adapterInfo;
    this.features = features;
    this.limits = device.limits;
    this.pipelines = /* @__PURE__ */ new Map();
    this.errors = [];
    this.lostInfo = null;
    this.pool.reset(device);
    this.watch(device);
  }
  /** A printable summary of the adapter, features and key limits. */
  describe() {
    const a = this.adapterInfo;
    const f = this.features;
    const sm = f.subgroupMatrixConfigs.map(
      (c) => `${c.componentType}\u2192${c.resultComponentType} ${c.M}x${c.N}x${c.K}`,
    );
    return [
      `adapter: ${[a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ')}${a.isFallbackAdapter ? ' (fallback)' : ''}`,
      `features: shader-f16 ${f.shaderF16 ? 'yes' : 'no'}, subgroups ${f.subgroups ? `yes (${f.subgroupMinSize}\u2013${f.subgroupMaxSize})` : 'no'}, timestamp-query ${f.timestampQuery ? 'yes' : 'no'}, subgroup-matrix ${f.subgroupMatrix ? `yes [${sm.join(', ')}]` : 'no'}`,
      `limits: workgroup storage ${this.limits.maxComputeWorkgroupStorageSize} B, invocations ${this.limits.maxComputeInvocationsPerWorkgroup}, storage binding ${this.limits.maxStorageBufferBindingSize} B, buffer ${this.limits.maxBufferSize} B`,
    ].join('\n');
  }
  /**
   * A compute pipeline, compiled once per `key` (the key must encode every code parameter).
   * With `bindings` (one entry per binding of group 0, starting at binding 0) the pipeline gets
   * an explicit layout, so a binding the generated code does not use is still valid to bind;
   * without it the layout is `'auto'`.
   */
  pipeline(key, makeCode, bindings) {
    this.throwIfLost();
    let p = this.pipelines.get(key);
    if (!p) {
      const code = makeCode();
      const module = this.device.createShaderModule({ code, label: key });
      let layout = 'auto';
      if (bindings) {
        const entries = bindings.map((kind, binding) => ({
          binding,
          visibility: 4,
          buffer: {
            type: kind === 'uniform' ? 'uniform' : kind === 'read' ? 'read-only-storage' : 'storage',
          },
        }));
        const bgl = this.device.createBindGroupLayout({ entries, label: key });
        layout = this.device.createPipelineLayout({ bindGroupLayouts: [bgl], label: key });
      }
      p = this.device.createComputePipeline({ layout, compute: { module, entryPoint: 'main' }, label: key });
      this.pipelines.set(key, p);
      this.pipelinesCompiled++;
    }
    return p;
  }
  /** Number of cached pipelines. */
  get pipelineCount() {
    return this.pipelines.size;
  }
  /** Checks a tensor size against the binding limit (typed error naming the argument). */
  checkBindingSize(name, bytes, context) {
    const max = this.limits.maxStorageBufferBindingSize;
    if (bytes > max) {
      throw new KernelArgumentError(
        name,
        `at most maxStorageBufferBindingSize = ${max} bytes on this adapter`,
        `${bytes} bytes`,
        context,
      );
    }
  }
  /** An uninitialised tensor from the pool. */
  empty(shape, dtype = 'f32', label) {
    this.throwIfLost();
    if (dtype === 'f16' && !this.features.shaderF16) {
      throw new KernelArgumentError('dtype', "'f32' (this adapter has no shader-f16)", "'f16'");
    }
    const n = shape.reduce((a, b) => a * b, 1);
    const bytes = Math.max(4, Math.ceil((n * BYTES_PER_ELEMENT[dtype]) / 4) * 4);
    if (bytes > this.limits.maxBufferSize) {
      throw new KernelArgumentError(
        'shape',
        `a tensor of at most maxBufferSize = ${this.limits.maxBufferSize} bytes`,
        `[${shape.join(', ')}] ${dtype} (${bytes} bytes)`,
      );
    }
    return new GpuTensor(this.pool.acquire(bytes, TENSOR_USAGE, label), shape, dtype, this.pool);
  }
  /** A tensor of zeros. */
  zeros(shape, dtype = 'f32') {
    const t = this.empty(shape, dtype);
    const enc = this.device.createCommandEncoder();
    enc.clearBuffer(t.buffer, t.byteOffset, t.byteLength);
    this.device.queue.submit([enc.finish()]);
    return t;
  }
  /** Uploads values (any numeric array) as a tensor of `shape` and `dtype`. */
  upload(data, shape, dtype = 'f32') {
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) {
      throw new KernelArgumentError(
        'data',
        `${n} elements for shape [${shape.join(', ')}]`,
        `${data.length}`,
        'upload',
      );
    }
    const t = this.empty(shape, dtype);
    const bytes =
      dtype === 'f16' ? packF16(data) : data instanceof Float32Array ? data : Float32Array.from(data);
    this.device.queue.writeBuffer(t.buffer, 0, bytes.buffer, bytes.byteOffset, t.byteLength);
    return t;
  }
  /** Reads a tensor back as float32 values (f16 is unpacked). Throws pending WebGPU errors. */
  async read(t) {
    this.throwIfErrors();
    const size = t.byteLength;
    const staging = this.pool.acquire(size, 1 | 8, 'readback');
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(t.buffer, t.byteOffset, staging, 0, size);
    this.device.queue.submit([enc.finish()]);
    const lost = this.device.lost.then((info) => {
      throw new GpuDeviceLostError(info.reason, info.message);
    });
    try {
      await Promise.race([staging.mapAsync(1, 0, size), lost]);
      const copy = staging.getMappedRange(0, size).slice(0);
      staging.unmap();
      this.throwIfErrors();
      return t.dtype === 'f16'
        ? unpackF16(new Uint16Array(copy), t.numel)
        : new Float32Array(copy, 0, t.numel);
    } finally {
      if (!this.lostInfo) this.pool.release(staging);
    }
  }
  timing = null;
  /** @internal whether the active timing session measures every dispatch on its own */
  get timingPerDispatch() {
    return !!this.timing?.perDispatch;
  }
  /**
   * Starts measuring GPU time with `timestamp-query`: every batch submitted until
   * {@link endGpuTiming} writes timestamps at the beginning and end of its compute pass.
   * Throws if the device has no `timestamp-query` (fall back to wall-clock + `sync()`).
   */
  beginGpuTiming(maxPasses = 256, options = {}) {
    if (!this.features.timestampQuery) {
      throw new KernelArgumentError('timestamp-query', 'an adapter with the timestamp-query feature', 'none');
    }
    if (this.timing) this.timing.querySet.destroy();
    const capacity = 2 * maxPasses;
    this.timing = {
      querySet: this.device.createQuerySet({ type: 'timestamp', count: capacity }),
      capacity,
      used: 0,
      labels: [],
      perDispatch: !!options.perDispatch,
    };
  }
  /** @internal the timestamp writes of the next pass while timing (undefined otherwise or when full). */
  nextTimestampWrites(label) {
    const t = this.timing;
    if (!t || t.used + 2 > t.capacity) return void 0;
    t.labels.push(label);
    const w2 = { querySet: t.querySet, beginningOfPassWriteIndex: t.used, endOfPassWriteIndex: t.used + 1 };
    t.used += 2;
    return w2;
  }
  /**
   * Ends a timing session: the GPU time in milliseconds of every measured compute pass (one per
   * submitted batch, or one per dispatch with `perDispatch`), in submission order.
   */
  async endGpuTiming() {
    return (await this.endGpuTimingLabelled()).map((e) => e.ms);
  }
  /** Like {@link endGpuTiming}, with the label of each pass (the dispatch label with `perDispatch`). */
  async endGpuTimingLabelled() {
    const t = this.timing;
    if (!t) throw new Error('endGpuTiming: no timing session (call beginGpuTiming first)');
    this.timing = null;
    if (t.used === 0) {
      t.querySet.destroy();
      return [];
    }
    const bytes = t.used * 8;
    const resolve = this.pool.acquire(bytes, 512 | 4, 'timestamps');
    const staging = this.pool.acquire(bytes, 1 | 8, 'timestamps-read');
    const enc = this.device.createCommandEncoder();
    enc.resolveQuerySet(t.querySet, 0, t.used, resolve, 0);
    enc.copyBufferToBuffer(resolve, 0, staging, 0, bytes);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(1, 0, bytes);
    const ts = new BigInt64Array(staging.getMappedRange(0, bytes).slice(0));
    staging.unmap();
    this.pool.release(resolve);
    this.pool.release(staging);
    t.querySet.destroy();
    this.throwIfErrors();
    const out = [];
    for (let x = 0; x + 1 < t.used; x += 2)
      out.push({ label: t.labels[x / 2], ms: Number(ts[x + 1] - ts[x]) / 1e6 });
    return out;
  }
  /** A new batch of dispatches (see {@link DispatchBatch}). */
  batch() {
    return new DispatchBatch(this);
  }
  /** Waits until the GPU has finished all submitted work; throws pending WebGPU errors. */
  async sync() {
    this.throwIfLost();
    await this.device.queue.onSubmittedWorkDone();
    this.throwIfErrors();
  }
  /** Destroys the device (the context is unusable afterwards). */
  destroy() {
    this.pool.trim();
    this.device.destroy();
  }
};
function getGpuContext(options = {}) {
  return GpuContext.create(options);
}

// packages/kernels-webgpu/src/device/params.ts
function defineParams(spec) {
  const fields = Object.keys(spec);
  const bytes = Math.max(16, Math.ceil((fields.length * 4) / 16) * 16);
  return {
    fields,
    wgsl(name = 'Params') {
      return `struct ${name} {
${fields.map((f) => `  ${f}: ${spec[f]},`).join('\n')}
}`;
    },
    pack(values) {
      const buf = new ArrayBuffer(bytes);
      const dv = new DataView(buf);
      fields.forEach((f, x) => {
        const v = values[f];
        if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`params: ${f} is ${v}`);
        if (spec[f] === 'f32') dv.setFloat32(4 * x, v, true);
        else if (spec[f] === 'u32') dv.setUint32(4 * x, v >>> 0, true);
        else dv.setInt32(4 * x, v | 0, true);
      });
      return buf;
    },
  };
}

// packages/kernels-webgpu/src/io.ts
var CallScope = class {
  constructor(ctx2, first) {
    this.ctx = ctx2;
    this.cpu = !(first instanceof GpuTensor);
  }
  ctx;
  uploaded = [];
  cpu;
  gpu(t, dtype = 'f32') {
    if (t == null) return void 0;
    if (t instanceof GpuTensor) return t;
    const g = this.ctx.upload(t.data, t.shape, dtype);
    this.uploaded.push(g);
    return g;
  }
  /** Releases the uploads and, for CPU callers, reads each output back and releases it. */
  async finish(result) {
    for (const t of this.uploaded) t.release();
    if (!this.cpu) return result;
    return await readAll(this.ctx, result);
  }
  /** Releases uploads after an error. */
  abort() {
    for (const t of this.uploaded) t.release();
  }
};
async function readAll(ctx2, value) {
  if (value instanceof GpuTensor) {
    const data = await ctx2.read(value);
    const shape = [...value.shape];
    value.release();
    return { shape, data };
  }
  if (value && typeof value === 'object' && !ArrayBuffer.isView(value) && !Array.isArray(value)) {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = await readAll(ctx2, v);
    return out;
  }
  return value;
}

// packages/kernels-webgpu/src/validate.ts
var fmt2 = (s) => `(${s.join(', ')})`;
function isTensorLike(x) {
  if (x instanceof GpuTensor) return !x.released;
  return (
    typeof x === 'object' &&
    x !== null &&
    Array.isArray(x.shape) &&
    (x.data instanceof Float32Array || x.data instanceof Float64Array) &&
    x.data.length === x.shape.reduce((a, b) => a * b, 1)
  );
}
function expectTensor(name, t, expected, dimNames, context, dtypes = ['f32', 'f16']) {
  const want = `shape (${dimNames.join(', ')}) = ${fmt2(expected)}`;
  if (!isTensorLike(t)) {
    const got =
      t instanceof GpuTensor
        ? 'a released GpuTensor'
        : t === void 0
          ? 'undefined'
          : 'something that is not a tensor';
    throw new KernelArgumentError(name, `a GpuTensor or CPU tensor of ${want}`, got, context);
  }
  const ok = t.shape.length === expected.length && t.shape.every((d, x) => d === expected[x]);
  if (!ok) throw new KernelArgumentError(name, want, `shape ${fmt2(t.shape)}`, context);
  if (t instanceof GpuTensor && !dtypes.includes(t.dtype)) {
    throw new KernelArgumentError(
      name,
      `dtype ${dtypes.map((d) => `'${d}'`).join(' or ')}`,
      `'${t.dtype}'`,
      context,
    );
  }
}
function validateSequence(a, context) {
  const { q, k, v, i, f } = a;
  if (!isTensorLike(q) || q.shape.length !== 4 || q.shape.some((d) => !(d >= 1))) {
    throw new KernelArgumentError(
      'q',
      'a tensor of shape (B, NH, S, DHQK) with all dims >= 1',
      isTensorLike(q) ? `shape ${fmt2(q.shape)}` : String(q),
      context,
    );
  }
  const [B, NH, S, DHQK] = q.shape;
  expectTensor('k', k, [B, NH, S, DHQK], ['B', 'NH', 'S', 'DHQK'], context);
  if (!isTensorLike(v) || v.shape.length !== 4 || !(v.shape[3] >= 1)) {
    throw new KernelArgumentError(
      'v',
      `a tensor of shape (B, NH, S, DHHV) = (${B}, ${NH}, ${S}, DHHV)`,
      isTensorLike(v) ? `shape ${fmt2(v.shape)}` : String(v),
      context,
    );
  }
  const DHHV = v.shape[3];
  expectTensor('v', v, [B, NH, S, DHHV], ['B', 'NH', 'S', 'DHHV'], context);
  expectTensor('i', i, [B, NH, S], ['B', 'NH', 'S'], context, ['f32']);
  expectTensor('f', f, [B, NH, S], ['B', 'NH', 'S'], context, ['f32']);
  const dt = [q, k, v].map((t) => (t instanceof GpuTensor ? t.dtype : null));
  if (dt.some((d) => d !== null) && new Set(dt.filter(Boolean)).size > 1) {
    throw new KernelArgumentError('k, v', `the dtype of q ('${dt[0]}')`, `'${dt[1]}', '${dt[2]}'`, context);
  }
  return { B, NH, S, DHQK, DHHV };
}
function validateStates2(s, d, context, requireM = true) {
  const names = requireM ? ['cInitial', 'nInitial', 'mInitial'] : ['cInitial', 'nInitial'];
  const given = names.map((n) => s[n] != null);
  if (!given.some(Boolean)) return false;
  if (!given.every(Boolean)) {
    throw new KernelArgumentError(
      names[given.indexOf(false)],
      `all of ${names.join(', ')} or none`,
      'undefined',
      context,
    );
  }
  expectTensor('cInitial', s.cInitial, [d.B, d.NH, d.DHQK, d.DHHV], ['B', 'NH', 'DHQK', 'DHHV'], context, [
    'f32',
  ]);
  expectTensor('nInitial', s.nInitial, [d.B, d.NH, d.DHQK], ['B', 'NH', 'DHQK'], context, ['f32']);
  if (s.mInitial != null)
    expectTensor('mInitial', s.mInitial, [d.B, d.NH, 1], ['B', 'NH', '1'], context, ['f32']);
  return true;
}
function validateEps2(eps, context) {
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) {
    throw new KernelArgumentError('eps', 'a finite number >= 0', String(eps), context);
  }
  return eps;
}
function resolveDtype(ctx2, q, requested, context) {
  const dtype = q instanceof GpuTensor ? q.dtype : (requested ?? 'f32');
  if (q instanceof GpuTensor && requested && requested !== q.dtype) {
    throw new KernelArgumentError(
      'dtype',
      `'${q.dtype}' (the dtype of the GPU input q)`,
      `'${requested}'`,
      context,
    );
  }
  if (dtype === 'f16' && !ctx2.features.shaderF16) {
    throw new KernelArgumentError('dtype', "'f32' \u2014 this adapter has no shader-f16", "'f16'", context);
  }
  return dtype;
}
function checkSizes(ctx2, sizes, context) {
  for (const [name, bytes] of Object.entries(sizes)) ctx2.checkBindingSize(name, bytes, context);
}

// packages/kernels-webgpu/src/wgsl/common.ts
var NEG_LARGE = '-1.0e30';
function wgslHeader(dtype, extra = {}) {
  return [
    dtype === 'f16' ? 'enable f16;' : '',
    extra.subgroups ? 'enable subgroups;' : '',
    `alias elem = ${dtype};`,
    GATE_FUNCTIONS,
  ]
    .filter(Boolean)
    .join('\n');
}
var GATE_FUNCTIONS =
  /* wgsl */
  `
fn logsigmoid(x: f32) -> f32 {
  // min(x, 0) - log1p(exp(-|x|)); log(1 + y) is exact enough in f32 for y = exp(-|x|) <= 1
  return min(x, 0.0) - log(1.0 + exp(-abs(x)));
}
fn sigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}`;
var cdiv = (a, b) => Math.ceil(a / b);
var nextPow2 = (n) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));
function splitWorkgroups(count, max = 65535) {
  if (count <= max) return [count, 1];
  const y = Math.ceil(count / max);
  return [Math.ceil(count / y), y];
}

// packages/kernels-webgpu/src/recurrent/step.ts
var DEFAULT_EPS2 = 1e-6;
var STEP_SCRATCH_PER_HEAD = 4;
var STEP_PARAMS = defineParams({
  BH: 'u32',
  S: 'u32',
  t: 'u32',
  DHQK: 'u32',
  DHHV: 'u32',
  has_state: 'u32',
  kappa: 'f32',
  eps: 'f32',
});
function recurrentStepTiles(BH, DHQK, DHHV, maxInvocations = 256, maxSizeY = maxInvocations) {
  const pow2Floor = (n) => 2 ** Math.floor(Math.log2(Math.max(1, n)));
  const wide = Math.min(32, nextPow2(DHHV));
  const starved = BH * cdiv(DHHV, wide) < 256;
  const blockV = Math.min(starved ? 16 : 32, nextPow2(DHHV), pow2Floor(maxInvocations));
  const threads = pow2Floor(Math.min(maxInvocations, starved ? 512 : 256));
  const splitK = Math.max(1, Math.min(nextPow2(DHQK), Math.floor(threads / blockV), pow2Floor(maxSizeY)));
  return { blockV, splitK };
}
var RECURRENT_STEP_FUSED_BINDINGS = { inPlace: 11, separate: 12 };
function declare(dtype, bindings) {
  return [
    wgslHeader(dtype),
    STEP_PARAMS.wgsl(),
    '@group(0) @binding(0) var<uniform> p: Params;',
    ...bindings.map(
      (b, x) =>
        `@group(0) @binding(${x + 1}) var<storage, ${b.access}> ${b.name}: array<${b.type === 'elem' ? 'elem' : 'f32'}>;`,
    ),
  ].join('\n');
}
var r = (name, type = 'f32') => ({ name, type, access: 'read' });
var w = (name, type = 'f32') => ({ name, type, access: 'read_write' });
var GATES =
  /* wgsl */
  `
  var m_old = 0.0;
  if (p.has_state != 0u) { m_old = m_in[bh]; }
  let lam = logsigmoid(fg[row]);
  let ipre = ig[row];
  let m_new = max(lam + m_old, ipre);
  let fgate = exp(lam + m_old - m_new);
  let igate = exp(ipre - m_new);`;
var normaliser = (nRead, writeN) =>
  /* wgsl */
  `
  var part = 0.0;
  for (var a = tid; a < p.DHQK; a += WG) {
    let s = bh * p.DHQK + a;
    var n_old = 0.0;
    if (p.has_state != 0u) { n_old = ${nRead}[s]; }
    let nn = fgate * n_old + igate * f32(k[row * p.DHQK + a]);
    if (${writeN}) { n_st[s] = nn; }
    part += nn * f32(q[row * p.DHQK + a]);
  }
  red[tid] = part;
  workgroupBarrier();
  for (var wd = WG / 2u; wd > 0u; wd = wd / 2u) {
    if (tid < wd) { red[tid] += red[tid + wd]; }
    workgroupBarrier();
  }
  let den = max(abs(red[0] * p.kappa), exp(-m_new)) + p.eps;
  workgroupBarrier();`;
var update = (cRead) =>
  /* wgsl */
  `
  let col = wid.x * BV + lid.x;
  var acc = 0.0;
  if (col < p.DHHV) {
    let iv = igate * f32(v[row * p.DHHV + col]);
    for (var a = lid.y; a < p.DHQK; a += KS) {
      let s = (bh * p.DHQK + a) * p.DHHV + col;
      var c_old = 0.0;
      if (p.has_state != 0u) { c_old = ${cRead}[s]; }
      let cn = fgate * c_old + f32(k[row * p.DHQK + a]) * iv;
      c_st[s] = cn;
      acc += cn * f32(q[row * p.DHQK + a]);
    }
  }
  red[lid.y * BV + lid.x] = acc;
  workgroupBarrier();
  if (lid.y == 0u && col < p.DHHV) {
    var num = 0.0;
    for (var j = 0u; j < KS; j++) { num += red[j * BV + lid.x]; }
    h[row * p.DHHV + col] = elem(num * p.kappa / den);
  }`;
var entry = (blockV, splitK, twoD) => `
const BV: u32 = ${blockV}u;
const KS: u32 = ${splitK}u;
const WG: u32 = ${blockV * splitK}u;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(${twoD ? 'BV, KS' : 'WG'})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {`;
var cBindings = (cInPlace) => (cInPlace ? [w('c_st')] : [r('c_in'), w('c_st')]);
function recurrentStepFusedWgsl(dtype, tiles, cInPlace) {
  const bindings = [
    r('q', 'elem'),
    r('k', 'elem'),
    r('v', 'elem'),
    r('ig'),
    r('fg'),
    r('n_in'),
    r('m_in'),
    ...cBindings(cInPlace),
    w('h', 'elem'),
    w('n_st'),
    w('m_out'),
  ];
  return (
    /* wgsl */
    `${declare(dtype, bindings)}
${entry(tiles.blockV, tiles.splitK, true)}
  let bh = wid.y + wid.z * nwg.y;
  if (bh >= p.BH) { return; }
  let row = bh * p.S + p.t;
${GATES}
${normaliser('n_in', 'wid.x == 0u')}
${update(cInPlace ? 'c_st' : 'c_in')}
  if (wid.x == 0u && tid == 0u) { m_out[bh] = m_new; }
}
`
  );
}
function recurrentStepPrepWgsl(dtype, tiles, nInPlace) {
  const bindings = [
    r('q', 'elem'),
    r('k', 'elem'),
    r('ig'),
    r('fg'),
    r('m_in'),
    ...(nInPlace ? [w('n_st')] : [r('n_in'), w('n_st')]),
    w('sc'),
  ];
  return (
    /* wgsl */
    `${declare(dtype, bindings)}
${entry(tiles.blockV, tiles.splitK, false)}
  let bh = wid.x + wid.y * nwg.x;
  if (bh >= p.BH) { return; }
  let row = bh * p.S + p.t;
${GATES}
${normaliser(nInPlace ? 'n_st' : 'n_in', 'true')}
  if (tid == 0u) {
    let o = bh * ${STEP_SCRATCH_PER_HEAD}u;
    sc[o] = fgate;
    sc[o + 1u] = igate;
    sc[o + 2u] = den;
    sc[o + 3u] = m_new;
  }
}
`
  );
}
function recurrentStepUpdateWgsl(dtype, tiles, cInPlace) {
  const bindings = [
    r('q', 'elem'),
    r('k', 'elem'),
    r('v', 'elem'),
    ...cBindings(cInPlace),
    r('sc'),
    w('h', 'elem'),
    w('m_out'),
  ];
  return (
    /* wgsl */
    `${declare(dtype, bindings)}
${entry(tiles.blockV, tiles.splitK, true)}
  let bh = wid.y + wid.z * nwg.y;
  if (bh >= p.BH) { return; }
  let row = bh * p.S + p.t;
  let o = bh * ${STEP_SCRATCH_PER_HEAD}u;
  let fgate = sc[o];
  let igate = sc[o + 1u];
  let den = sc[o + 2u];
${update(cInPlace ? 'c_st' : 'c_in')}
  if (wid.x == 0u && tid == 0u) { m_out[bh] = sc[o + 3u]; }
}
`
  );
}
function recurrentStepKernel(ctx2, state, out) {
  const cInPlace = !state || state.c.buffer === out.c.buffer;
  const need = cInPlace ? RECURRENT_STEP_FUSED_BINDINGS.inPlace : RECURRENT_STEP_FUSED_BINDINGS.separate;
  if (ctx2.limits.maxStorageBuffersPerShaderStage < need) return 'split';
  if (state && (state.n.buffer === out.n.buffer || state.m.buffer === out.m.buffer)) return 'split';
  return 'fused';
}
function encodeRecurrentStep(ctx2, batch, a) {
  const { dims, dtype, state, out } = a;
  const lim = ctx2.limits;
  const tiles =
    a.tiles ??
    recurrentStepTiles(
      dims.BH,
      dims.DHQK,
      dims.DHHV,
      Math.min(lim.maxComputeInvocationsPerWorkgroup, lim.maxComputeWorkgroupSizeX),
      lim.maxComputeWorkgroupSizeY,
    );
  const tileKey = `bv${tiles.blockV}:ks${tiles.splitK}`;
  const cInPlace = !state || state.c.buffer === out.c.buffer;
  const cBufs = cInPlace ? [out.c] : [state.c, out.c];
  const params2 = STEP_PARAMS.pack({
    BH: dims.BH,
    S: dims.S,
    t: a.t,
    DHQK: dims.DHQK,
    DHHV: dims.DHHV,
    has_state: state ? 1 : 0,
    kappa: 1 / Math.sqrt(dims.DHQK),
    eps: a.eps,
  });
  const maxWg = ctx2.limits.maxComputeWorkgroupsPerDimension;
  const [hy, hz] = splitWorkgroups(dims.BH, maxWg);
  const tileGrid = [cdiv(dims.DHHV, tiles.blockV), hy, hz];
  const cVariant = cInPlace ? 'inplace' : 'copy';
  if (recurrentStepKernel(ctx2, state, out) === 'fused') {
    const fused = ctx2.pipeline(`recurrent.step.fused:${dtype}:${tileKey}:${cVariant}`, () =>
      recurrentStepFusedWgsl(dtype, tiles, cInPlace),
    );
    const nIn = state ? state.n : a.scratch;
    const mIn2 = state ? state.m : a.scratch;
    batch.dispatch(
      fused,
      [a.q, a.k, a.v, a.i, a.f, nIn, mIn2, ...cBufs, out.h, out.n, out.m],
      params2,
      tileGrid,
      'recurrent step (fused)',
    );
    return;
  }
  const nInPlace = !state || state.n.buffer === out.n.buffer;
  const prep = ctx2.pipeline(`recurrent.step.prep:${dtype}:${tileKey}:${nInPlace ? 'inplace' : 'copy'}`, () =>
    recurrentStepPrepWgsl(dtype, tiles, nInPlace),
  );
  const update2 = ctx2.pipeline(`recurrent.step.update:${dtype}:${tileKey}:${cVariant}`, () =>
    recurrentStepUpdateWgsl(dtype, tiles, cInPlace),
  );
  const mIn = state ? state.m : out.m;
  const nBufs = nInPlace ? [out.n] : [state.n, out.n];
  const [px, py] = splitWorkgroups(dims.BH, maxWg);
  batch.dispatch(
    prep,
    [a.q, a.k, a.i, a.f, mIn, ...nBufs, a.scratch],
    params2,
    [px, py],
    'recurrent step (prep)',
  );
  batch.dispatch(
    update2,
    [a.q, a.k, a.v, ...cBufs, a.scratch, out.h, out.m],
    params2,
    tileGrid,
    'recurrent step (update)',
  );
}
var fmt3 = (s) => `(${s.join(', ')})`;
async function mlstmRecurrentStepWebgpu(ctx2, args) {
  const context = 'mlstmRecurrentStepWebgpu';
  const { q, k, v, i, f, c, n, m } = args;
  if (!isLive(q) || q.shape.length !== 3 || q.shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new KernelArgumentError(
      'q',
      'a tensor of shape (B, NH, DHQK) with all dims >= 1',
      q instanceof GpuTensor && q.released ? 'a released GpuTensor' : describe(q),
      context,
    );
  }
  const [B, NH, DHQK] = q.shape;
  expectTensor('q', q, [B, NH, DHQK], ['B', 'NH', 'DHQK'], context);
  expectTensor('k', k, [B, NH, DHQK], ['B', 'NH', 'DHQK'], context);
  if (!isLive(v) || v.shape.length !== 3 || !Number.isInteger(v.shape[2]) || v.shape[2] < 1) {
    throw new KernelArgumentError(
      'v',
      `a tensor of shape (B, NH, DHHV) = (${B}, ${NH}, DHHV)`,
      v instanceof GpuTensor && v.released ? 'a released GpuTensor' : describe(v),
      context,
    );
  }
  const DHHV = v.shape[2];
  expectTensor('v', v, [B, NH, DHHV], ['B', 'NH', 'DHHV'], context);
  expectTensor('i', i, [B, NH, 1], ['B', 'NH', '1'], context, ['f32']);
  expectTensor('f', f, [B, NH, 1], ['B', 'NH', '1'], context, ['f32']);
  expectTensor('c', c, [B, NH, DHQK, DHHV], ['B', 'NH', 'DHQK', 'DHHV'], context, ['f32']);
  expectTensor('n', n, [B, NH, DHQK], ['B', 'NH', 'DHQK'], context, ['f32']);
  expectTensor('m', m, [B, NH, 1], ['B', 'NH', '1'], context, ['f32']);
  const eps = validateEps2(args.eps ?? DEFAULT_EPS2, context);
  const dtype = resolveDtype(ctx2, q, args.dtype, context);
  for (const [name, t] of [
    ['k', k],
    ['v', v],
  ]) {
    if (t instanceof GpuTensor && t.dtype !== dtype) {
      throw new KernelArgumentError(name, `dtype '${dtype}' (the dtype of q)`, `'${t.dtype}'`, context);
    }
  }
  const out = args.out ?? {};
  const dims = { BH: B * NH, S: 1, DHQK, DHHV };
  validateOut(out, { q, k, v, i, f, c, n, m }, { B, NH, DHQK, DHHV }, dtype, context);
  const E = BYTES_PER_ELEMENT[dtype];
  checkSizes(
    ctx2,
    {
      q: B * NH * DHQK * E,
      k: B * NH * DHQK * E,
      v: B * NH * DHHV * E,
      c: B * NH * DHQK * DHHV * 4,
      n: B * NH * DHQK * 4,
    },
    context,
  );
  const scope = new CallScope(ctx2, q);
  const created = [];
  const fresh = (shape, dt) => {
    const t = ctx2.empty(shape, dt);
    created.push(t);
    return t;
  };
  try {
    const g = {
      q: scope.gpu(q, dtype),
      k: scope.gpu(k, dtype),
      v: scope.gpu(v, dtype),
      i: scope.gpu(i),
      f: scope.gpu(f),
      c: scope.gpu(c),
      n: scope.gpu(n),
      m: scope.gpu(m),
    };
    const o = {
      h: out.h ?? fresh([B, NH, DHHV], dtype),
      c: out.c ?? fresh([B, NH, DHQK, DHHV], 'f32'),
      n: out.n ?? fresh([B, NH, DHQK], 'f32'),
      m: out.m ?? fresh([B, NH, 1], 'f32'),
    };
    const batch = ctx2.batch();
    const scratch = batch.scratch([dims.BH * STEP_SCRATCH_PER_HEAD]);
    encodeRecurrentStep(ctx2, batch, {
      dims,
      t: 0,
      dtype,
      eps,
      q: g.q,
      k: g.k,
      v: g.v,
      i: g.i,
      f: g.f,
      state: { c: g.c, n: g.n, m: g.m },
      out: o,
      scratch,
    });
    batch.submit();
    return await scope.finish(o);
  } catch (e) {
    scope.abort();
    for (const t of created) t.release();
    throw e;
  }
}
function isLive(t) {
  if (t instanceof GpuTensor) return !t.released;
  return typeof t === 'object' && t !== null && Array.isArray(t.shape) && 'data' in t;
}
function describe(t) {
  if (t === void 0 || t === null) return String(t);
  if (isLive(t)) return `shape ${fmt3(t.shape)}`;
  return 'something that is not a tensor';
}
function validateOut(out, inputs, d, dtype, context) {
  const given = Object.keys(out).filter((key) => out[key] != null);
  if (given.length === 0) return;
  if (!(inputs.q instanceof GpuTensor)) {
    throw new KernelArgumentError(
      `out.${given[0]}`,
      'no out buffers when the inputs are CPU tensors',
      'a tensor',
      context,
    );
  }
  const specs = {
    h: [[d.B, d.NH, d.DHHV], ['B', 'NH', 'DHHV'], dtype],
    c: [[d.B, d.NH, d.DHQK, d.DHHV], ['B', 'NH', 'DHQK', 'DHHV'], 'f32'],
    n: [[d.B, d.NH, d.DHQK], ['B', 'NH', 'DHQK'], 'f32'],
    m: [[d.B, d.NH, 1], ['B', 'NH', '1'], 'f32'],
  };
  const seen = /* @__PURE__ */ new Map();
  for (const key of given) {
    const t = out[key];
    if (!(t instanceof GpuTensor)) {
      throw new KernelArgumentError(`out.${key}`, 'a GpuTensor', describe(t), context);
    }
    const [shape, names, dt] = specs[key];
    expectTensor(`out.${key}`, t, shape, names, context, [dt]);
    const other = seen.get(t.buffer);
    if (other)
      throw new KernelArgumentError(
        `out.${key}`,
        `a buffer distinct from out.${other}`,
        'the same buffer',
        context,
      );
    seen.set(t.buffer, key);
    for (const [name, x] of Object.entries(inputs)) {
      if (x instanceof GpuTensor && x.buffer === t.buffer && name !== key) {
        throw new KernelArgumentError(
          `out.${key}`,
          `a buffer that is not the input ${name} (only a state may be updated in place)`,
          `the buffer of ${name}`,
          context,
        );
      }
    }
  }
}

// packages/kernels-webgpu/src/chunkwise/kernels/intra.ts
var intraParams = defineParams({
  S: 'u32',
  // sequence length (tokens per (b, head))
  L: 'u32',
  // chunk length
  NC: 'u32',
  // chunks
  DY: 'u32',
  // depth of A = P·Qᵀ
  DX: 'u32',
  // output columns
  DI: 'u32',
  // depth of the inter product
  nRowTiles: 'u32',
  nXTiles: 'u32',
  count: 'u32',
  // total workgroups = BNH · NC · nRowTiles · nXTiles
  gateScale: 'f32',
  outScale: 'f32',
  eps: 'f32',
});
var TR = 16;
var TC = 16;
function intraWorkgroupBytes(t) {
  return 4 * (t.bR * t.bY + t.bT * t.bY + t.bR * t.bT + t.bY * t.bX + 4 * t.bR + 3 * t.bT);
}
function intraKey(c) {
  const t = c.tiles;
  return `intra:${c.role}:${c.variant}:${c.normalize ? 'n' : 'nn'}:${c.inter ? 'i' : 'ni'}:${c.dtype}:${t.bR}x${t.bT}x${t.bX}x${t.bY}`;
}
function intraWgsl(c) {
  const { bR, bT, bX, bY } = c.tiles;
  const rR = bR / TR;
  const rT = bT / TC;
  const rX = bX / TC;
  const lower = c.role === 'fw' || c.role === 'dq';
  const exp = c.variant === 'exp';
  const bw = c.role !== 'fw';
  const names = {
    fw: ['q', 'k', 'v'],
    dq: ['dh', 'v', 'k'],
    dk: ['v', 'dh', 'q'],
    dv: ['k', 'q', 'dh'],
  }[c.role];
  const stateName = c.role === 'fw' || c.role === 'dq' ? 'cStates' : 'dcStates';
  const stateTransposed = c.role === 'dq' || c.role === 'dk';
  let binding = 1;
  const decl = [];
  const ro = (name, type) =>
    decl.push(`@group(0) @binding(${binding++}) var<storage, read> ${name}: array<${type}>;`);
  const rw = (name, type) =>
    decl.push(`@group(0) @binding(${binding++}) var<storage, read_write> ${name}: array<${type}>;`);
  ro(names[0], 'elem');
  ro(names[1], 'elem');
  ro(names[2], 'elem');
  ro('gB', 'f32');
  ro('gU', 'f32');
  ro('gP', 'f32');
  ro('mStates', 'f32');
  if (c.inter) ro(stateName, 'f32');
  if (c.role === 'fw' && c.inter) ro('nStates', 'f32');
  if (c.role === 'dk' || c.role === 'dv') ro('gG', 'f32');
  if (bw) ro('nOut', 'f32');
  if (c.role === 'fw') {
    rw('h', 'elem');
    rw('nOutW', 'f32');
    rw('mComb', 'f32');
  } else rw(`${c.role}Out`, 'elem');
  const stateIndex = stateTransposed ? '(x * P.DI + y)' : '(y * P.DX + x)';
  const outName = c.role === 'fw' ? 'h' : `${c.role}Out`;
  const queryIsRow = lower;
  const rowLogExpr = exp ? 'select(-max(mPrev, gP[tok]), -gP[tok], noInterMax)' : 'gB[tok]';
  const invNExpr = bw && (exp || c.normalize) ? '1.0 / (nOut[tok] + P.eps)' : '1.0';
  return (
    /* wgsl */
    `
${wgslHeader(c.dtype)}
${intraParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
${decl.join('\n')}

const bR = ${bR}u; const bT = ${bT}u; const bX = ${bX}u; const bY = ${bY}u;
var<workgroup> sP: array<f32, ${bR * bY}>;   // [y][r]
var<workgroup> sQ: array<f32, ${bT * bY}>;   // [y][t]
var<workgroup> sS: array<f32, ${bR * bT}>;   // gated scores [r][t]
var<workgroup> sB: array<f32, ${bY * bX}>;   // [t or y][x]
// per-row token vectors: u, rowLog, invN, (fw: b)
var<workgroup> rU: array<f32, ${bR}>;
var<workgroup> rLog: array<f32, ${bR}>;
var<workgroup> rInv: array<f32, ${bR}>;
var<workgroup> rDen: array<f32, ${bR}>;
// per-loop-token vectors
var<workgroup> tU: array<f32, ${bT}>;
var<workgroup> tLog: array<f32, ${bT}>;
var<workgroup> tInv: array<f32, ${bT}>;

@compute @workgroup_size(${TR * TC})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let flat = wid.x + wid.y * nwg.x;
  if (flat >= P.count) { return; }
  let xTile = flat % P.nXTiles;
  let rest = flat / P.nXTiles;
  let rTile = rest % P.nRowTiles;
  let rest2 = rest / P.nRowTiles;
  let chunk = rest2 % P.NC;
  let bnh = rest2 / P.NC;
  let tx = lid % ${TC}u;
  let ty = lid / ${TC}u;
  let r0 = rTile * bR;
  let x0 = xTile * bX;
  let seq0 = bnh * P.S + chunk * P.L;          // first token of the chunk
  let noInterMax = ${c.inter ? 'false' : 'true'};
  let mPrev = ${exp && c.inter ? 'mStates[bnh * (P.NC + 1u) + chunk]' : '0.0'};
  let mNext = ${exp && c.inter ? 'mStates[bnh * (P.NC + 1u) + chunk + 1u]' : '0.0'};
  ${c.role === 'dk' || c.role === 'dv' ? 'let gChunk = gG[bnh * P.NC + chunk];' : ''}

  // per-row vectors
  if (lid < bR) {
    let r = r0 + lid;
    if (r < P.L) {
      let tok = seq0 + r;
      rU[lid] = gU[tok];
      rLog[lid] = ${rowLogExpr};
      rInv[lid] = ${invNExpr};
    } else {
      rU[lid] = 0.0; rLog[lid] = 0.0; rInv[lid] = 0.0;
    }
    rDen[lid] = 0.0;
  }

  var acc: array<f32, ${rR * rX}>;
  for (var e = 0u; e < ${rR * rX}u; e++) { acc[e] = 0.0; }
  ${c.role === 'fw' ? 'var den: f32 = 0.0;' : ''}

  let rEnd = min(r0 + bR, P.L);
  ${lower ? `let tBegin = 0u; let tEnd = rEnd;` : `let tBegin = (r0 / bT) * bT; let tEnd = P.L;`}
  for (var t0 = tBegin; t0 < tEnd; t0 += bT) {
    workgroupBarrier();
    if (lid < bT) {
      let t = t0 + lid;
      if (t < P.L) {
        let tok = seq0 + t;
        tU[lid] = gU[tok];
        tLog[lid] = ${rowLogExpr};
        tInv[lid] = ${invNExpr};
      } else {
        tU[lid] = 0.0; tLog[lid] = 0.0; tInv[lid] = 0.0;
      }
    }
    // A = P_rows \xB7 Q_tokens\u1D40 over Y
    var a: array<f32, ${rR * rT}>;
    for (var e = 0u; e < ${rR * rT}u; e++) { a[e] = 0.0; }
    for (var y0 = 0u; y0 < P.DY; y0 += bY) {
      workgroupBarrier();
      for (var e = lid; e < ${bR * bY}u; e += ${TR * TC}u) {
        let rr = e / bY; let yy = e % bY;
        let r = r0 + rr; let y = y0 + yy;
        var val = 0.0;
        if (r < P.L && y < P.DY) { val = f32(${names[0]}[(seq0 + r) * P.DY + y]); }
        sP[yy * bR + rr] = val;
      }
      for (var e = lid; e < ${bT * bY}u; e += ${TR * TC}u) {
        let tt = e / bY; let yy = e % bY;
        let t = t0 + tt; let y = y0 + yy;
        var val = 0.0;
        if (t < P.L && y < P.DY) { val = f32(${names[1]}[(seq0 + t) * P.DY + y]); }
        sQ[yy * bT + tt] = val;
      }
      workgroupBarrier();
      for (var yy = 0u; yy < bY; yy++) {
        var pv: array<f32, ${rR}>;
        for (var i = 0u; i < ${rR}u; i++) { pv[i] = sP[yy * bR + ty + ${TR}u * i]; }
        for (var j = 0u; j < ${rT}u; j++) {
          let qv = sQ[yy * bT + tx + ${TC}u * j];
          for (var i = 0u; i < ${rR}u; i++) { a[i * ${rT}u + j] = fma(pv[i], qv, a[i * ${rT}u + j]); }
        }
      }
    }
    // gate, causal mask \u2192 sS
    for (var i = 0u; i < ${rR}u; i++) {
      let rr = ty + ${TR}u * i;
      let r = r0 + rr;
      for (var j = 0u; j < ${rT}u; j++) {
        let tt = tx + ${TC}u * j;
        let t = t0 + tt;
        var g = 0.0;
        if (r < P.L && t < P.L && ${lower ? 't <= r' : 't >= r'}) {
          ${queryIsRow ? 'g = P.gateScale * exp(tU[tt] + rLog[rr]) * rInv[rr];' : 'g = P.gateScale * exp(rU[rr] + tLog[tt]) * tInv[tt];'}
        }
        sS[rr * bT + tt] = a[i * ${rT}u + j] * g;
      }
    }
    workgroupBarrier();
    ${
      c.role === 'fw'
        ? `if (lid < bR) {
      for (var tt = 0u; tt < bT; tt++) { den += sS[lid * bT + tt]; }
    }`
        : ''
    }
    // Out += S \xB7 B over the tile's tokens, B staged bY tokens at a time
    for (var ts = 0u; ts < bT; ts += bY) {
      workgroupBarrier();
      for (var e = lid; e < ${bY * bX}u; e += ${TR * TC}u) {
        let tt = e / bX; let xx = e % bX;
        let t = t0 + ts + tt; let x = x0 + xx;
        var val = 0.0;
        if (t < P.L && x < P.DX) { val = f32(${names[2]}[(seq0 + t) * P.DX + x]); }
        sB[tt * bX + xx] = val;
      }
      workgroupBarrier();
      for (var tt = 0u; tt < bY; tt++) {
        var sv: array<f32, ${rR}>;
        for (var i = 0u; i < ${rR}u; i++) { sv[i] = sS[(ty + ${TR}u * i) * bT + ts + tt]; }
        for (var j = 0u; j < ${rX}u; j++) {
          let bv = sB[tt * bX + tx + ${TC}u * j];
          for (var i = 0u; i < ${rR}u; i++) { acc[i * ${rX}u + j] = fma(sv[i], bv, acc[i * ${rX}u + j]); }
        }
      }
    }
  }
${c.inter ? interBlock(c, rR, rX, stateName, stateIndex, names) : ''}
${epilogue(c, rR, rX, outName)}
}
`
  );
}
function interBlock(c, rR, rX, stateName, stateIndex, names) {
  const { bR, bX, bY } = c.tiles;
  const iName = names[0];
  const scale =
    c.role === 'fw'
      ? `P.gateScale * exp(mPrev + rLog[rr])`
      : c.role === 'dq'
        ? `exp(mPrev + rLog[rr]) * rInv[rr]`
        : `exp(gChunk + rU[rr] - mNext)`;
  return `
  // inter-chunk term: rowScale_r \xB7 \u03A3_y I[r, y] \xB7 State[y, x]
  {
    let sBase = (bnh * (P.NC + 1u) + chunk + ${c.role === 'dk' || c.role === 'dv' ? '1u' : '0u'}) * P.DI * P.DX;
    var inter: array<f32, ${rR * rX}>;
    for (var e = 0u; e < ${rR * rX}u; e++) { inter[e] = 0.0; }
    for (var y0 = 0u; y0 < P.DI; y0 += bY) {
      workgroupBarrier();
      for (var e = lid; e < ${bR * bY}u; e += ${TR * TC}u) {
        let rr = e / bY; let yy = e % bY;
        let r = r0 + rr; let y = y0 + yy;
        var val = 0.0;
        if (r < P.L && y < P.DI) { val = f32(${iName}[(seq0 + r) * P.DI + y]); }
        sP[yy * bR + rr] = val;
      }
      for (var e = lid; e < ${bY * bX}u; e += ${TR * TC}u) {
        let yy = e / bX; let xx = e % bX;
        let y = y0 + yy; let x = x0 + xx;
        var val = 0.0;
        if (y < P.DI && x < P.DX) { val = ${stateName}[sBase + ${stateIndex}]; }
        sB[yy * bX + xx] = val;
      }
      workgroupBarrier();
      for (var yy = 0u; yy < bY; yy++) {
        var pv: array<f32, ${rR}>;
        for (var i = 0u; i < ${rR}u; i++) { pv[i] = sP[yy * bR + ty + ${TR}u * i]; }
        for (var j = 0u; j < ${rX}u; j++) {
          let sv = sB[yy * bX + tx + ${TC}u * j];
          for (var i = 0u; i < ${rR}u; i++) { inter[i * ${rX}u + j] = fma(pv[i], sv, inter[i * ${rX}u + j]); }
        }
      }
    }
    for (var i = 0u; i < ${rR}u; i++) {
      let rr = ty + ${TR}u * i;
      let s = ${scale};
      for (var j = 0u; j < ${rX}u; j++) { acc[i * ${rX}u + j] = fma(s, inter[i * ${rX}u + j], acc[i * ${rX}u + j]); }
    }
    ${
      c.role === 'fw'
        ? `// denominator: q\u0304_r \xB7 n_{k-1}
    if (lid < bR) {
      let r = r0 + lid;
      if (r < P.L) {
        let nBase = (bnh * (P.NC + 1u) + chunk) * P.DI;
        var qn = 0.0;
        for (var y = 0u; y < P.DI; y++) { qn = fma(f32(${iName}[(seq0 + r) * P.DI + y]), nStates[nBase + y], qn); }
        den += P.gateScale * exp(mPrev + rLog[lid]) * qn;
      }
    }`
        : ''
    }
  }`;
}
function epilogue(c, rR, rX, outName) {
  const { bR, bX } = c.tiles;
  const exp = c.variant === 'exp';
  if (c.role !== 'fw') {
    return `
  for (var i = 0u; i < ${rR}u; i++) {
    let r = r0 + ty + ${TR}u * i;
    if (r >= P.L) { continue; }
    for (var j = 0u; j < ${rX}u; j++) {
      let x = x0 + tx + ${TC}u * j;
      if (x < P.DX) { ${outName}[(seq0 + r) * P.DX + x] = elem(P.outScale * acc[i * ${rX}u + j]); }
    }
  }`;
  }
  const normalised = exp || c.normalize;
  return `
  workgroupBarrier();
  if (lid < bR) {
    let r = r0 + lid;
    ${exp ? 'let mC = gB[seq0 + min(r, P.L - 1u)] - rLog[lid];' : 'let mC = 0.0;'}
    let nO = ${normalised ? `max(abs(den), ${exp ? 'exp(-mC)' : '1.0'})` : '1.0'};
    rDen[lid] = nO;
    if (r < P.L && xTile == 0u) {
      nOutW[seq0 + r] = nO;
      mComb[seq0 + r] = mC;
    }
  }
  workgroupBarrier();
  for (var i = 0u; i < ${rR}u; i++) {
    let rr = ty + ${TR}u * i;
    let r = r0 + rr;
    if (r >= P.L) { continue; }
    let inv = ${normalised ? '1.0 / (rDen[rr] + P.eps)' : '1.0'};
    for (var j = 0u; j < ${rX}u; j++) {
      let x = x0 + tx + ${TC}u * j;
      if (x < P.DX) { h[(seq0 + r) * P.DX + x] = elem(acc[i * ${rX}u + j] * inv); }
    }
  }`;
}

// packages/kernels-webgpu/src/chunkwise/kernels/state_scan.ts
var scanParams = defineParams({
  S: 'u32',
  L: 'u32',
  NC: 'u32',
  DY: 'u32',
  // DHQK
  DX: 'u32',
  // DHHV
  nYTiles: 'u32',
  nXTiles: 'u32',
  hasInit: 'u32',
  scale: 'f32',
  // κ (bw)
  eps: 'f32',
});
var BTOK = 16;
function scanKey(c) {
  return `scan:${c.direction}:${c.variant}:${c.normalize ? 'n' : 'nn'}:${c.dtype}:${c.bS}`;
}
function scanWorkgroupBytes(bS) {
  return 4 * 2 * BTOK * bS;
}
function scanWgsl(c) {
  const { bS } = c;
  const r2 = bS / 16;
  const fw = c.direction === 'fw';
  const exp = c.variant === 'exp';
  const decl = fw
    ? `@group(0) @binding(1) var<storage, read> A: array<elem>;      // k
@group(0) @binding(2) var<storage, read> Bm: array<elem>;     // v
@group(0) @binding(3) var<storage, read> gU: array<f32>;
@group(0) @binding(4) var<storage, read> gG: array<f32>;
@group(0) @binding(5) var<storage, read> mStates: array<f32>;
@group(0) @binding(6) var<storage, read> sInit: array<f32>;
@group(0) @binding(7) var<storage, read> nInit: array<f32>;
@group(0) @binding(8) var<storage, read_write> states: array<f32>;
@group(0) @binding(9) var<storage, read_write> nStates: array<f32>;`
    : `@group(0) @binding(1) var<storage, read> A: array<elem>;      // q
@group(0) @binding(2) var<storage, read> Bm: array<elem>;     // dh
@group(0) @binding(3) var<storage, read> gB: array<f32>;
@group(0) @binding(4) var<storage, read> gU: array<f32>;
@group(0) @binding(5) var<storage, read> gP: array<f32>;
@group(0) @binding(6) var<storage, read> gG: array<f32>;
@group(0) @binding(7) var<storage, read> mStates: array<f32>;
@group(0) @binding(8) var<storage, read> nOut: array<f32>;
@group(0) @binding(9) var<storage, read> sInit: array<f32>;
@group(0) @binding(10) var<storage, read_write> states: array<f32>;`;
  const weight = fw
    ? 'exp(g + gU[tok] - mNext)'
    : `P.scale * exp(mPrev + ${exp ? '-max(mPrev, gP[tok])' : 'gB[tok]'}) * ${exp || c.normalize ? '(1.0 / (nOut[tok] + P.eps))' : '1.0'}`;
  return `${wgslHeader(c.dtype)}
${scanParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
${decl}
const bS = ${bS}u;
var<workgroup> sA: array<f32, ${BTOK * bS}>;  // [t][y] weighted A rows
var<workgroup> sB: array<f32, ${BTOK * bS}>;  // [t][x]

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let xTile = wid.x % P.nXTiles;
  let yTile = (wid.x / P.nXTiles) % P.nYTiles;
  let bnh = wid.x / (P.nXTiles * P.nYTiles);
  let tx = lid % 16u;
  let ty = lid / 16u;
  let y0 = yTile * bS;
  let x0 = xTile * bS;
  let DYX = P.DY * P.DX;
  let mBase = bnh * (P.NC + 1u);
  var st: array<f32, ${r2 * r2}>;
  for (var i = 0u; i < ${r2}u; i++) {
    for (var j = 0u; j < ${r2}u; j++) {
      let y = y0 + ty + 16u * i; let x = x0 + tx + 16u * j;
      var val = 0.0;
      if (P.hasInit != 0u && y < P.DY && x < P.DX) { val = sInit[bnh * DYX + y * P.DX + x]; }
      st[i * ${r2}u + j] = val;
    }
  }
  ${
    fw
      ? `let ownsN = xTile == 0u && lid < bS && y0 + lid < P.DY;
  var nv = 0.0;
  if (ownsN && P.hasInit != 0u) { nv = nInit[bnh * P.DY + y0 + lid]; }`
      : ''
  }
  for (var step = 0u; step <= P.NC; step++) {
    // boundary index of the state held now: fw walks 0..NC, bw walks NC..0
    let kb = ${fw ? 'step' : 'P.NC - step'};
    let sBase = (mBase + kb) * DYX;
    for (var i = 0u; i < ${r2}u; i++) {
      for (var j = 0u; j < ${r2}u; j++) {
        let y = y0 + ty + 16u * i; let x = x0 + tx + 16u * j;
        if (y < P.DY && x < P.DX) { states[sBase + y * P.DX + x] = st[i * ${r2}u + j]; }
      }
    }
    ${fw ? 'if (ownsN) { nStates[(mBase + kb) * P.DY + y0 + lid] = nv; }' : ''}
    if (step == P.NC) { break; }
    // the chunk between boundaries kPrev and kPrev + 1
    let chunk = ${fw ? 'kb' : 'kb - 1u'};
    let mPrev = ${exp ? 'mStates[mBase + chunk]' : '0.0'};
    let mNext = ${exp ? 'mStates[mBase + chunk + 1u]' : '0.0'};
    let g = gG[bnh * P.NC + chunk];
    let gamma = exp(g + mPrev - mNext);
    for (var e = 0u; e < ${r2 * r2}u; e++) { st[e] *= gamma; }
    ${fw ? 'nv *= gamma;' : ''}
    for (var t0 = 0u; t0 < P.L; t0 += ${BTOK}u) {
      workgroupBarrier();
      for (var e = lid; e < ${BTOK * bS}u; e += 256u) {
        let tt = e / bS; let yy = e % bS;
        let t = t0 + tt;
        let tok = bnh * P.S + chunk * P.L + t;
        var a = 0.0;
        var bv = 0.0;
        if (t < P.L) {
          if (y0 + yy < P.DY) { a = f32(A[tok * P.DY + y0 + yy]) * ${weight}; }
          if (x0 + yy < P.DX) { bv = f32(Bm[tok * P.DX + x0 + yy]); }
        }
        sA[tt * bS + yy] = a;
        sB[tt * bS + yy] = bv;
      }
      workgroupBarrier();
      for (var tt = 0u; tt < ${BTOK}u; tt++) {
        var av: array<f32, ${r2}>;
        for (var i = 0u; i < ${r2}u; i++) { av[i] = sA[tt * bS + ty + 16u * i]; }
        for (var j = 0u; j < ${r2}u; j++) {
          let bv = sB[tt * bS + tx + 16u * j];
          for (var i = 0u; i < ${r2}u; i++) { st[i * ${r2}u + j] = fma(av[i], bv, st[i * ${r2}u + j]); }
        }
      }
      ${fw ? 'if (ownsN) { for (var tt = 0u; tt < ' + BTOK + 'u; tt++) { nv += sA[tt * bS + lid]; } }' : ''}
    }
  }
}`;
}

// packages/kernels-webgpu/src/heuristics.ts
var XL_CHUNK_DEFAULT_CHUNK_SIZE = 128;
var LIMIT_CHUNK_DEFAULT_CHUNK_SIZE = 64;
var LIMIT_CHUNK_MAX_CHUNK_SIZE = 64;
function isSoftwareAdapter(info) {
  const text = `${info.architecture ?? ''} ${info.description ?? ''}`.toLowerCase();
  return !!info.isFallbackAdapter || /software|llvmpipe|lavapipe|swiftshader/.test(text);
}
var clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));
function chooseIntraTiles(L2, DX, limits, wholeChunk = false, software = false) {
  if (software) return { bR: 16, bT: 16, bX: 16, bY: 16 };
  const seq = clamp(nextPow2(L2), 16, wholeChunk ? 64 : 32);
  const tiles = { bR: seq, bT: seq, bX: clamp(nextPow2(DX), 16, 128), bY: 16 };
  if (wholeChunk && L2 > 64) throw new RangeError(`whole-chunk tiles need L <= 64, got ${L2}`);
  while (intraWorkgroupBytes(tiles) > limits.maxComputeWorkgroupStorageSize) {
    if (tiles.bX > 64) tiles.bX /= 2;
    else if (tiles.bX > 32) tiles.bX /= 2;
    else if (!wholeChunk && tiles.bT > 16) {
      tiles.bT /= 2;
      tiles.bR /= 2;
    } else if (tiles.bX > 16) tiles.bX /= 2;
    else break;
  }
  return tiles;
}
function chooseScanTile(DHQK, DHHV, limits, software = false) {
  if (software) return 16;
  let bS = clamp(nextPow2(Math.max(DHQK, DHHV)), 16, 64);
  while (bS > 16 && scanWorkgroupBytes(bS) > limits.maxComputeWorkgroupStorageSize) bS /= 2;
  return bS;
}

// packages/kernels-webgpu/src/util/copy.ts
var params = defineParams({
  blocks: 'u32',
  block: 'u32',
  srcStride: 'u32',
  srcOffset: 'u32',
  total: 'u32',
});
var WG = 256;
function encodeCopyBlocks(ctx2, batch, src, dst, blocks, block, srcStride, srcOffset) {
  const pipeline = ctx2.pipeline(
    'util:copyBlocks',
    () => `${params.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * ${WG}u + lid;
  if (idx >= P.total) { return; }
  let b = idx / P.block;
  let e = idx % P.block;
  dst[idx] = src[b * P.srcStride + P.srcOffset + e];
}`,
    ['uniform', 'read', 'rw'],
  );
  const total = blocks * block;
  batch.dispatch(
    pipeline,
    [src, dst],
    params.pack({ blocks, block, srcStride, srcOffset, total }),
    splitWorkgroups(Math.ceil(total / WG), ctx2.limits.maxComputeWorkgroupsPerDimension),
    'copyBlocks',
  );
}

// packages/kernels-webgpu/src/chunkwise/kernels/gates.ts
var GATE_WG = 64;
var gateParams = defineParams({
  S: 'u32',
  L: 'u32',
  NC: 'u32',
  D: 'u32',
  // DHQK (gate grads) / DHQK·DHHV (stateDot)
  count: 'u32',
  hasInit: 'u32',
  useCorr: 'u32',
});
var flatIndex = `let idx = (wid.x + wid.y * nwg.x) * ${GATE_WG}u + lid;`;
var entry2 = `@compute @workgroup_size(${GATE_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32)`;
function gateVectorsWgsl(variant) {
  return `${wgslHeader('f32')}
${gateParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> gi: array<f32>;
@group(0) @binding(2) var<storage, read> gf: array<f32>;
@group(0) @binding(3) var<storage, read_write> gB: array<f32>;
@group(0) @binding(4) var<storage, read_write> gU: array<f32>;
@group(0) @binding(5) var<storage, read_write> gP: array<f32>;
@group(0) @binding(6) var<storage, read_write> gG: array<f32>;
@group(0) @binding(7) var<storage, read_write> gPL: array<f32>;
${entry2} {
  ${flatIndex}
  if (idx >= P.count) { return; }
  let bnh = idx / P.NC;
  let chunk = idx % P.NC;
  var b = 0.0;
  var pm = ${NEG_LARGE};
  for (var r = 0u; r < P.L; r++) {
    let tok = bnh * P.S + chunk * P.L + r;
    b += logsigmoid(gf[tok]);
    let u = ${variant === 'exp' ? 'gi[tok]' : 'logsigmoid(gi[tok])'} - b;
    pm = max(pm, u);
    gB[tok] = b;
    gU[tok] = u;
    gP[tok] = pm;
  }
  gG[idx] = b;
  gPL[idx] = pm;
}`;
}
function maxStatesWgsl() {
  return `${wgslHeader('f32')}
${gateParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> gG: array<f32>;
@group(0) @binding(2) var<storage, read> gPL: array<f32>;
@group(0) @binding(3) var<storage, read> mInit: array<f32>;
@group(0) @binding(4) var<storage, read_write> mStates: array<f32>;
${entry2} {
  ${flatIndex}
  if (idx >= P.count) { return; }
  var m = select(0.0, mInit[idx], P.hasInit != 0u);
  let base = idx * (P.NC + 1u);
  mStates[base] = m;
  for (var k = 0u; k < P.NC; k++) {
    m = gG[idx * P.NC + k] + max(m, gPL[idx * P.NC + k]);
    mStates[base + k + 1u] = m;
  }
}`;
}
function gateGradsLocalWgsl(variant, dtype) {
  return `${wgslHeader(dtype)}
${gateParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> q: array<elem>;
@group(0) @binding(2) var<storage, read> k: array<elem>;
@group(0) @binding(3) var<storage, read> dq: array<elem>;
@group(0) @binding(4) var<storage, read> dk: array<elem>;
@group(0) @binding(5) var<storage, read> gi: array<f32>;
@group(0) @binding(6) var<storage, read_write> di: array<f32>;
@group(0) @binding(7) var<storage, read_write> dfTmp: array<f32>;
@group(0) @binding(8) var<storage, read_write> totals: array<f32>;
${entry2} {
  ${flatIndex}
  if (idx >= P.count) { return; }
  let bnh = idx / P.NC;
  let chunk = idx % P.NC;
  var s = 0.0;
  for (var rr = 0u; rr < P.L; rr++) {
    let tok = bnh * P.S + chunk * P.L + (P.L - 1u - rr);
    var qdq = 0.0;
    var kdk = 0.0;
    for (var d = 0u; d < P.D; d++) {
      let e = tok * P.D + d;
      qdq = fma(f32(q[e]), f32(dq[e]), qdq);
      kdk = fma(f32(k[e]), f32(dk[e]), kdk);
    }
    s += qdq - kdk;
    dfTmp[tok] = s;
    di[tok] = ${variant === 'exp' ? 'kdk' : 'kdk * sigmoid(-gi[tok])'};
  }
  totals[idx] = s;
}`;
}
function gateGradsFinishWgsl() {
  return `${wgslHeader('f32')}
${gateParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> gf: array<f32>;
@group(0) @binding(2) var<storage, read> totals: array<f32>;
@group(0) @binding(3) var<storage, read> dfTmp: array<f32>;
@group(0) @binding(4) var<storage, read> corr: array<f32>;
@group(0) @binding(5) var<storage, read_write> df: array<f32>;
${entry2} {
  ${flatIndex}
  if (idx >= P.count) { return; }
  let bnh = idx / P.NC;
  let chunk = idx % P.NC;
  var offset = select(0.0, corr[bnh], P.useCorr != 0u);
  for (var c = chunk + 1u; c < P.NC; c++) { offset += totals[bnh * P.NC + c]; }
  for (var r = 0u; r < P.L; r++) {
    let tok = bnh * P.S + chunk * P.L + r;
    df[tok] = (dfTmp[tok] + offset) * sigmoid(-gf[tok]);
  }
}`;
}
function stateDotWgsl() {
  return `${wgslHeader('f32')}
${gateParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> dcLast: array<f32>;
@group(0) @binding(2) var<storage, read> cStates: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
var<workgroup> part: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let bnh = wid.x;
  let cBase = (bnh * (P.NC + 1u) + P.NC) * P.D;
  var s = 0.0;
  for (var e = lid; e < P.D; e += 256u) { s = fma(dcLast[bnh * P.D + e], cStates[cBase + e], s); }
  part[lid] = s;
  for (var w = 128u; w > 0u; w = w >> 1u) {
    workgroupBarrier();
    if (lid < w) { part[lid] += part[lid + w]; }
  }
  if (lid == 0u) { out[bnh] = part[0]; }
}`;
}

// packages/kernels-webgpu/src/chunkwise/kernels/intra_sgmat.ts
var SGMAT_TILES = { bR: 64, bT: 64, bX: 64, bY: 32 };
var SGMAT_THREADS = 128;
function sgmatWorkgroupBytes() {
  return 2 * (64 * 32 * 2) + 4 * 64 * 64 + 2 * 64 * 64 + 2 * 64 * 64 + 4 * 64 * 5;
}
function sgmatSupported(f, maxWorkgroupBytes) {
  return (
    f.subgroupMatrix &&
    f.shaderF16 &&
    f.subgroupMaxSize > 0 &&
    SGMAT_THREADS % f.subgroupMaxSize === 0 &&
    SGMAT_THREADS / f.subgroupMaxSize === 4 &&
    sgmatWorkgroupBytes() <= maxWorkgroupBytes &&
    f.subgroupMatrixConfigs.some(
      (c) =>
        c.componentType === 'f16' &&
        c.resultComponentType === 'f32' &&
        c.M === 16 &&
        c.N === 16 &&
        c.K === 16,
    )
  );
}
function sgmatKey(c) {
  return `intra-sgmat:fw:${c.variant}:${c.normalize ? 'n' : 'nn'}:${c.inter ? 'i' : 'ni'}`;
}
var L = 'subgroup_matrix_left<f16, 16, 16>';
var R = 'subgroup_matrix_right<f16, 16, 16>';
var ACC = 'subgroup_matrix_result<f32, 16, 16>';
var J = [0, 1, 2, 3];
function sgmatWgsl(c) {
  const exp = c.variant === 'exp';
  const normalised = exp || c.normalize;
  const dtype = 'f16';
  let b = 1;
  const decl = [];
  const ro = (n, t) => decl.push(`@group(0) @binding(${b++}) var<storage, read> ${n}: array<${t}>;`);
  const rw = (n, t) => decl.push(`@group(0) @binding(${b++}) var<storage, read_write> ${n}: array<${t}>;`);
  ro('q', 'elem');
  ro('k', 'elem');
  ro('v', 'elem');
  ro('gB', 'f32');
  ro('gU', 'f32');
  ro('gP', 'f32');
  ro('mStates', 'f32');
  if (c.inter) {
    ro('cStates', 'f32');
    ro('nStates', 'f32');
  }
  rw('h', 'elem');
  rw('nOutW', 'f32');
  rw('mComb', 'f32');
  const rowLog = exp ? `select(-max(mPrev, gP[tok]), -gP[tok], ${c.inter ? 'false' : 'true'})` : 'gB[tok]';
  return (
    /* wgsl */
    `enable subgroups;
enable chromium_experimental_subgroup_matrix;
diagnostic(off, chromium_experimental.subgroup_matrix_uniformity);
${wgslHeader(dtype)}
${intraParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
${decl.join('\n')}

var<workgroup> sQ: array<f16, ${64 * 32}>;  // [r][kk], stride 32
var<workgroup> sK: array<f16, ${64 * 32}>;  // [t][kk], stride 32
var<workgroup> sS: array<f32, ${64 * 64}>;  // scores [r][t]; epilogue [r][x]
var<workgroup> sP: array<f16, ${64 * 64}>;  // gated scores [r][t]
var<workgroup> sV: array<f16, ${64 * 64}>;  // V [t][x] or a state slice [kk][x], stride 64
var<workgroup> rLog: array<f32, 64>;
var<workgroup> rScale: array<f32, 64>;
var<workgroup> rDen: array<f32, 64>;
var<workgroup> tU: array<f32, 64>;

@compute @workgroup_size(${SGMAT_THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32, @builtin(subgroup_id) sg: u32) {
  let flat = wid.x + wid.y * nwg.x;
  if (flat >= P.count) { return; }
  let xTile = flat % P.nXTiles;
  let rest = flat / P.nXTiles;
  let rTile = rest % P.nRowTiles;
  let rest2 = rest / P.nRowTiles;
  let chunk = rest2 % P.NC;
  let bnh = rest2 / P.NC;
  let r0 = rTile * 64u;
  let x0 = xTile * 64u;
  let seq0 = bnh * P.S + chunk * P.L;
  let mPrev = ${exp && c.inter ? 'mStates[bnh * (P.NC + 1u) + chunk]' : '0.0'};
  let row0 = sg * 16u;

  if (lid < 64u) {
    let r = r0 + lid;
    if (r < P.L) {
      let tok = seq0 + r;
      let rl = ${rowLog};
      rLog[lid] = rl;
      rScale[lid] = P.gateScale * exp(mPrev + rl);
    } else {
      rLog[lid] = 0.0;
      rScale[lid] = 0.0;
    }
  }
  var den = 0.0;
${J.map((j) => `  var acc${j} = ${ACC}();`).join('\n')}
  let rEnd = min(r0 + 64u, P.L);
  for (var t0 = 0u; t0 < rEnd; t0 += 64u) {
    workgroupBarrier();
    if (lid < 64u) {
      let t = t0 + lid;
      tU[lid] = select(0.0, gU[seq0 + min(t, P.L - 1u)], t < P.L);
    }
${J.map((j) => `    var s${j} = ${ACC}();`).join('\n')}
    for (var k0 = 0u; k0 < P.DY; k0 += 32u) {
      workgroupBarrier();
      for (var e = lid; e < ${64 * 32}u; e += ${SGMAT_THREADS}u) {
        let rr = e / 32u; let kk = e % 32u;
        let r = r0 + rr; let t = t0 + rr; let y = k0 + kk;
        sQ[e] = select(f16(0.0), q[(seq0 + min(r, P.L - 1u)) * P.DY + min(y, P.DY - 1u)], r < P.L && y < P.DY);
        sK[e] = select(f16(0.0), k[(seq0 + min(t, P.L - 1u)) * P.DY + min(y, P.DY - 1u)], t < P.L && y < P.DY);
      }
      workgroupBarrier();
      for (var kk = 0u; kk < 32u; kk += 16u) {
        let a = subgroupMatrixLoad<${L}>(&sQ, row0 * 32u + kk, false, 32u);
${J.map((j) => `        s${j} = subgroupMatrixMultiplyAccumulate(a, subgroupMatrixLoad<${R}>(&sK, ${j * 16}u * 32u + kk, true, 32u), s${j});`).join('\n')}
      }
    }
${J.map((j) => `    subgroupMatrixStore(&sS, row0 * 64u + ${j * 16}u, s${j}, false, 64u);`).join('\n')}
    workgroupBarrier();
    // gate D' (causal), f32 \u2192 row sums (denominator) and f16 copy for the matrix units
    for (var e = lid; e < ${64 * 64}u; e += ${SGMAT_THREADS}u) {
      let rr = e / 64u; let tt = e % 64u;
      let r = r0 + rr; let t = t0 + tt;
      var val = 0.0;
      if (r < P.L && t < P.L && t <= r) { val = sS[e] * P.gateScale * exp(tU[tt] + rLog[rr]); }
      sS[e] = val;
      sP[e] = f16(val);
    }
    for (var e = lid; e < ${64 * 64}u; e += ${SGMAT_THREADS}u) {
      let tt = e / 64u; let xx = e % 64u;
      let t = t0 + tt; let x = x0 + xx;
      sV[e] = select(f16(0.0), v[(seq0 + min(t, P.L - 1u)) * P.DX + min(x, P.DX - 1u)], t < P.L && x < P.DX);
    }
    workgroupBarrier();
    if (lid < 64u) {
      for (var tt = 0u; tt < 64u; tt++) { den += sS[lid * 64u + tt]; }
    }
    for (var tt = 0u; tt < 64u; tt += 16u) {
      let a = subgroupMatrixLoad<${L}>(&sP, row0 * 64u + tt, false, 64u);
${J.map((j) => `      acc${j} = subgroupMatrixMultiplyAccumulate(a, subgroupMatrixLoad<${R}>(&sV, tt * 64u + ${j * 16}u, false, 64u), acc${j});`).join('\n')}
    }
  }
${
  c.inter
    ? `  // state term: q\u0304 \xB7 C_{k-1} (q\u0304 = scale_r \xB7 q_r, C staged as f16), same accumulators
  let sBase = (bnh * (P.NC + 1u) + chunk) * P.DI * P.DX;
  for (var k0 = 0u; k0 < P.DI; k0 += 32u) {
    workgroupBarrier();
    for (var e = lid; e < ${64 * 32}u; e += ${SGMAT_THREADS}u) {
      let rr = e / 32u; let kk = e % 32u;
      let r = r0 + rr; let y = k0 + kk;
      var val = 0.0;
      if (r < P.L && y < P.DI) { val = rScale[rr] * f32(q[(seq0 + r) * P.DI + y]); }
      sQ[e] = f16(val);
    }
    for (var e = lid; e < ${32 * 64}u; e += ${SGMAT_THREADS}u) {
      let kk = e / 64u; let xx = e % 64u;
      let y = k0 + kk; let x = x0 + xx;
      var val = 0.0;
      if (y < P.DI && x < P.DX) { val = cStates[sBase + y * P.DX + x]; }
      sV[e] = f16(val);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 32u; kk += 16u) {
      let a = subgroupMatrixLoad<${L}>(&sQ, row0 * 32u + kk, false, 32u);
${J.map((j) => `      acc${j} = subgroupMatrixMultiplyAccumulate(a, subgroupMatrixLoad<${R}>(&sV, kk * 64u + ${j * 16}u, false, 64u), acc${j});`).join('\n')}
    }
  }
  if (lid < 64u) {
    let r = r0 + lid;
    if (r < P.L) {
      let nBase = (bnh * (P.NC + 1u) + chunk) * P.DI;
      var qn = 0.0;
      for (var y = 0u; y < P.DI; y++) { qn = fma(f32(q[(seq0 + r) * P.DI + y]), nStates[nBase + y], qn); }
      den += rScale[lid] * qn;
    }
  }`
    : ''
}
  workgroupBarrier();
${J.map((j) => `  subgroupMatrixStore(&sS, row0 * 64u + ${j * 16}u, acc${j}, false, 64u);`).join('\n')}
  if (lid < 64u) {
    let r = r0 + lid;
    ${exp ? 'let mC = gB[seq0 + min(r, P.L - 1u)] - rLog[lid];' : 'let mC = 0.0;'}
    let nO = ${normalised ? `max(abs(den), ${exp ? 'exp(-mC)' : '1.0'})` : '1.0'};
    rDen[lid] = nO;
    if (r < P.L && xTile == 0u) {
      nOutW[seq0 + r] = nO;
      mComb[seq0 + r] = mC;
    }
  }
  workgroupBarrier();
  for (var e = lid; e < ${64 * 64}u; e += ${SGMAT_THREADS}u) {
    let rr = e / 64u; let xx = e % 64u;
    let r = r0 + rr; let x = x0 + xx;
    if (r < P.L && x < P.DX) {
      h[(seq0 + r) * P.DX + x] = elem(sS[e] * ${normalised ? '(1.0 / (rDen[rr] + P.eps))' : '1.0'});
    }
  }
}
`
  );
}

// packages/kernels-webgpu/src/chunkwise/tfla.ts
function releaseGroupSaved(s) {
  for (const t of [...Object.values(s.gates), s.cStates, s.nStates, s.nOut, s.mComb]) t?.release();
}
function releaseSaved(s) {
  for (const g of s.groups) releaseGroupSaved(g.data);
}
var READ = 'read';
var RW = 'rw';
function kappa(d) {
  return 1 / Math.sqrt(d.DHQK);
}
function encodeGates(ctx2, batch, d, i, f, mInitial, o) {
  const BNH = d.B * d.NH;
  const L2 = o.chunkSize;
  const NC = d.S / L2;
  const gB = ctx2.empty([d.B, d.NH, d.S]);
  const gU = ctx2.empty([d.B, d.NH, d.S]);
  const gP = ctx2.empty([d.B, d.NH, d.S]);
  const gG = ctx2.empty([d.B, d.NH, NC]);
  const gPL = ctx2.empty([d.B, d.NH, NC]);
  const mStates = o.variant === 'exp' ? ctx2.empty([d.B, d.NH, NC + 1]) : ctx2.zeros([d.B, d.NH, NC + 1]);
  const maxWg = ctx2.limits.maxComputeWorkgroupsPerDimension;
  const count = BNH * NC;
  batch.dispatch(
    ctx2.pipeline(`gates:vectors:${o.variant}`, () => gateVectorsWgsl(o.variant), [
      'uniform',
      READ,
      READ,
      RW,
      RW,
      RW,
      RW,
      RW,
    ]),
    [i, f, gB, gU, gP, gG, gPL],
    gateParams.pack({ S: d.S, L: L2, NC, D: 0, count, hasInit: 0, useCorr: 0 }),
    splitWorkgroups(cdiv(count, GATE_WG), maxWg),
    'gate vectors',
  );
  if (o.variant === 'exp') {
    batch.dispatch(
      ctx2.pipeline('gates:maxStates', maxStatesWgsl, ['uniform', READ, READ, READ, RW]),
      [gG, gPL, mInitial ?? batch.scratch([1]), mStates],
      gateParams.pack({ S: d.S, L: L2, NC, D: 0, count: BNH, hasInit: mInitial ? 1 : 0, useCorr: 0 }),
      splitWorkgroups(cdiv(BNH, GATE_WG), maxWg),
      'max states',
    );
  }
  return { gB, gU, gP, gG, gPL, mStates };
}
function roleDims(role, d) {
  switch (role) {
    case 'fw':
      return { DY: d.DHQK, DX: d.DHHV, DI: d.DHQK };
    case 'dq':
      return { DY: d.DHHV, DX: d.DHQK, DI: d.DHHV };
    case 'dk':
      return { DY: d.DHHV, DX: d.DHQK, DI: d.DHHV };
    case 'dv':
      return { DY: d.DHQK, DX: d.DHHV, DI: d.DHQK };
  }
}
function encodeIntra(ctx2, batch, role, d, inputs, outputs, o) {
  const L2 = o.chunkSize;
  const NC = d.S / L2;
  const rd = roleDims(role, d);
  const layout = ['uniform', ...inputs.map(() => READ), ...outputs.map(() => RW)];
  const useSgmat =
    role === 'fw' &&
    o.dtype === 'f16' &&
    o.subgroupMatrix !== false &&
    !o.tiles?.intra &&
    sgmatSupported(ctx2.features, ctx2.limits.maxComputeWorkgroupStorageSize);
  const tiles = useSgmat
    ? SGMAT_TILES
    : (o.tiles?.intra ??
      chooseIntraTiles(L2, rd.DX, ctx2.limits, o.wholeChunkTiles, isSoftwareAdapter(ctx2.adapterInfo)));
  const cfg = { role, variant: o.variant, normalize: o.normalize, inter: o.inter, dtype: o.dtype, tiles };
  const pipeline = useSgmat
    ? ctx2.pipeline(sgmatKey(cfg), () => sgmatWgsl(cfg), layout)
    : ctx2.pipeline(intraKey(cfg), () => intraWgsl(cfg), layout);
  const nRowTiles = cdiv(L2, tiles.bR);
  const nXTiles = cdiv(rd.DX, tiles.bX);
  const count = d.B * d.NH * NC * nRowTiles * nXTiles;
  const k = kappa(d);
  batch.dispatch(
    pipeline,
    [...inputs, ...outputs],
    intraParams.pack({
      S: d.S,
      L: L2,
      NC,
      ...rd,
      nRowTiles,
      nXTiles,
      count,
      gateScale: role === 'dq' ? 1 : k,
      outScale: role === 'dq' ? k : 1,
      eps: o.eps,
    }),
    splitWorkgroups(count, ctx2.limits.maxComputeWorkgroupsPerDimension),
    `intra ${role}`,
  );
}
function encodeScan(ctx2, batch, direction, d, buffers, nOutputs, hasInit, o) {
  const bS =
    o.tiles?.scan ?? chooseScanTile(d.DHQK, d.DHHV, ctx2.limits, isSoftwareAdapter(ctx2.adapterInfo));
  const cfg = { direction, variant: o.variant, normalize: o.normalize, dtype: o.dtype, bS };
  const nIn = buffers.length - nOutputs;
  const layout = ['uniform', ...Array(nIn).fill(READ), ...Array(nOutputs).fill(RW)];
  const pipeline = ctx2.pipeline(scanKey(cfg), () => scanWgsl(cfg), layout);
  const nYTiles = cdiv(d.DHQK, bS);
  const nXTiles = cdiv(d.DHHV, bS);
  const L2 = o.chunkSize;
  batch.dispatch(
    pipeline,
    buffers,
    scanParams.pack({
      S: d.S,
      L: L2,
      NC: d.S / L2,
      DY: d.DHQK,
      DX: d.DHHV,
      nYTiles,
      nXTiles,
      hasInit: hasInit ? 1 : 0,
      scale: kappa(d),
      eps: o.eps,
    }),
    [d.B * d.NH * nYTiles * nXTiles],
    `state scan ${direction}`,
  );
}
function encodeTflaForward(ctx2, batch, d, t, o, out = {}) {
  const L2 = o.chunkSize;
  const NC = d.S / L2;
  const gates = encodeGates(ctx2, batch, d, t.i, t.f, t.cInitial ? t.mInitial : void 0, o);
  let cStates = null;
  let nStates = null;
  if (o.inter) {
    cStates = ctx2.empty([d.B, d.NH, NC + 1, d.DHQK, d.DHHV]);
    nStates = ctx2.empty([d.B, d.NH, NC + 1, d.DHQK]);
    const dummy = t.cInitial ? null : batch.scratch([1]);
    encodeScan(
      ctx2,
      batch,
      'fw',
      d,
      [
        t.k,
        t.v,
        gates.gU,
        gates.gG,
        gates.mStates,
        t.cInitial ?? dummy,
        t.nInitial ?? dummy,
        cStates,
        nStates,
      ],
      2,
      !!t.cInitial,
      o,
    );
  }
  const h = out.h ?? ctx2.empty([d.B, d.NH, d.S, d.DHHV], o.dtype);
  const nOut = ctx2.empty([d.B, d.NH, d.S]);
  const mComb = ctx2.empty([d.B, d.NH, d.S]);
  const inputs = [t.q, t.k, t.v, gates.gB, gates.gU, gates.gP, gates.mStates];
  if (o.inter) inputs.push(cStates, nStates);
  encodeIntra(ctx2, batch, 'fw', d, inputs, [h, nOut, mComb], o);
  return { h, saved: { gates, cStates, nStates, nOut, mComb } };
}
function encodeLastStates(ctx2, batch, d, saved, o, out = {}) {
  const NC = d.S / o.chunkSize;
  const BNH = d.B * d.NH;
  const c = out.c ?? ctx2.empty([d.B, d.NH, d.DHQK, d.DHHV]);
  const n = out.n ?? ctx2.empty([d.B, d.NH, d.DHQK]);
  const m = out.m ?? ctx2.empty([d.B, d.NH, 1]);
  const cs = d.DHQK * d.DHHV;
  encodeCopyBlocks(ctx2, batch, saved.cStates, c, BNH, cs, (NC + 1) * cs, NC * cs);
  encodeCopyBlocks(ctx2, batch, saved.nStates, n, BNH, d.DHQK, (NC + 1) * d.DHQK, NC * d.DHQK);
  encodeCopyBlocks(ctx2, batch, saved.gates.mStates, m, BNH, 1, NC + 1, NC);
  return { c, n, m };
}
function encodeTflaBackward(ctx2, batch, d, t, saved, o, out = {}) {
  const L2 = o.chunkSize;
  const NC = d.S / L2;
  const BNH = d.B * d.NH;
  const { gates, nOut } = saved;
  let dcStates = null;
  if (o.inter) {
    dcStates = batch.scratch([d.B, d.NH, NC + 1, d.DHQK, d.DHHV]);
    encodeScan(
      ctx2,
      batch,
      'bw',
      d,
      [
        t.q,
        t.dh,
        gates.gB,
        gates.gU,
        gates.gP,
        gates.gG,
        gates.mStates,
        nOut,
        t.dcLast ?? batch.scratch([1]),
        dcStates,
      ],
      1,
      !!t.dcLast,
      o,
    );
  }
  const dq = out.dq ?? ctx2.empty([d.B, d.NH, d.S, d.DHQK], o.dtype);
  const dk = out.dk ?? ctx2.empty([d.B, d.NH, d.S, d.DHQK], o.dtype);
  const dv = out.dv ?? ctx2.empty([d.B, d.NH, d.S, d.DHHV], o.dtype);
  const gatesIn = [gates.gB, gates.gU, gates.gP, gates.mStates];
  encodeIntra(
    ctx2,
    batch,
    'dq',
    d,
    [t.dh, t.v, t.k, ...gatesIn, ...(o.inter ? [saved.cStates] : []), nOut],
    [dq],
    o,
  );
  encodeIntra(
    ctx2,
    batch,
    'dk',
    d,
    [t.v, t.dh, t.q, ...gatesIn, ...(o.inter ? [dcStates] : []), gates.gG, nOut],
    [dk],
    o,
  );
  encodeIntra(
    ctx2,
    batch,
    'dv',
    d,
    [t.k, t.q, t.dh, ...gatesIn, ...(o.inter ? [dcStates] : []), gates.gG, nOut],
    [dv],
    o,
  );
  const di = out.di ?? ctx2.empty([d.B, d.NH, d.S]);
  const df = out.df ?? ctx2.empty([d.B, d.NH, d.S]);
  const dfTmp = batch.scratch([d.B, d.NH, d.S]);
  const totals = batch.scratch([d.B, d.NH, NC]);
  const maxWg = ctx2.limits.maxComputeWorkgroupsPerDimension;
  const count = BNH * NC;
  const gp = { S: d.S, L: L2, NC, D: d.DHQK, count, hasInit: 0, useCorr: 0 };
  batch.dispatch(
    ctx2.pipeline(`gates:gradsLocal:${o.variant}:${o.dtype}`, () => gateGradsLocalWgsl(o.variant, o.dtype), [
      'uniform',
      READ,
      READ,
      READ,
      READ,
      READ,
      RW,
      RW,
      RW,
    ]),
    [t.q, t.k, dq, dk, t.i, di, dfTmp, totals],
    gateParams.pack(gp),
    splitWorkgroups(cdiv(count, GATE_WG), maxWg),
    'gate grads (local)',
  );
  let corr;
  const useCorr = !!(o.correctDf && t.dcLast && o.inter);
  if (useCorr) {
    corr = batch.scratch([BNH]);
    batch.dispatch(
      ctx2.pipeline('gates:stateDot', stateDotWgsl, ['uniform', READ, READ, RW]),
      [t.dcLast, saved.cStates, corr],
      gateParams.pack({ ...gp, D: d.DHQK * d.DHHV }),
      [BNH],
      'state dot',
    );
  } else corr = batch.scratch([1]);
  batch.dispatch(
    ctx2.pipeline('gates:gradsFinish', gateGradsFinishWgsl, ['uniform', READ, READ, READ, READ, RW]),
    [t.f, totals, dfTmp, corr, df],
    gateParams.pack({ ...gp, useCorr: useCorr ? 1 : 0 }),
    splitWorkgroups(cdiv(count, GATE_WG), maxWg),
    'gate grads (finish)',
  );
  let dcInitial;
  if (o.inter && t.cInitial) {
    dcInitial = out.dcInitial ?? ctx2.empty([d.B, d.NH, d.DHQK, d.DHHV]);
    const cs = d.DHQK * d.DHHV;
    encodeCopyBlocks(ctx2, batch, dcStates, dcInitial, BNH, cs, (NC + 1) * cs, 0);
  }
  return { dq, dk, dv, di, df, dcInitial };
}

// packages/kernels-webgpu/src/chunkwise/run.ts
var gcd = (a, b) => (b ? gcd(b, a % b) : a);
function planHeadGroups(ctx2, d, chunkSize, dtype, chunked, context) {
  const eb = dtype === 'f16' ? 2 : 4;
  const NC = d.S / chunkSize;
  const perHead = {
    q: d.S * d.DHQK * eb,
    v: d.S * d.DHHV * eb,
    i: d.S * 4,
    ...(chunked
      ? {
          'chunk states ((S/chunkSize+1)\xB7DHQK\xB7DHHV\xB74 bytes per head)':
            (NC + 1) * d.DHQK * d.DHHV * 4,
          mInitial: 4,
          nInitial: d.DHQK * 4,
          boundary: (NC + 1) * 4,
        }
      : {}),
  };
  const limit = ctx2.limits.maxStorageBufferBindingSize;
  let largest = 0;
  let align = 1;
  for (const [name, bytes] of Object.entries(perHead)) {
    if (bytes > limit) {
      throw new KernelArgumentError(
        name,
        `at most maxStorageBufferBindingSize = ${limit} bytes per head on this adapter`,
        `${bytes} bytes`,
        context,
      );
    }
    largest = Math.max(largest, bytes);
    const need = 256 / gcd(256, bytes);
    align = (align * need) / gcd(align, need);
  }
  const BNH = d.B * d.NH;
  if (largest * BNH <= limit) return [{ start: 0, count: BNH }];
  const G = Math.floor(Math.floor(limit / largest) / align) * align;
  if (G < 1) {
    throw new KernelArgumentError(
      'q',
      `shapes whose ${align} heads (the 256-byte alignment unit) fit maxStorageBufferBindingSize = ${limit} bytes`,
      `${largest} bytes per head`,
      context,
    );
  }
  const groups = [];
  for (let start = 0; start < BNH; start += G) groups.push({ start, count: Math.min(G, BNH - start) });
  return groups;
}
function headView(t, g, whole) {
  if (whole) return t;
  const rest = t.shape.slice(2);
  const perHead = rest.reduce((a, b) => a * b, 1);
  return t.subview(g.start * perHead, [1, g.count, ...rest]);
}
function prepare(ctx2, fam, a, withDh) {
  const context = fam.name;
  if (typeof a !== 'object' || a === null)
    throw new KernelArgumentError('args', 'an object', String(a), context);
  const d = validateSequence(a, context);
  const dtype = resolveDtype(ctx2, a.q, a.dtype, context);
  const eps = validateEps2(a.eps ?? 1e-6, context);
  let hasStates = false;
  if (fam.chunked) {
    hasStates = validateStates2(a, d, context, fam.variant === 'exp');
    if (fam.variant === 'sig' && a.mInitial != null) {
      expectTensor('mInitial', a.mInitial, [d.B, d.NH, 1], ['B', 'NH', '1'], context, ['f32']);
    }
  } else {
    for (const n of ['cInitial', 'nInitial', 'mInitial']) {
      if (a[n] != null)
        throw new KernelArgumentError(
          n,
          'no initial states (parallel kernels have none)',
          'a tensor',
          context,
        );
    }
    if (a.returnLastStates) {
      throw new KernelArgumentError(
        'returnLastStates',
        'false (parallel kernels return no states)',
        'true',
        context,
      );
    }
  }
  let chunkSize = d.S;
  if (fam.chunked) {
    chunkSize = a.chunkSize ?? Math.min(fam.defaultChunkSize, d.S);
    const max = fam.maxChunkSize;
    if (!Number.isInteger(chunkSize) || chunkSize < 1 || (max !== void 0 && chunkSize > max)) {
      throw new KernelArgumentError(
        'chunkSize',
        `a positive integer${max !== void 0 ? ` <= ${max}` : ''}`,
        String(a.chunkSize),
        context,
      );
    }
    if (d.S % chunkSize !== 0) {
      throw new KernelArgumentError(
        'chunkSize',
        `a divisor of the sequence length S = ${d.S} (pad the sequence, or use the backend's train_with_padding / inference modes)`,
        String(chunkSize),
        context,
      );
    }
  }
  if (fam.variant === 'exp' && a.normalize === false) {
    throw new KernelArgumentError(
      'normalize',
      'true or undefined (only mLSTMsig kernels can skip the normaliser)',
      'false',
      context,
    );
  }
  const groups = planHeadGroups(ctx2, d, chunkSize, dtype, fam.chunked, context);
  if (withDh) {
    const b = a;
    expectTensor('dh', b.dh, [d.B, d.NH, d.S, d.DHHV], ['B', 'NH', 'S', 'DHHV'], context, [dtype]);
    if (b.dcLast != null) {
      if (!fam.chunked)
        throw new KernelArgumentError(
          'dcLast',
          'undefined (parallel kernels return no states)',
          'a tensor',
          context,
        );
      expectTensor('dcLast', b.dcLast, [d.B, d.NH, d.DHQK, d.DHHV], ['B', 'NH', 'DHQK', 'DHHV'], context, [
        'f32',
      ]);
    }
  }
  return {
    d,
    hasStates,
    groups,
    opts: {
      variant: fam.variant,
      normalize: fam.variant === 'exp' ? true : (a.normalize ?? true),
      chunkSize,
      eps,
      dtype,
      inter: fam.chunked,
      wholeChunkTiles: fam.wholeChunkTiles,
      tiles: validateTiles(ctx2, a.tiles, context),
      subgroupMatrix: a.subgroupMatrix,
    },
  };
}
function validateTiles(ctx2, t, context) {
  if (t == null) return void 0;
  const ok = (v, max) => typeof v === 'number' && Number.isInteger(v) && v % 16 === 0 && v >= 16 && v <= max;
  if (t.intra) {
    const { bR, bT, bX, bY } = t.intra;
    if (!ok(bR, 64) || !ok(bT, 64) || !ok(bX, 256) || bY !== 16 || bR % bT !== 0) {
      throw new KernelArgumentError(
        'tiles.intra',
        'bR, bT multiples of 16 up to 64 (bR a multiple of bT), bX a multiple of 16 up to 256, bY = 16',
        JSON.stringify(t.intra),
        context,
      );
    }
    const bytes = intraWorkgroupBytes(t.intra);
    if (bytes > ctx2.limits.maxComputeWorkgroupStorageSize) {
      throw new KernelArgumentError(
        'tiles.intra',
        `tiles needing at most maxComputeWorkgroupStorageSize = ${ctx2.limits.maxComputeWorkgroupStorageSize} bytes`,
        `${bytes} bytes`,
        context,
      );
    }
  }
  if (t.scan !== void 0 && ![16, 32, 64].includes(t.scan)) {
    throw new KernelArgumentError('tiles.scan', '16, 32 or 64', String(t.scan), context);
  }
  return t;
}
async function runForward(ctx2, fam, a) {
  const { d, hasStates, opts, groups } = prepare(ctx2, fam, a, false);
  const scope = new CallScope(ctx2, a.q);
  if (a.keepSaved && scope.cpu) {
    throw new KernelArgumentError(
      'keepSaved',
      'GPU tensor inputs (saved tensors stay on the GPU)',
      'CPU tensors',
      fam.name,
    );
  }
  try {
    const inputs = gpuInputs(scope, a, opts.dtype, hasStates, fam);
    const whole = groups.length === 1;
    const h = ctx2.empty([d.B, d.NH, d.S, d.DHHV], opts.dtype);
    const wantStates = !!a.returnLastStates && fam.chunked;
    const last = wantStates
      ? {
          c: ctx2.empty([d.B, d.NH, d.DHQK, d.DHHV]),
          n: ctx2.empty([d.B, d.NH, d.DHQK]),
          m: ctx2.empty([d.B, d.NH, 1]),
        }
      : void 0;
    const saved = { groups: [] };
    for (const g of groups) {
      const batch = ctx2.batch();
      const v = (t) => (t ? headView(t, g, whole) : void 0);
      const dg = whole ? d : { ...d, B: 1, NH: g.count };
      const fw = encodeTflaForward(ctx2, batch, dg, mapInputs(inputs, v), opts, { h: v(h) });
      if (last)
        encodeLastStates(ctx2, batch, dg, fw.saved, opts, { c: v(last.c), n: v(last.n), m: v(last.m) });
      batch.submit();
      if (a.keepSaved) saved.groups.push({ start: g.start, count: g.count, data: fw.saved });
      else releaseGroupSaved(fw.saved);
    }
    let lastStates;
    if (last) {
      if (fam.variant === 'sig') {
        last.m.release();
        if (!opts.normalize) {
          last.n.release();
          last.n = ctx2.zeros([d.B, d.NH, d.DHQK]);
        }
        lastStates = { c: last.c, n: last.n };
      } else lastStates = last;
    }
    return await scope.finish({ h, lastStates, saved: a.keepSaved ? saved : void 0 });
  } catch (e) {
    scope.abort();
    throw e;
  }
}
function gpuInputs(scope, a, dtype, hasStates, fam) {
  const b = a;
  return {
    q: scope.gpu(a.q, dtype),
    k: scope.gpu(a.k, dtype),
    v: scope.gpu(a.v, dtype),
    i: scope.gpu(a.i),
    f: scope.gpu(a.f),
    cInitial: hasStates ? scope.gpu(a.cInitial) : void 0,
    nInitial: hasStates ? scope.gpu(a.nInitial) : void 0,
    mInitial: hasStates && fam.variant === 'exp' ? scope.gpu(a.mInitial) : void 0,
    dh: b.dh ? scope.gpu(b.dh, dtype) : void 0,
    dcLast: scope.gpu(b.dcLast ?? void 0),
  };
}
function mapInputs(x, v) {
  const out = {};
  for (const [key, t] of Object.entries(x)) out[key] = v(t);
  return out;
}
async function runBackward(ctx2, fam, a) {
  const { d, hasStates, opts, groups } = prepare(ctx2, fam, a, true);
  if (a.saved) {
    const same =
      a.saved.groups.length === groups.length &&
      a.saved.groups.every((g, x) => g.start === groups[x].start && g.count === groups[x].count);
    if (!same) {
      throw new KernelArgumentError(
        'saved',
        'the saved tensors of a forward call with the same shapes and options',
        'saved tensors of another call',
        fam.name,
      );
    }
  }
  const scope = new CallScope(ctx2, a.q);
  try {
    const inputs = gpuInputs(scope, a, opts.dtype, hasStates, fam);
    const whole = groups.length === 1;
    const out = {
      dq: ctx2.empty([d.B, d.NH, d.S, d.DHQK], opts.dtype),
      dk: ctx2.empty([d.B, d.NH, d.S, d.DHQK], opts.dtype),
      dv: ctx2.empty([d.B, d.NH, d.S, d.DHHV], opts.dtype),
      di: ctx2.empty([d.B, d.NH, d.S]),
      df: ctx2.empty([d.B, d.NH, d.S]),
      dcInitial: hasStates && fam.chunked ? ctx2.empty([d.B, d.NH, d.DHQK, d.DHHV]) : void 0,
    };
    for (const [x, g] of groups.entries()) {
      const batch = ctx2.batch();
      const v = (t) => (t ? headView(t, g, whole) : void 0);
      const dg = whole ? d : { ...d, B: 1, NH: g.count };
      const inp = mapInputs(inputs, v);
      let saved = a.saved?.groups[x].data;
      let recomputed;
      if (!saved) {
        recomputed = encodeTflaForward(ctx2, batch, dg, inp, opts);
        saved = recomputed.saved;
      }
      const gOut = {
        dq: v(out.dq),
        dk: v(out.dk),
        dv: v(out.dv),
        di: v(out.di),
        df: v(out.df),
        dcInitial: v(out.dcInitial),
      };
      encodeTflaBackward(ctx2, batch, dg, inp, saved, { ...opts, correctDf: a.correctDfForDcLast }, gOut);
      batch.submit();
      if (recomputed) {
        recomputed.h.release();
        releaseGroupSaved(recomputed.saved);
      }
    }
    const res = { ...out };
    if (!out.dcInitial) delete res.dcInitial;
    if (hasStates) {
      res.dnInitial = ctx2.zeros([d.B, d.NH, d.DHQK]);
      if (fam.variant === 'exp') res.dmInitial = ctx2.zeros([d.B, d.NH, 1]);
    }
    return await scope.finish(res);
  } catch (e) {
    scope.abort();
    throw e;
  }
}
function familyFunctions(fam) {
  return {
    forward: (ctx2, args) => runForward(ctx2, fam, args),
    backward: (ctx2, args) => runBackward(ctx2, fam, args),
  };
}

// packages/kernels-webgpu/src/chunkwise/limit_chunk.ts
var LIMIT_CHUNK = {
  name: 'chunkwise--webgpu_limit_chunk',
  variant: 'exp',
  chunked: true,
  defaultChunkSize: LIMIT_CHUNK_DEFAULT_CHUNK_SIZE,
  maxChunkSize: LIMIT_CHUNK_MAX_CHUNK_SIZE,
  wholeChunkTiles: true,
};
var fns = familyFunctions(LIMIT_CHUNK);
var mlstmChunkwiseLimitChunk = fns.forward;
var mlstmChunkwiseLimitChunkBackward = fns.backward;

// packages/kernels-webgpu/src/chunkwise/xl_chunk.ts
var XL_CHUNK = {
  name: 'chunkwise--webgpu_xl_chunk',
  variant: 'exp',
  chunked: true,
  defaultChunkSize: XL_CHUNK_DEFAULT_CHUNK_SIZE,
};
var fns2 = familyFunctions(XL_CHUNK);
var mlstmChunkwiseXlChunk = fns2.forward;
var mlstmChunkwiseXlChunkBackward = fns2.backward;

// packages/kernels-webgpu/src/chunkwise/xl_chunk_siging.ts
var XL_CHUNK_SIGING = {
  name: 'chunkwise--webgpu_xl_chunk_siging',
  variant: 'sig',
  chunked: true,
  defaultChunkSize: XL_CHUNK_DEFAULT_CHUNK_SIZE,
};
var fns3 = familyFunctions(XL_CHUNK_SIGING);
var mlstmSigChunkwiseXlChunk = fns3.forward;
var mlstmSigChunkwiseXlChunkBackward = fns3.backward;

// packages/kernels-webgpu/src/parallel/limit_headdim.ts
var LIMIT_HEADDIM = {
  name: 'parallel--webgpu_limit_headdim',
  variant: 'exp',
  chunked: false,
  defaultChunkSize: 0,
};
var fns4 = familyFunctions(LIMIT_HEADDIM);
var mlstmParallelLimitHeaddim = fns4.forward;
var mlstmParallelLimitHeaddimBackward = fns4.backward;

// packages/kernels-webgpu/scripts/device-check.ts
var argv = process.argv.slice(2);
var quick = argv.includes('--quick');
var outPath = argv.includes('--out') ? argv[argv.indexOf('--out') + 1] : void 0;
var results = [];
var relMax = (a, e) => {
  let m = 0;
  for (const v of e.data) m = Math.max(m, Math.abs(v));
  return compare(a, e).maxAbs / m;
};
async function correctness(ctx2) {
  const rng = new Rng(5);
  const shapes = [
    { B: 1, NH: 2, S: 256, DHQK: 64, DHHV: 128, L: 128 },
    { B: 2, NH: 1, S: 256, DHQK: 128, DHHV: 256, L: 64 },
    { B: 1, NH: 1, S: 384, DHQK: 48, DHHV: 96, L: 128 },
  ];
  for (const s of shapes) {
    const x = randomMlstmInputs(rng, s, { kind: 'f32' });
    const dh = randn(rng, [s.B, s.NH, s.S, s.DHHV], { kind: 'f32' });
    const st = {
      cInitial: randn(rng, [s.B, s.NH, s.DHQK, s.DHHV], { kind: 'f32', scale: 0.3 }),
      nInitial: randn(rng, [s.B, s.NH, s.DHQK], { kind: 'f32', scale: 0.3 }),
      mInitial: randn(rng, [s.B, s.NH, 1], { kind: 'f32' }),
    };
    for (const dtype of ['f32', 'f16']) {
      if (dtype === 'f16' && !ctx2.features.shaderF16) continue;
      const r2 = (t) => (dtype === 'f16' ? { shape: t.shape, data: roundToF16(t.data) } : t);
      const xr = { ...x, q: r2(x.q), k: r2(x.k), v: r2(x.v) };
      const dhr = r2(dh);
      const row = {
        check: `B${s.B} NH${s.NH} S${s.S} QK${s.DHQK} V${s.DHHV} L${s.L}`,
        dtype,
      };
      const ref = mlstmChunkwise({ ...xr, ...st, chunkSize: s.L, returnLastStates: true });
      const refB = mlstmChunkwiseBackward({ ...xr, ...st, chunkSize: s.L, dh: dhr });
      const fw = await mlstmChunkwiseXlChunk(ctx2, {
        ...xr,
        ...st,
        chunkSize: s.L,
        returnLastStates: true,
        dtype,
      });
      const bw = await mlstmChunkwiseXlChunkBackward(ctx2, { ...xr, ...st, chunkSize: s.L, dh: dhr, dtype });
      row.xl_h = relMax(fw.h, ref.h);
      row.xl_c = relMax(fw.lastStates.c, ref.lastStates.c);
      row.xl_grads = Math.max(...['dq', 'dk', 'dv', 'di', 'df'].map((n) => relMax(bw[n], refB[n])));
      const lim = await mlstmChunkwiseLimitChunk(ctx2, { ...xr, ...st, chunkSize: 64, dtype });
      const limB = await mlstmChunkwiseLimitChunkBackward(ctx2, {
        ...xr,
        ...st,
        chunkSize: 64,
        dh: dhr,
        dtype,
      });
      const refL = mlstmChunkwiseBackward({ ...xr, ...st, chunkSize: 64, dh: dhr });
      row.limit_h = relMax(lim.h, ref.h);
      row.limit_grads = Math.max(...['dq', 'dk', 'dv', 'di', 'df'].map((n) => relMax(limB[n], refL[n])));
      const sig = await mlstmSigChunkwiseXlChunk(ctx2, { ...xr, chunkSize: s.L, normalize: false, dtype });
      const sigB = await mlstmSigChunkwiseXlChunkBackward(ctx2, {
        ...xr,
        chunkSize: s.L,
        normalize: false,
        dh: dhr,
        dtype,
      });
      const refS = mlstmSigChunkwise({ ...xr, chunkSize: s.L, normalize: false });
      const refSB = mlstmSigChunkwiseBackward({ ...xr, chunkSize: s.L, normalize: false, dh: dhr });
      row.sig_h = relMax(sig.h, refS.h);
      row.sig_grads = Math.max(...['dq', 'dk', 'dv', 'di', 'df'].map((n) => relMax(sigB[n], refSB[n])));
      const par = await mlstmParallelLimitHeaddim(ctx2, { ...xr, dtype });
      const parB = await mlstmParallelLimitHeaddimBackward(ctx2, { ...xr, dh: dhr, dtype });
      row.par_h = relMax(par.h, mlstmParallel(xr).h);
      const refPB = mlstmParallelBackward({ ...xr, dh: dhr });
      row.par_grads = Math.max(...['dq', 'dk', 'dv', 'di', 'df'].map((n) => relMax(parB[n], refPB[n])));
      const tok = (t, d) => ({
        shape: [s.B, s.NH, d],
        data: t.data.slice(0, s.B * s.NH * d),
      });
      const gate = (t) => ({ shape: [s.B, s.NH, 1], data: t.data.slice(0, s.B * s.NH) });
      const stepIn = {
        q: tok(xr.q, s.DHQK),
        k: tok(xr.k, s.DHQK),
        v: tok(xr.v, s.DHHV),
        i: gate(x.i),
        f: gate(x.f),
        c: ref.lastStates.c,
        n: ref.lastStates.n,
        m: ref.lastStates.m,
      };
      const step = await mlstmRecurrentStepWebgpu(ctx2, { ...stepIn, dtype });
      row.step_h = relMax(step.h, mlstmRecurrentStep(stepIn).h);
      results.push(row);
      console.log(JSON.stringify(row));
    }
  }
}
var fillParams = defineParams({ n: 'u32', seed: 'u32', scale: 'f32', offset: 'f32' });
function fillRandom(ctx2, t, seed, scale = 1, offset = 0) {
  const p = ctx2.pipeline(
    `devcheck:fill:${t.dtype}`,
    () => `${t.dtype === 'f16' ? 'enable f16;' : ''}
${fillParams.wgsl()}
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> x: array<${t.dtype}>;
fn hash(v: u32) -> u32 { var h = v * 747796405u + 2891336453u; h = ((h >> ((h >> 28u) + 4u)) ^ h) * 277803737u; return (h >> 22u) ^ h; }
@compute @workgroup_size(256) fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) nw: vec3u) {
  let idx = g.x + g.y * nw.x * 256u;
  if (idx >= P.n) { return; }
  let u1 = (f32(hash(idx * 2u + P.seed * 0x9e3779b9u) >> 8u) + 0.5) / 16777216.0;
  let u2 = f32(hash(idx * 2u + 1u + P.seed * 0x9e3779b9u) >> 8u) / 16777216.0;
  x[idx] = ${t.dtype}(P.offset + P.scale * sqrt(-2.0 * log(u1)) * cos(6.2831853 * u2));
}`,
    ['uniform', 'rw'],
  );
  const wg = Math.ceil(t.numel / 256);
  const y = Math.ceil(wg / 65535);
  ctx2
    .batch()
    .dispatch(p, [t], fillParams.pack({ n: t.numel, seed, scale, offset }), [Math.ceil(wg / y), y])
    .submit();
}
var median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
var fams = {
  xl_chunk: { fw: mlstmChunkwiseXlChunk, bw: mlstmChunkwiseXlChunkBackward, extra: {} },
  limit_chunk: { fw: mlstmChunkwiseLimitChunk, bw: mlstmChunkwiseLimitChunkBackward, extra: {} },
  siging: { fw: mlstmSigChunkwiseXlChunk, bw: mlstmSigChunkwiseXlChunkBackward, extra: { normalize: false } },
};
async function timeConstToken(ctx2, fam, S, dtype, chunkSize, reps2, tiles, subgroupMatrix) {
  const tokens = 65536;
  const NH = 16;
  const B = tokens / S;
  const [DHQK, DHHV] = [128, 256];
  const q = ctx2.empty([B, NH, S, DHQK], dtype);
  const k = ctx2.empty([B, NH, S, DHQK], dtype);
  const v = ctx2.empty([B, NH, S, DHHV], dtype);
  const i = ctx2.empty([B, NH, S]);
  const f = ctx2.empty([B, NH, S]);
  const dh = ctx2.empty([B, NH, S, DHHV], dtype);
  [q, k, v, i, dh].forEach((t, x) => fillRandom(ctx2, t, x + 1));
  fillRandom(ctx2, f, 9, 1, 3);
  const F = fams[fam];
  const args = { q, k, v, i, f, chunkSize, tiles, subgroupMatrix, ...F.extra };
  const fwT = [];
  const fwbwT = [];
  ctx2.pool.resetPeak();
  for (let r2 = 0; r2 < reps2 + 2; r2++) {
    ctx2.beginGpuTiming(8);
    const fw = await F.fw(ctx2, args);
    const tFw = await ctx2.endGpuTiming();
    fw.h.release();
    ctx2.beginGpuTiming(8);
    const fw2 = await F.fw(ctx2, { ...args, keepSaved: true });
    const bw = await F.bw(ctx2, { ...args, dh, saved: fw2.saved });
    const tFwbw = await ctx2.endGpuTiming();
    fw2.h.release();
    releaseSaved(fw2.saved);
    for (const t of Object.values(bw)) t.release();
    if (r2 >= 2) {
      fwT.push(tFw.reduce((a, b) => a + b, 0));
      fwbwT.push(tFwbw.reduce((a, b) => a + b, 0));
    }
  }
  const peak = ctx2.pool.stats.peakLiveBytes;
  for (const t of [q, k, v, i, f, dh]) t.release();
  ctx2.pool.trim();
  return { fw: median(fwT), fwbw: median(fwbwT), peakBytes: peak };
}
async function timeStep(ctx2, B, dtype, reps2) {
  const [NH, DHQK, DHHV] = [8, 256, 512];
  const q = ctx2.empty([B, NH, DHQK], dtype);
  const k = ctx2.empty([B, NH, DHQK], dtype);
  const v = ctx2.empty([B, NH, DHHV], dtype);
  const i = ctx2.empty([B, NH, 1]);
  const f = ctx2.empty([B, NH, 1]);
  const c = ctx2.zeros([B, NH, DHQK, DHHV]);
  const n = ctx2.zeros([B, NH, DHQK]);
  const m = ctx2.zeros([B, NH, 1]);
  [q, k, v, i].forEach((t, x) => fillRandom(ctx2, t, x + 20));
  fillRandom(ctx2, f, 30, 1, 4.5);
  const ts = [];
  for (let r2 = 0; r2 < reps2 + 5; r2++) {
    ctx2.beginGpuTiming(8);
    const out = await mlstmRecurrentStepWebgpu(ctx2, { q, k, v, i, f, c, n, m, dtype });
    const t = await ctx2.endGpuTiming();
    for (const o of Object.values(out)) o.release();
    if (r2 >= 5) ts.push(t.reduce((a, b) => a + b, 0));
  }
  for (const t of [q, k, v, i, f, c, n, m]) t.release();
  return median(ts);
}
var ctx = await getGpuContext();
console.log(ctx.describe());
if (!argv.includes('--tiles-only')) await correctness(ctx);
if (argv.includes('--sgmat')) {
  console.log('\nsubgroup-matrix forward vs register-tiled (xl_chunk f16, GPU ms fw / fw+bw)');
  for (const S of [512, 8192, 65536]) {
    for (const sgm of [false, true]) {
      const r2 = await timeConstToken(ctx, 'xl_chunk', S, 'f16', 128, 5, void 0, sgm);
      console.log(`  S=${S} subgroupMatrix=${sgm}: ${r2.fw.toFixed(2)} / ${r2.fwbw.toFixed(2)}`);
      results.push({ sgmat: sgm, S, ...r2 });
    }
  }
  if (argv.includes('--sgmat-only')) process.exit(0);
}
if (argv.includes('--tiles')) {
  if (argv.includes('--tiles-only')) {
    results.length = 0;
  }
  console.log('\ntile sweep: xl_chunk S=8192 (fw / fw+bw GPU ms)');
  for (const dtype of ['f16']) {
    for (const [bR, bX, scan] of [
      [32, 64, 64],
      [32, 64, 32],
      [32, 128, 64],
      [32, 256, 64],
      [16, 64, 64],
      [16, 128, 64],
      [16, 256, 64],
      [64, 128, 64],
      [32, 32, 64],
      [48, 64, 64],
    ]) {
      const tiles = { intra: { bR, bT: bR, bX, bY: 16 }, scan };
      try {
        const r2 = await timeConstToken(ctx, 'xl_chunk', 8192, dtype, 128, 3, tiles);
        console.log(
          `  ${dtype} bR=bT=${bR} bX=${bX} scan=${scan}: ${r2.fw.toFixed(2)} / ${r2.fwbw.toFixed(2)}`,
        );
        results.push({ tileSweep: true, dtype, bR, bX, scan, ...r2 });
      } catch (e) {
        console.log(`  ${dtype} bR=${bR} bX=${bX}: ${e.message}`);
      }
    }
  }
}
if (argv.includes('--tiles-only')) {
  if (outPath) writeFileSync(outPath, JSON.stringify({ adapter: ctx.adapterInfo, results }, null, 1));
  process.exit(0);
}
var Ss = quick ? [512, 8192] : [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];
var reps = quick ? 3 : 10;
console.log('\nconst-token (B\xB7S = 65536, NH 16, DHQK 128, DHHV 256), GPU ms (timestamp-query, median)');
console.log('kernel        dtype chunk     S       fw     fw+bw   peak MB');
for (const [fam, chunk] of [
  ['xl_chunk', 128],
  ['siging', 128],
  ['limit_chunk', 64],
]) {
  for (const dtype of ['f16', 'f32']) {
    if (dtype === 'f16' && !ctx.features.shaderF16) continue;
    for (const S of fam === 'xl_chunk' ? Ss : [Ss[0], Ss[Ss.length - 1]]) {
      try {
        const r2 = await timeConstToken(ctx, fam, S, dtype, chunk, reps);
        results.push({ kernel: fam, dtype, chunk, S, ...r2 });
        console.log(
          `${fam.padEnd(13)} ${dtype}   ${String(chunk).padStart(4)} ${String(S).padStart(6)} ${r2.fw.toFixed(2).padStart(8)} ${r2.fwbw.toFixed(2).padStart(9)} ${(r2.peakBytes / 2 ** 20).toFixed(0).padStart(8)}`,
        );
      } catch (e) {
        console.log(`${fam} ${dtype} S=${S}: ${e.message}`);
        results.push({ kernel: fam, dtype, S, error: e.message });
      }
    }
  }
}
if (!quick) {
  for (const chunk of [64, 256, 512]) {
    const r2 = await timeConstToken(ctx, 'xl_chunk', 8192, 'f16', chunk, reps);
    results.push({ kernel: 'xl_chunk', dtype: 'f16', chunk, S: 8192, ...r2 });
    console.log(
      `xl_chunk      f16   ${String(chunk).padStart(4)}   8192 ${r2.fw.toFixed(2).padStart(8)} ${r2.fwbw.toFixed(2).padStart(9)} ${(r2.peakBytes / 2 ** 20).toFixed(0).padStart(8)}`,
    );
  }
}
for (const dtype of ['f16', 'f32']) {
  if (dtype === 'f16' && !ctx.features.shaderF16) continue;
  const S = 8192;
  const B = 65536 / S;
  const mk = (d, dt = dtype) => ctx.empty([B, 16, S, d], dt);
  const [q, k, v, dh] = [mk(128), mk(128), mk(256), mk(256)];
  const i = ctx.empty([B, 16, S]);
  const f = ctx.empty([B, 16, S]);
  [q, k, v, i, dh].forEach((t, x) => fillRandom(ctx, t, x + 40));
  fillRandom(ctx, f, 49, 1, 3);
  const sums = /* @__PURE__ */ new Map();
  for (let r2 = 0; r2 < 4; r2++) {
    ctx.beginGpuTiming(64, { perDispatch: true });
    const fw = await mlstmChunkwiseXlChunk(ctx, { q, k, v, i, f, chunkSize: 128, keepSaved: true });
    const bw = await mlstmChunkwiseXlChunkBackward(ctx, {
      q,
      k,
      v,
      i,
      f,
      dh,
      chunkSize: 128,
      saved: fw.saved,
    });
    const parts = await ctx.endGpuTimingLabelled();
    fw.h.release();
    releaseSaved(fw.saved);
    for (const t of Object.values(bw)) t.release();
    if (r2 === 0) continue;
    for (const p of parts) sums.set(p.label, [...(sums.get(p.label) ?? []), p.ms]);
  }
  console.log(`
xl_chunk ${dtype} S=8192 per-kernel GPU ms (median of 3):`);
  for (const [label, ms] of sums) console.log(`  ${label.padEnd(22)} ${median(ms).toFixed(3)}`);
  results.push({ breakdown: dtype, parts: Object.fromEntries([...sums].map(([l, ms]) => [l, median(ms)])) });
  for (const t of [q, k, v, i, f, dh]) t.release();
}
console.log('\nstep kernel, 7B layer (NH 8, DHQK 256, DHHV 512), GPU ms (median)');
for (const dtype of ['f16', 'f32']) {
  for (const B of [1, 8, 64]) {
    try {
      const t = await timeStep(ctx, B, dtype, quick ? 20 : 100);
      results.push({ kernel: 'step', dtype, B, ms: t });
      console.log(`step ${dtype} B=${B}: ${t.toFixed(4)} ms`);
    } catch (e) {
      console.log(`step ${dtype} B=${B}: ${e.message}`);
    }
  }
}
if (outPath)
  writeFileSync(
    outPath,
    JSON.stringify({ adapter: ctx.adapterInfo, features: ctx.features, results }, null, 1),
  );
ctx.destroy();

// AssemblyScript, compiled to WebAssembly (SIMD) by `npm run build:wasm-kernels`: the fused kernels of
// `wasm-fused-kernels.ts`, computed in place on tfjs-backend-wasm's heap (this module imports its memory).
// Pointers are byte offsets into that heap; lengths count float32 values. The module holds no data and no
// globals, so it writes nothing but the outputs it is given. Each kernel computes what its WGSL namesake in
// `webgpu-fused-kernels.ts` computes, four lanes at a time, the last few values one lane at a time.

// The constants of GELU's tanh form: σ(2u), u = √(2/π)(x + 0.044715x³).
const geluC1: f32 = 2.0 * 0.7978845608028654;
const geluC3: f32 = 2.0 * 0.7978845608028654 * 0.044715;
const geluSlope3: f32 = 3.0 * 0.044715;
const layerNormEpsilon: f32 = 1e-5;

// e^x (Cephes' expf): x = n·ln 2 + r with |r| ≤ ln 2 / 2, e^r by a degree-7 polynomial, 2^n added to the
// result's exponent bits. n is rounded by adding 1.5·2²³ (its low bits then hold n as an integer), which
// costs two instructions where f32x4.nearest and a float-to-integer conversion cost many more on x64. Relative
// error about 2e-7 over [-87, 88]; below -87 it returns e^-87 ≈ 1.6e-38, not 0.
@inline
function exp4(x: v128): v128 {
  // pmin/pmax: one instruction each (min/max also order NaNs, which take several)
  x = f32x4.pmax(f32x4.pmin(x, f32x4.splat(88.0)), f32x4.splat(-87.0));
  const shifted = f32x4.add(f32x4.mul(x, f32x4.splat(1.4426950408889634)), f32x4.splat(12582912.0));
  const n = f32x4.sub(shifted, f32x4.splat(12582912.0));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const e = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1.0));
  // shifted's bits are 0x4B400000 + n; shifted left by 23 that is n·2²³ (the constant's bits fall off)
  return i32x4.add(e, i32x4.shl(shifted, 23));
}

@inline
function exp1(x: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(x)), 0);
}

@inline
function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

@inline
function sum4(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

@inline
function max4(v: v128): f32 {
  return Mathf.max(
    Mathf.max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)),
    Mathf.max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)),
  );
}

// GELU's gate σ(2u) on four lanes.
@inline
function geluGate(v: v128): v128 {
  const z = f32x4.mul(v, f32x4.add(f32x4.splat(geluC1), f32x4.mul(f32x4.splat(geluC3), f32x4.mul(v, v))));
  const one = f32x4.splat(1.0);
  return f32x4.div(one, f32x4.add(one, exp4(f32x4.neg(z))));
}

/** y = x·σ(2u): GELU, tanh form. */
export function gelu(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(at(x, i));
    v128.store(at(y, i), f32x4.mul(v, geluGate(v)));
  }
  for (; i < n; i++) {
    const v = f32x4.splat(load<f32>(at(x, i)));
    store<f32>(at(y, i), f32x4.extract_lane(f32x4.mul(v, geluGate(v)), 0));
  }
}

// dy · GELU′(x) on four lanes: s + x·s(1 − s)·2√(2/π)(1 + 3·0.044715x²), s the gate.
@inline
function geluGrad4(v: v128, dy: v128): v128 {
  const s = geluGate(v);
  const slope = f32x4.mul(
    f32x4.splat(geluC1),
    f32x4.mul(f32x4.add(f32x4.splat(1.0), f32x4.mul(f32x4.splat(geluSlope3), f32x4.mul(v, v))), v),
  );
  const derivative = f32x4.add(f32x4.mul(f32x4.mul(f32x4.sub(f32x4.splat(1.0), s), s), slope), s);
  return f32x4.mul(dy, derivative);
}

/** dx = dy · GELU′(x). */
export function geluGrad(x: usize, dy: usize, dx: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(dx, i), geluGrad4(v128.load(at(x, i)), v128.load(at(dy, i))));
  for (; i < n; i++) {
    const g = geluGrad4(f32x4.splat(load<f32>(at(x, i))), f32x4.splat(load<f32>(at(dy, i))));
    store<f32>(at(dx, i), f32x4.extract_lane(g, 0));
  }
}

/** Layer norm over rows of `width`: y = (x − mean)/σ · gain + bias; stats = [mean, 1/σ] a row. */
export function layerNorm(x: usize, gain: usize, bias: usize, y: usize, stats: usize, rows: i32, width: i32): void {
  const vectorEnd = width & ~3;
  for (let r = 0; r < rows; r++) {
    const row = x + (<usize>(r * width) << 2);
    const out = y + (<usize>(r * width) << 2);
    let s4 = f32x4.splat(0);
    for (let c = 0; c < vectorEnd; c += 4) s4 = f32x4.add(s4, v128.load(at(row, c)));
    let s = sum4(s4);
    for (let c = vectorEnd; c < width; c++) s += load<f32>(at(row, c));
    const mean = s / <f32>width;
    const mean4 = f32x4.splat(mean);
    let q4 = f32x4.splat(0);
    for (let c = 0; c < vectorEnd; c += 4) {
      const d = f32x4.sub(v128.load(at(row, c)), mean4);
      q4 = f32x4.add(q4, f32x4.mul(d, d));
    }
    let q = sum4(q4);
    for (let c = vectorEnd; c < width; c++) {
      const d = load<f32>(at(row, c)) - mean;
      q += d * d;
    }
    const inverse = <f32>1.0 / Mathf.sqrt(q / <f32>width + layerNormEpsilon);
    const inverse4 = f32x4.splat(inverse);
    for (let c = 0; c < vectorEnd; c += 4) {
      const normalized = f32x4.mul(f32x4.sub(v128.load(at(row, c)), mean4), inverse4);
      v128.store(at(out, c), f32x4.add(f32x4.mul(normalized, v128.load(at(gain, c))), v128.load(at(bias, c))));
    }
    for (let c = vectorEnd; c < width; c++) {
      const normalized = (load<f32>(at(row, c)) - mean) * inverse;
      store<f32>(at(out, c), normalized * load<f32>(at(gain, c)) + load<f32>(at(bias, c)));
    }
    store<f32>(at(stats, 2 * r), mean);
    store<f32>(at(stats, 2 * r + 1), inverse);
  }
}

/**
 * Layer norm's backward pass: dx = (1/σ)·(d − mean(d) − x̂·mean(d·x̂)) with d = dy·gain, and
 * params = [dGain; dBias] = [Σ dy·x̂; Σ dy] down the rows (2 × width).
 */
export function layerNormGrad(
  x: usize,
  stats: usize,
  gain: usize,
  dy: usize,
  dx: usize,
  params: usize,
  rows: i32,
  width: i32,
): void {
  const vectorEnd = width & ~3;
  const dBias = params + (<usize>width << 2);
  memory.fill(params, 0, <usize>(2 * width) << 2);
  for (let r = 0; r < rows; r++) {
    const offset = <usize>(r * width) << 2;
    const xr = x + offset;
    const dyr = dy + offset;
    const dxr = dx + offset;
    const mean = load<f32>(at(stats, 2 * r));
    const inverse = load<f32>(at(stats, 2 * r + 1));
    const mean4 = f32x4.splat(mean);
    const inverse4 = f32x4.splat(inverse);
    let a4 = f32x4.splat(0);
    let b4 = f32x4.splat(0);
    for (let c = 0; c < vectorEnd; c += 4) {
      const d = f32x4.mul(v128.load(at(dyr, c)), v128.load(at(gain, c)));
      const xhat = f32x4.mul(f32x4.sub(v128.load(at(xr, c)), mean4), inverse4);
      a4 = f32x4.add(a4, d);
      b4 = f32x4.add(b4, f32x4.mul(d, xhat));
    }
    let a = sum4(a4);
    let b = sum4(b4);
    for (let c = vectorEnd; c < width; c++) {
      const d = load<f32>(at(dyr, c)) * load<f32>(at(gain, c));
      a += d;
      b += d * ((load<f32>(at(xr, c)) - mean) * inverse);
    }
    const meanD = f32x4.splat(a / <f32>width);
    const meanDX = f32x4.splat(b / <f32>width);
    for (let c = 0; c < vectorEnd; c += 4) {
      const g = v128.load(at(dyr, c));
      const d = f32x4.mul(g, v128.load(at(gain, c)));
      const xhat = f32x4.mul(f32x4.sub(v128.load(at(xr, c)), mean4), inverse4);
      v128.store(at(dxr, c), f32x4.mul(inverse4, f32x4.sub(f32x4.sub(d, meanD), f32x4.mul(xhat, meanDX))));
      v128.store(at(params, c), f32x4.add(v128.load(at(params, c)), f32x4.mul(g, xhat)));
      v128.store(at(dBias, c), f32x4.add(v128.load(at(dBias, c)), g));
    }
    for (let c = vectorEnd; c < width; c++) {
      const g = load<f32>(at(dyr, c));
      const d = g * load<f32>(at(gain, c));
      const xhat = (load<f32>(at(xr, c)) - mean) * inverse;
      store<f32>(at(dxr, c), inverse * (d - f32x4.extract_lane(meanD, 0) - xhat * f32x4.extract_lane(meanDX, 0)));
      store<f32>(at(params, c), load<f32>(at(params, c)) + g * xhat);
      store<f32>(at(dBias, c), load<f32>(at(dBias, c)) + g);
    }
  }
}

/**
 * Attention's weights: rows of `width` (T) scores, row r being query position r mod T, which sees keys
 * 0..that position: y = softmax(scores · scale) over those keys, 0 for the rest.
 */
export function causalSoftmax(scores: usize, y: usize, rows: i32, width: i32, scale: f32): void {
  const scale4 = f32x4.splat(scale);
  for (let r = 0; r < rows; r++) {
    const offset = <usize>(r * width) << 2;
    const sr = scores + offset;
    const yr = y + offset;
    const seen = (r % width) + 1;
    const vectorEnd = seen & ~3;
    let most4 = f32x4.splat(-3.402823e38);
    for (let c = 0; c < vectorEnd; c += 4) most4 = f32x4.max(most4, f32x4.mul(v128.load(at(sr, c)), scale4));
    let most = max4(most4);
    for (let c = vectorEnd; c < seen; c++) most = Mathf.max(most, load<f32>(at(sr, c)) * scale);
    const most4b = f32x4.splat(most);
    let total4 = f32x4.splat(0);
    for (let c = 0; c < vectorEnd; c += 4) {
      const e = exp4(f32x4.sub(f32x4.mul(v128.load(at(sr, c)), scale4), most4b));
      v128.store(at(yr, c), e);
      total4 = f32x4.add(total4, e);
    }
    let total = sum4(total4);
    for (let c = vectorEnd; c < seen; c++) {
      const e = exp1(load<f32>(at(sr, c)) * scale - most);
      store<f32>(at(yr, c), e);
      total += e;
    }
    const inverse4 = f32x4.splat(<f32>1.0 / total);
    for (let c = 0; c < vectorEnd; c += 4) v128.store(at(yr, c), f32x4.mul(v128.load(at(yr, c)), inverse4));
    for (let c = vectorEnd; c < seen; c++) store<f32>(at(yr, c), load<f32>(at(yr, c)) / total);
    memory.fill(at(yr, seen), 0, <usize>(width - seen) << 2);
  }
}

/** Softmax's backward pass over rows of `width`: dx = scale · y ⊙ (dy − Σ dy ⊙ y). */
export function softmaxGrad(y: usize, dy: usize, dx: usize, rows: i32, width: i32, scale: f32): void {
  const vectorEnd = width & ~3;
  const scale4 = f32x4.splat(scale);
  for (let r = 0; r < rows; r++) {
    const offset = <usize>(r * width) << 2;
    const yr = y + offset;
    const dyr = dy + offset;
    const dxr = dx + offset;
    let s4 = f32x4.splat(0);
    for (let c = 0; c < vectorEnd; c += 4) s4 = f32x4.add(s4, f32x4.mul(v128.load(at(dyr, c)), v128.load(at(yr, c))));
    let s = sum4(s4);
    for (let c = vectorEnd; c < width; c++) s += load<f32>(at(dyr, c)) * load<f32>(at(yr, c));
    const total4 = f32x4.splat(s);
    for (let c = 0; c < vectorEnd; c += 4) {
      const value = f32x4.mul(v128.load(at(yr, c)), f32x4.sub(v128.load(at(dyr, c)), total4));
      v128.store(at(dxr, c), f32x4.mul(value, scale4));
    }
    for (let c = vectorEnd; c < width; c++)
      store<f32>(at(dxr, c), load<f32>(at(yr, c)) * (load<f32>(at(dyr, c)) - s) * scale);
  }
}

/** AdamW's moment: out = moment·decay + g^power·weights[power − 1] (power 1 or 2; weights: 2 floats). */
export function adamWMoment(moment: usize, g: usize, weights: usize, out: usize, n: i32, decay: f32, power: i32): void {
  const weight = load<f32>(at(weights, power - 1));
  const decay4 = f32x4.splat(decay);
  const weight4 = f32x4.splat(weight);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    let term = v128.load(at(g, i));
    if (power == 2) term = f32x4.mul(term, term);
    v128.store(at(out, i), f32x4.add(f32x4.mul(v128.load(at(moment, i)), decay4), f32x4.mul(term, weight4)));
  }
  for (; i < n; i++) {
    let term = load<f32>(at(g, i));
    if (power == 2) term = term * term;
    store<f32>(at(out, i), load<f32>(at(moment, i)) * decay + term * weight);
  }
}

/** AdamW's step: out = w·keep − stepSize · m / (√v + ε̂). */
export function adamWStep(w: usize, m: usize, v: usize, out: usize, n: i32, keep: f32, stepSize: f32, epsilonHat: f32): void {
  const keep4 = f32x4.splat(keep);
  const step4 = f32x4.splat(stepSize);
  const epsilon4 = f32x4.splat(epsilonHat);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const change = f32x4.mul(
      f32x4.div(v128.load(at(m, i)), f32x4.add(f32x4.sqrt(v128.load(at(v, i))), epsilon4)),
      step4,
    );
    v128.store(at(out, i), f32x4.sub(f32x4.mul(v128.load(at(w, i)), keep4), change));
  }
  for (; i < n; i++) {
    const change = (load<f32>(at(m, i)) / (Mathf.sqrt(load<f32>(at(v, i))) + epsilonHat)) * stepSize;
    store<f32>(at(out, i), load<f32>(at(w, i)) * keep - change);
  }
}

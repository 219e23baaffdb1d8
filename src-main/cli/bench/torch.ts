import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { type BenchModel, engineBench } from '../../../src-shared/engine/bench';
import { tf } from '../../../src-shared/engine/tf';
import type { GradientHelpers } from '../../../src-shared/engine/trainer-types';
import { installedFile } from '../installed';

/**
 * The engine against PyTorch on the same model and step (bench/torch_gpt.py, written to match gpt.ts
 * layer for layer), in alternating rounds so that both meet the same spells of load; each side's figure
 * is its fastest round. PyTorch uses every core (its default); the engine what its backend has.
 */

export interface TorchFigures {
  tokensPerSec: number;
  params: number;
  threads: number;
  device: string;
  torch: string;
  /** a 512³ fp32 matmul's GFLOP/s: says whether PyTorch has a real BLAS */
  matmulGflops: number;
}

export interface VsTorch {
  model: BenchModel;
  steps: number;
  rounds: number;
  /** dataParallel: the threads that shared each batch (data parallelism), or null for one */
  engine: { tokensPerSec: number; gflops: number; backend: string; params: number; dataParallel: number | null };
  /** null where python3 cannot import torch (`torchMissing` says why) */
  torch: TorchFigures | null;
  torchMissing: string | null;
  /** engine tokens/s over PyTorch's; null without PyTorch */
  ratio: number | null;
}

/**
 * The interpreters tried, in order: ISOFLOP_PYTHON alone when set, else python3 on the PATH and then the
 * system's (a pyenv or venv python3 on the PATH often lacks the torch Debian installed for /usr/bin/python3).
 */
const candidates = () => (process.env.ISOFLOP_PYTHON ? [process.env.ISOFLOP_PYTHON] : ['python3', '/usr/bin/python3']);
let chosen: string | null = null;
const python = () => chosen ?? candidates()[0] ?? 'python3';

/** bench/torch_gpt.py, the PyTorch side of the comparison. */
export const torchScript = () => installedFile(join('bench', 'torch_gpt.py'), 'bench --vs-torch cannot run PyTorch');

/** Why PyTorch cannot run here, or null when it can (and which python has it). */
export function torchUnavailable(): string | null {
  const reasons: string[] = [];
  for (const candidate of candidates()) {
    const probe = spawnSync(candidate, ['-c', 'import torch'], { encoding: 'utf8', timeout: 120_000 });
    if (!probe.error && probe.status === 0) {
      chosen = candidate;
      return null;
    }
    reasons.push(
      probe.error
        ? `${candidate} could not be started (${probe.error.message})`
        : `${candidate} cannot import torch (${probe.stderr.trim().split('\n').at(-1) ?? `exit ${probe.status}`})`,
    );
  }
  return `${reasons.join('; ')}. Install it (Debian: apt install python3-torch libopenblas0; else pip install torch), or name the interpreter with ISOFLOP_PYTHON`;
}

function torchRound(model: BenchModel, steps: number): Promise<TorchFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(python(), [torchScript(), '--model', model, '--steps', String(steps), '--rounds', '1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    // A round is seconds on a CPU; ten minutes means PyTorch hung.
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`bench/torch_gpt.py failed (exit ${code}): ${err.trim().split('\n').at(-1) ?? ''}`));
        return;
      }
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '') as TorchFigures);
      } catch {
        reject(new Error(`bench/torch_gpt.py printed no result: ${out.slice(0, 200)}`));
      }
    });
  });
}

export async function benchVsTorch(
  model: BenchModel,
  steps: number,
  rounds: number,
  log: (line: string) => void,
  helpers: GradientHelpers | null = null,
): Promise<VsTorch> {
  if (model === 'mlp') throw new Error('--vs-torch compares the transformer: use --model gpt-small or gpt-medium');
  const missing = torchUnavailable();
  if (missing) log(`PyTorch is not available: ${missing}. Measuring the engine alone.`);
  const engine = engineBench(model, helpers);
  try {
    await engine.time(1); // compile kernels outside the timing
    let engineBest = Number.POSITIVE_INFINITY;
    let torchBest: TorchFigures | null = null;
    for (let round = 0; round < rounds; round++) {
      engineBest = Math.min(engineBest, await engine.time(steps));
      log(`round ${round + 1}/${rounds}: engine ${((steps * engine.tokensPerStep) / engineBest).toFixed(0)} tokens/s`);
      if (missing) continue;
      const figures = await torchRound(model, steps);
      if (!torchBest || figures.tokensPerSec > torchBest.tokensPerSec) torchBest = figures;
      if (round === 0 && figures.device === 'cpu' && figures.matmulGflops < 30)
        log(
          `PyTorch multiplies 512x512 matrices at ${figures.matmulGflops.toFixed(1)} GFLOP/s here: it is on the reference BLAS, which understates it many times over (Debian: apt install libopenblas0).`,
        );
      log(
        `round ${round + 1}/${rounds}: PyTorch ${figures.tokensPerSec.toFixed(0)} tokens/s on ${figures.threads} threads`,
      );
    }
    const tokensPerSec = (steps * engine.tokensPerStep) / engineBest;
    return {
      model,
      steps,
      rounds,
      engine: {
        tokensPerSec,
        gflops: (tokensPerSec * engine.flopsPerToken) / 1e9,
        backend: tf.getBackend(),
        params: engine.params,
        dataParallel: helpers ? helpers.count + 1 : null,
      },
      torch: torchBest,
      torchMissing: missing,
      ratio: torchBest ? tokensPerSec / torchBest.tokensPerSec : null,
    };
  } finally {
    engine.dispose();
  }
}

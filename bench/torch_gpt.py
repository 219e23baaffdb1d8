#!/usr/bin/env python3
"""The engine's GPT and training step in PyTorch, for `isoflop bench --vs-torch`.

Written to match src-shared/engine/models/gpt.ts layer for layer: learned token and position embeddings,
pre-LayerNorm blocks (eps 1e-5) of causal self-attention (one QKV projection with bias, an output
projection with bias) and a GELU (tanh) feed-forward layer of 4 d_model, a final LayerNorm, and the
unembedding tied to the token embedding. Initialised as GPT-2 (normal 0.02, residual projections
0.02/sqrt(2L)). The step is the engine's: mean cross-entropy over every position, gradients clipped to a
global norm of 1, AdamW (betas 0.9/0.95, eps 1e-8, decoupled weight decay 0.1 on the weight matrices and
embeddings only), the loss read every 10 steps. Batches are random windows of a random a-z corpus.

Prints one JSON object: the fastest round's tokens per second, and what it ran on.
"""

import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

MODELS = {
    # vocab, context, d_model, layers, heads, batch: src-shared/engine/ladder.ts (gptSmall, gptMedium)
    "gpt-small": dict(vocab=256, context=128, d=128, layers=4, heads=4, batch=32),
    "gpt-medium": dict(vocab=256, context=128, d=256, layers=4, heads=4, batch=32),
}


class Block(nn.Module):
    def __init__(self, d, heads, layers):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d, eps=1e-5)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d, eps=1e-5)
        self.fc = nn.Linear(d, 4 * d)
        self.out = nn.Linear(4 * d, d)
        for linear, std in ((self.qkv, 0.02), (self.proj, 0.02 / math.sqrt(2 * layers)),
                            (self.fc, 0.02), (self.out, 0.02 / math.sqrt(2 * layers))):
            nn.init.normal_(linear.weight, std=std)
            nn.init.zeros_(linear.bias)

    def forward(self, x, mask):
        b, t, d = x.shape
        h = self.heads
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q, k, v = (part.view(b, t, h, d // h).transpose(1, 2) for part in (q, k, v))
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d // h)) + mask[:t, :t]
        mixed = (F.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(mixed)
        return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class Gpt(nn.Module):
    def __init__(self, vocab, context, d, layers, heads):
        super().__init__()
        self.wte = nn.Parameter(torch.randn(vocab, d) * 0.02)
        self.wpe = nn.Parameter(torch.randn(context, d) * 0.02)
        self.blocks = nn.ModuleList(Block(d, heads, layers) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d, eps=1e-5)
        self.register_buffer("mask", torch.triu(torch.full((context, context), -1e9), diagonal=1))

    def forward(self, ids):
        t = ids.shape[1]
        x = self.wte[ids] + self.wpe[:t]
        for block in self.blocks:
            x = block(x, self.mask)
        return self.ln_f(x) @ self.wte.t()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="gpt-small")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    args = parser.parse_args()

    torch.manual_seed(1)
    torch.set_num_threads(args.threads)
    device = "cuda" if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available()) else "cpu"
    # fp32 throughout, as the engine computes: no TF32 on GPUs that have it.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False

    spec = MODELS[args.model]
    model = Gpt(spec["vocab"], spec["context"], spec["d"], spec["layers"], spec["heads"]).to(device)
    decay = [p for name, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for name, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
        lr=1e-3, betas=(0.9, 0.95), eps=1e-8,
    )
    corpus = torch.randint(97, 97 + 26, (1 << 18,), dtype=torch.long)
    context, batch = spec["context"], spec["batch"]

    def batches():
        starts = torch.randint(0, corpus.numel() - context - 1, (batch,))
        windows = torch.stack([corpus[s:s + context + 1] for s in starts.tolist()]).to(device)
        return windows[:, :-1], windows[:, 1:]

    def step(i):
        x, y = batches()
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if (i + 1) % 10 == 0:
            loss.item()

    def sync():
        if device == "cuda":
            torch.cuda.synchronize()

    step(0)  # warm-up: allocation and, on a GPU, kernel selection
    sync()
    best = math.inf
    for _ in range(args.rounds):
        started = time.perf_counter()
        for i in range(args.steps):
            step(i)
        sync()
        best = min(best, time.perf_counter() - started)
    tokens = args.steps * batch * context
    # A 512^3 matmul's rate: Debian's python3-torch without OpenBLAS falls back to the reference BLAS, ~35x slower.
    a, b = torch.randn(512, 512, device=device), torch.randn(512, 512, device=device)
    sync()
    started = time.perf_counter()
    for _ in range(20):
        a @ b
    sync()
    matmul_gflops = 20 * 2 * 512**3 / (time.perf_counter() - started) / 1e9
    print(json.dumps({
        "model": args.model,
        "tokensPerSec": tokens / best,
        "seconds": best,
        "steps": args.steps,
        "params": sum(p.numel() for p in model.parameters()),
        "threads": torch.get_num_threads(),
        "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
        "torch": torch.__version__,
        "matmulGflops": matmul_gflops,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""PyTorch CPU equivalent of bench/transformer_step.ts: one training step of the same GPT-2
style model (shared/MODELS.md: pre-LayerNorm, no dropout, gelu_tanh, LayerNorm eps 1e-5, tied
head; layers 2, dModel 64 (--d-model), heads 4, context 64, vocabulary 256) on 16 random byte windows:
forward, mean next-token cross-entropy, backward, one SGD update. Prints the median time per
step and tokens per second (1024 target tokens a step).

Run: python3 bench/transformer_step_torch.py [--threads N] [--steps 20] [--json]
(--threads 0 keeps PyTorch's default). With N > 0 the BLAS library's own thread pools (OpenBLAS,
MKL, OpenMP) are limited to N too, since torch.set_num_threads does not reach all of them; the
result names the BLAS PyTorch was built against (Debian's python3-torch uses whichever
libblas.so.3 is selected: the reference BLAS is several times slower than OpenBLAS).
"""

import argparse
import json
import math
import os
import time

PARSER = argparse.ArgumentParser()
PARSER.add_argument("--threads", type=int, default=1)
PARSER.add_argument("--steps", type=int, default=20)
PARSER.add_argument("--json", action="store_true")
PARSER.add_argument("--d-model", type=int, default=64)
ARGS = PARSER.parse_args()
if ARGS.threads > 0:
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(ARGS.threads)

import torch  # noqa: E402 (after the thread limits, which are read at load)
import torch.nn.functional as F  # noqa: E402

LAYERS, D, HEADS, T, V, BATCH = 2, ARGS.d_model, 4, 64, 256, 16


class Block(torch.nn.Module):
    """One pre-LayerNorm block: causal self-attention, then the gelu_tanh MLP."""

    def __init__(self):
        super().__init__()
        self.ln_1 = torch.nn.LayerNorm(D, eps=1e-5)
        self.c_attn = torch.nn.Linear(D, 3 * D)
        self.c_proj = torch.nn.Linear(D, D)
        self.ln_2 = torch.nn.LayerNorm(D, eps=1e-5)
        self.c_fc = torch.nn.Linear(D, 4 * D)
        self.mlp_proj = torch.nn.Linear(4 * D, D)
        self.register_buffer("mask", torch.triu(torch.ones(T, T, dtype=torch.bool), 1))

    def forward(self, h):
        b, t, _ = h.shape
        q, k, v = self.c_attn(self.ln_1(h)).split(D, dim=2)
        heads = lambda y: y.view(b, t, HEADS, D // HEADS).transpose(1, 2)
        q, k, v = heads(q), heads(k), heads(v)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(D // HEADS)
        scores = scores.masked_fill(self.mask[:t, :t], float("-inf"))
        attended = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, D)
        h = h + self.c_proj(attended)
        return h + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(h)), approximate="tanh"))


class Gpt(torch.nn.Module):
    """Token and position embeddings, the blocks, ln_f and the head tied to wte."""

    def __init__(self):
        super().__init__()
        self.wte = torch.nn.Embedding(V, D)
        self.wpe = torch.nn.Embedding(T, D)
        self.blocks = torch.nn.ModuleList(Block() for _ in range(LAYERS))
        self.ln_f = torch.nn.LayerNorm(D, eps=1e-5)
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                torch.nn.init.zeros_(p)
            elif "ln_" in name:
                torch.nn.init.ones_(p)
            else:
                std = 0.02 / math.sqrt(2 * LAYERS) if "proj" in name else 0.02
                torch.nn.init.normal_(p, 0.0, std)

    def forward(self, ids):
        h = self.wte(ids) + self.wpe.weight[: ids.shape[1]]
        for block in self.blocks:
            h = block(h)
        return self.ln_f(h) @ self.wte.weight.T


def blas():
    """The BLAS library this process loaded (read from /proc/self/maps on Linux)."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            for line in maps:
                path = line.split()[-1]
                if "blas" in os.path.basename(path) or "mkl_rt" in path:
                    return os.path.realpath(path)
    except OSError:
        pass
    return "BLAS not found in /proc/self/maps"


def main():
    args = ARGS
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = Gpt()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    times = []
    for step in range(-3, args.steps):
        stream = torch.randint(0, V, (BATCH, T + 1))
        x, y = stream[:, :-1], stream[:, 1:]
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x).reshape(-1, V), y.reshape(-1))
        loss.backward()
        optimizer.step()
        if step >= 0:
            times.append(time.perf_counter() - start)
    times.sort()
    median = times[len(times) // 2] * 1000
    result = {
        "implementation": "pytorch " + torch.__version__ + " cpu",
        "threads": args.threads if args.threads > 0 else "default",
        "torchThreads": torch.get_num_threads(),
        "msPerStep": median,
        "tokensPerSecond": BATCH * T / (median / 1000),
        "parameters": sum(p.numel() for p in model.parameters()),
        "blas": blas(),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['implementation']}, threads {result['threads']} (torch "
            f"{result['torchThreads']}): {result['parameters']} "
            f"parameters, median {median:.1f} ms/step over {args.steps} steps, "
            f"{result['tokensPerSecond']:.0f} tokens/s ({result['blas']})"
        )


if __name__ == "__main__":
    main()

"""PyTorch timing of the saliency pass analyses/bench-runtime.ts measures on leaf's `native` backend.

One sample, batch 1: a Llama-shape decoder (RMSNorm, RoPE rotate-half, causal softmax attention,
SwiGLU MLP, untied LM head) with random float32 weights, frozen; forward from the input
embeddings (which require grad), mean NLL of the response tokens (the second half of the sequence;
the row before each target predicts it, and the LM head runs on those rows only, as leaf does),
backward to the embeddings. Written independently of leaf's code.

  /usr/bin/python3 analyses/torch_saliency.py '{"layers":12,"hidden":768,"heads":12,"intermediate":2048,
      "vocab":32000,"tokens":128,"threads":2,"reps":5}'

Prints one JSON line: {"median_ms", "times_ms", "threads", "torch"}. With "serve": true it instead
warms up, prints {"ready": true, ...}, then times one pass per line read from stdin and prints its
milliseconds, so a caller can interleave its own passes with these under the same machine load.
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F


def main():
    spec = json.loads(sys.argv[1])
    if spec.get("threads"):
        torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    d, h, layers, inter, vocab, T = (spec[k] for k in ("hidden", "heads", "layers", "intermediate", "vocab", "tokens"))
    hd = d // h

    def w(*shape):
        return torch.randn(*shape) * 0.02

    weights = [
        {"q": w(d, d), "k": w(d, d), "v": w(d, d), "o": w(d, d), "gate": w(inter, d), "up": w(inter, d),
         "down": w(d, inter), "n1": torch.ones(d), "n2": torch.ones(d)}
        for _ in range(layers)
    ]
    norm_f, head, table = torch.ones(d), w(vocab, d), w(vocab, d)

    inv = 1.0 / (10000.0 ** (torch.arange(0, hd, 2).float() / hd))
    ang = torch.outer(torch.arange(T).float(), inv)
    cos, sin = torch.cat([ang.cos(), ang.cos()], -1), torch.cat([ang.sin(), ang.sin()], -1)
    causal = torch.full((T, T), float("-inf")).triu(1)

    def rms(x, g):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * g

    def rope(x):
        x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    ids = torch.randint(0, vocab, (T,))
    rows = torch.arange(T // 2 - 1, T - 1)  # rows predicting the response tokens
    targets = ids[rows + 1]

    def saliency():
        e = table[ids].clone().requires_grad_(True)
        x = e
        for L in weights:
            a = rms(x, L["n1"])
            q = rope((a @ L["q"].T).view(T, h, hd).transpose(0, 1))
            k = rope((a @ L["k"].T).view(T, h, hd).transpose(0, 1))
            v = (a @ L["v"].T).view(T, h, hd).transpose(0, 1)
            p = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(hd) + causal, -1)
            x = x + (p @ v).transpose(0, 1).reshape(T, d) @ L["o"].T
            m = rms(x, L["n2"])
            x = x + (F.silu(m @ L["gate"].T) * (m @ L["up"].T)) @ L["down"].T
        logits = rms(x, norm_f)[rows] @ head.T
        loss = F.cross_entropy(logits, targets)
        (grad,) = torch.autograd.grad(loss, e)
        return grad.norm(dim=-1)

    for _ in range(2):
        saliency()
    info = {"threads": torch.get_num_threads(), "torch": torch.__version__}
    if spec.get("serve"):
        print(json.dumps({"ready": True, **info}), flush=True)
        for _ in sys.stdin:
            start = time.perf_counter()
            saliency()
            print((time.perf_counter() - start) * 1000, flush=True)
        return
    times = []
    for _ in range(spec.get("reps", 5)):
        start = time.perf_counter()
        saliency()
        times.append((time.perf_counter() - start) * 1000)
    print(json.dumps({"median_ms": sorted(times)[len(times) // 2], "times_ms": times, **info}))


if __name__ == "__main__":
    main()

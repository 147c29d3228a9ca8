"""PyTorch reference for analyses/bench-distill.ts: the same distillation step in PyTorch.

One step = teacher forward (no grad) + student forward/backward on the rows that predict
response tokens + forward KL (T = 1, per-sample mean) + global-norm clipping + AdamW. Llama-style
decoders (RMSNorm, RoPE rotate-half, GQA, SwiGLU, untied head) with random weights.

  /usr/bin/python3 analyses/bench-distill-torch.py '{"teacher": {...}, "student": {...}, "vocab": 8192, ...}'

Prints one JSON line: {"step_ms": [...], "peak_rss_bytes": N, "threads": N, "torch": "1.13"}.
"""
import json
import math
import resource
import sys
import time

import torch
import torch.nn.functional as F


class RMSNorm(torch.nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


class Layer(torch.nn.Module):
    def __init__(self, d, heads, kv_heads, inter):
        super().__init__()
        self.heads, self.kv_heads, self.hd = heads, kv_heads, d // heads
        self.q = torch.nn.Linear(d, heads * self.hd, bias=False)
        self.k = torch.nn.Linear(d, kv_heads * self.hd, bias=False)
        self.v = torch.nn.Linear(d, kv_heads * self.hd, bias=False)
        self.o = torch.nn.Linear(heads * self.hd, d, bias=False)
        self.gate = torch.nn.Linear(d, inter, bias=False)
        self.up = torch.nn.Linear(d, inter, bias=False)
        self.down = torch.nn.Linear(inter, d, bias=False)
        self.n1, self.n2 = RMSNorm(d), RMSNorm(d)

    def forward(self, x, cos, sin, mask):
        B, T, _ = x.shape
        h = self.n1(x)
        q = self.q(h).view(B, T, self.heads, self.hd).transpose(1, 2)
        k = self.k(h).view(B, T, self.kv_heads, self.hd).transpose(1, 2)
        v = self.v(h).view(B, T, self.kv_heads, self.hd).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        rep = self.heads // self.kv_heads
        k, v = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.hd) + mask
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, T, -1)
        x = x + self.o(ctx)
        h = self.n2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Decoder(torch.nn.Module):
    def __init__(self, vocab, d, layers, heads, kv_heads, inter):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, d)
        self.layers = torch.nn.ModuleList([Layer(d, heads, kv_heads, inter) for _ in range(layers)])
        self.norm = RMSNorm(d)
        self.head = torch.nn.Linear(d, vocab, bias=False)
        self.hd = d // heads
        for p in self.parameters():
            if p.dim() > 1:
                torch.nn.init.normal_(p, std=0.02)

    def hidden(self, ids):
        B, T = ids.shape
        inv = 1.0 / (10000 ** (torch.arange(0, self.hd, 2).float() / self.hd))
        freqs = torch.outer(torch.arange(T).float(), inv)
        emb = torch.cat([freqs, freqs], -1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        mask = torch.full((T, T), -1e9).triu(1)
        x = self.embed(ids)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.norm(x)


def main():
    cfg = json.loads(sys.argv[1])
    torch.manual_seed(0)
    torch.set_num_threads(cfg.get("threads", torch.get_num_threads()))
    V, B, T, R = cfg["vocab"], cfg["batch"], cfg["length"], cfg["response"]
    teacher = Decoder(V, **cfg["teacher"]).eval()
    student = Decoder(V, **cfg["student"])
    for p in teacher.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(student.parameters(), lr=1e-4, weight_decay=0.0)
    ids = torch.randint(0, V, (B, T))
    # Rows that predict the last R tokens of every sample (the shifted response mask), flattened.
    rows = torch.tensor([b * T + i - 1 for b in range(B) for i in range(T - R, T)])
    coef = torch.full((B * R,), 1.0 / (R * B))
    times = []
    for _ in range(cfg["warmup"] + cfg["steps"]):
        start = time.perf_counter()
        with torch.no_grad():
            t_hidden = teacher.hidden(ids).reshape(B * T, -1)[rows]
            t_logp = F.log_softmax(teacher.head(t_hidden), -1)
        s_hidden = student.hidden(ids).reshape(B * T, -1)[rows]
        s_logp = F.log_softmax(student.head(s_hidden), -1)
        kl = (t_logp.exp() * (t_logp - s_logp)).sum(-1)
        loss = (kl * coef).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt.step()
        times.append((time.perf_counter() - start) * 1000)
    print(json.dumps({
        "step_ms": times[cfg["warmup"]:],
        "loss": float(loss),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()

"""PyTorch reference for analyses/bench-analyze.ts: the same Stage-1 algorithm in PyTorch 1.13.

Per sample, batch 1 as the authors' scripts run it, for the teacher and then the student: forward
from the input embeddings (weights frozen, embeddings requiring grad), mean NLL of the response
tokens (the row before each target predicts it), backward to the embeddings, per-token L2 norm;
then min-max normalise the region's norms per model and take delta = teacher - student (both
models share the tokenizer in the benchmark, so no projection). Llama layout (RMSNorm, RoPE
rotate-half, SwiGLU, untied head), weights read from the same safetensors files leaf uses.

  /usr/bin/python3 analyses/bench-analyze-torch.py SAMPLES.json

SAMPLES.json: {"teacher": DIR, "student": DIR, "threads": N, "samples": [{"ids": [...],
"targets": [...], "scored": [...]}]}. Prints one JSON line: {"sample_s": [...], "deltas": [[...]...]}.
"""
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        buf = bytearray(raw[8 + n + start:8 + n + end])
        out[name] = torch.frombuffer(buf, dtype=DTYPES[info["dtype"]]).reshape(info["shape"]).float()
    return out


class Llama:
    def __init__(self, directory):
        with open(os.path.join(directory, "config.json")) as f:
            self.c = json.load(f)
        self.w = read_safetensors(os.path.join(directory, "model.safetensors"))
        c = self.c
        self.heads, self.kv = c["num_attention_heads"], c["num_key_value_heads"]
        self.hd = c["hidden_size"] // self.heads
        self.eps = c["rms_norm_eps"]
        self.head = self.w["model.embed_tokens.weight"] if c.get("tie_word_embeddings") else self.w["lm_head.weight"]

    def norm(self, x, name):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.w[name]

    def hidden(self, x):
        T = x.shape[0]
        theta = self.c.get("rope_theta", 10000.0)
        inv = 1.0 / (theta ** (torch.arange(0, self.hd, 2).float() / self.hd))
        freqs = torch.outer(torch.arange(T).float(), inv)
        emb = torch.cat([freqs, freqs], -1)
        cos, sin = emb.cos(), emb.sin()
        mask = torch.full((T, T), float("-inf")).triu(1)

        def rot(t):
            half = t.shape[-1] // 2
            return torch.cat([-t[..., half:], t[..., :half]], -1)

        for i in range(self.c["num_hidden_layers"]):
            p = "model.layers.%d." % i
            h = self.norm(x, p + "input_layernorm.weight")
            q = (h @ self.w[p + "self_attn.q_proj.weight"].T).view(T, self.heads, self.hd).transpose(0, 1)
            k = (h @ self.w[p + "self_attn.k_proj.weight"].T).view(T, self.kv, self.hd).transpose(0, 1)
            v = (h @ self.w[p + "self_attn.v_proj.weight"].T).view(T, self.kv, self.hd).transpose(0, 1)
            q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
            rep = self.heads // self.kv
            k, v = k.repeat_interleave(rep, 0), v.repeat_interleave(rep, 0)
            a = ((q @ k.transpose(-1, -2)) / math.sqrt(self.hd) + mask).softmax(-1) @ v
            x = x + a.transpose(0, 1).reshape(T, -1) @ self.w[p + "self_attn.o_proj.weight"].T
            h = self.norm(x, p + "post_attention_layernorm.weight")
            gate = F.silu(h @ self.w[p + "mlp.gate_proj.weight"].T) * (h @ self.w[p + "mlp.up_proj.weight"].T)
            x = x + gate @ self.w[p + "mlp.down_proj.weight"].T
        return self.norm(x, "model.norm.weight")

    def grad_norms(self, ids, targets):
        embeds = self.w["model.embed_tokens.weight"][torch.tensor(ids)].clone().requires_grad_(True)
        hidden = self.hidden(embeds)
        rows = hidden[torch.tensor(targets) - 1]
        logp = (rows @ self.head.T).log_softmax(-1)
        loss = -logp[torch.arange(len(targets)), torch.tensor([ids[t] for t in targets])].mean()
        loss.backward()
        return embeds.grad.norm(dim=-1)


def minmax(v):
    lo, hi = v.min(), v.max()
    return (v - lo) / (hi - lo) if hi > lo else torch.zeros_like(v)


def main():
    spec = json.load(open(sys.argv[1]))
    torch.set_num_threads(spec["threads"])
    teacher, student = Llama(spec["teacher"]), Llama(spec["student"])
    times, deltas = [], []
    for k, s in enumerate([spec["samples"][0]] + spec["samples"]):  # the first pass is a warm-up
        start = time.perf_counter()
        scored = torch.tensor(s["scored"])
        g_t = teacher.grad_norms(s["ids"], s["targets"])[scored]
        g_s = student.grad_norms(s["ids"], s["targets"])[scored]
        delta = minmax(g_t) - minmax(g_s)
        if k > 0:
            times.append(time.perf_counter() - start)
            deltas.append(delta.tolist())
    print(json.dumps({"sample_s": times, "deltas": deltas, "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()

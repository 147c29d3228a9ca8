"""A Hugging Face Llama/Qwen2 decoder in plain PyTorch, read from the safetensors files leaf reads.

RMSNorm, RoPE rotate-half, grouped-query attention, SwiGLU, q/k/v (and other) biases wherever the
checkpoint has them (Qwen2 has q/k/v biases), tied or untied LM head; weights widened to float32
as leaf does. Written independently of leaf's code: the PyTorch side of leaf's benchmarks.
"""
import json
import math
import os
import struct
import time

import torch
import torch.nn.functional as F


def read_checkpoint(directory):
    """name -> float32 tensor, read tensor by tensor (no whole-file copy in memory)."""
    index = os.path.join(directory, "model.safetensors.index.json")
    if os.path.exists(index):
        files = sorted(set(json.load(open(index))["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    out = {}
    for file in files:
        with open(os.path.join(directory, file), "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n))
            for name, info in header.items():
                if name == "__metadata__":
                    continue
                start, end = info["data_offsets"]
                f.seek(8 + n + start)
                raw = bytearray(f.read(end - start))
                if info["dtype"] == "F32":
                    t = torch.frombuffer(raw, dtype=torch.float32).clone()
                elif info["dtype"] == "BF16":
                    t = torch.frombuffer(raw, dtype=torch.bfloat16).float()
                elif info["dtype"] == "F16":
                    t = torch.frombuffer(raw, dtype=torch.float16).float()
                else:
                    raise ValueError("%s: unsupported dtype %s" % (name, info["dtype"]))
                out[name] = t.reshape(info["shape"])
                del raw
    return out


class HfDecoder(torch.nn.Module):
    def __init__(self, directory, trainable):
        super().__init__()
        with open(os.path.join(directory, "config.json")) as f:
            self.c = c = json.load(f)
        w = read_checkpoint(directory)
        self.p = torch.nn.ParameterDict({k.replace(".", "__"): torch.nn.Parameter(v, requires_grad=trainable) for k, v in w.items()})
        del w
        self.heads, self.kv = c["num_attention_heads"], c["num_key_value_heads"]
        self.hd = c["hidden_size"] // self.heads
        self.eps = c["rms_norm_eps"]
        self.tied = c.get("tie_word_embeddings", False)

    def w(self, name):
        return self.p[name.replace(".", "__")]

    def has(self, name):
        return name.replace(".", "__") in self.p

    def norm(self, x, name):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.w(name)

    def linear(self, x, name):
        y = x @ self.w(name + ".weight").T
        return y + self.w(name + ".bias") if self.has(name + ".bias") else y

    def head(self):
        return self.w("model.embed_tokens.weight") if self.tied else self.w("lm_head.weight")

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

        rep = self.heads // self.kv
        for i in range(self.c["num_hidden_layers"]):
            p = "model.layers.%d." % i
            h = self.norm(x, p + "input_layernorm.weight")
            q = self.linear(h, p + "self_attn.q_proj").view(T, self.heads, self.hd).transpose(0, 1)
            k = self.linear(h, p + "self_attn.k_proj").view(T, self.kv, self.hd).transpose(0, 1)
            v = self.linear(h, p + "self_attn.v_proj").view(T, self.kv, self.hd).transpose(0, 1)
            q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
            k, v = k.repeat_interleave(rep, 0), v.repeat_interleave(rep, 0)
            a = ((q @ k.transpose(-1, -2)) / math.sqrt(self.hd) + mask).softmax(-1) @ v
            x = x + self.linear(a.transpose(0, 1).reshape(T, -1), p + "self_attn.o_proj")
            h = self.norm(x, p + "post_attention_layernorm.weight")
            gate = F.silu(self.linear(h, p + "mlp.gate_proj")) * self.linear(h, p + "mlp.up_proj")
            x = x + self.linear(gate, p + "mlp.down_proj")
        return self.norm(x, "model.norm.weight")

    def response_logits(self, ids, targets):
        """Logits of the rows that predict the response tokens only (position t-1 predicts t)."""
        embeds = self.w("model.embed_tokens.weight")[torch.tensor(ids)]
        return embeds, self.hidden(embeds)[torch.tensor(targets) - 1] @ self.head().T

    def grad_norms(self, ids, targets):
        embeds = self.w("model.embed_tokens.weight")[torch.tensor(ids)].detach().clone().requires_grad_(True)
        rows = self.hidden(embeds)[torch.tensor(targets) - 1]
        logp = (rows @ self.head().T).log_softmax(-1)
        loss = -logp[torch.arange(len(targets)), torch.tensor([ids[t] for t in targets])].mean()
        loss.backward()
        return embeds.grad.norm(dim=-1)


def minmax(v):
    lo, hi = v.min(), v.max()
    return (v - lo) / (hi - lo) if hi > lo else torch.zeros_like(v)


def analyze_samples(teacher, student, samples):
    """Stage-1 grad-l2 per sample (teacher, then student, then delta), timed after one warm-up sample."""
    times, deltas = [], []
    for k, s in enumerate([samples[0]] + samples):
        start = time.perf_counter()
        scored = torch.tensor(s["scored"])
        g_t = teacher.grad_norms(s["ids"], s["targets"])[scored]
        g_s = student.grad_norms(s["ids"], s["targets"])[scored]
        delta = minmax(g_t) - minmax(g_s)
        if k > 0:
            times.append(time.perf_counter() - start)
            deltas.append(delta.tolist())
    return times, deltas

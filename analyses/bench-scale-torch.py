"""PyTorch side of analyses/bench-scale.ts: the same analyze or distill work on the same checkpoints.

Qwen2 decoders (RMSNorm, RoPE rotate-half, GQA, q/k/v biases, SwiGLU, tied or untied head) built
from the safetensors files leaf reads, widened to float32 as leaf does. Token ids come from the
spec file, produced by leaf's own chat rendering, so both sides see identical inputs.

  /usr/bin/python3 analyses/bench-scale-torch.py SPEC.json

analyze: per sample, for the teacher then the student, forward from the input embeddings (weights
frozen), mean NLL of the response tokens through the LM head on the rows that predict them only,
backward to the embeddings, per-token L2 norm; min-max normalise over the scored region and take
delta = teacher - student. distill: per step (B = 1), teacher forward without grad, student
forward/backward, forward KL (T = 1) averaged over response rows, global-norm clipping at 1, AdamW.
One untimed warm-up sample or step first. Prints one JSON line.
"""
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_hf_decoder import HfDecoder, analyze_samples  # noqa: E402


def analyze(spec):
    times, deltas = analyze_samples(HfDecoder(spec["teacher"], False), HfDecoder(spec["student"], False), spec["samples"])
    return {"seconds": times, "deltas": deltas}


def distill(spec):
    teacher, student = HfDecoder(spec["teacher"], False), HfDecoder(spec["student"], True)
    opt = torch.optim.AdamW(student.parameters(), lr=spec["lr"], weight_decay=0.0)
    times, losses = [], []
    samples = spec["samples"]
    for k in range(spec["steps"] + 1):  # the first step is a warm-up
        s = samples[k % len(samples)]
        start = time.perf_counter()
        with torch.no_grad():
            t_logp = F.log_softmax(teacher.response_logits(s["ids"], s["targets"])[1], -1)
        s_logp = F.log_softmax(student.response_logits(s["ids"], s["targets"])[1], -1)
        loss = (t_logp.exp() * (t_logp - s_logp)).sum(-1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt.step()
        if k > 0:
            times.append(time.perf_counter() - start)
            losses.append(float(loss))
    return {"seconds": times, "losses": losses}


def main():
    spec = json.load(open(sys.argv[1]))
    torch.set_num_threads(spec["threads"])
    result = analyze(spec) if spec["stage"] == "analyze" else distill(spec)
    result.update({
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "threads": torch.get_num_threads(),
        "version": "PyTorch " + torch.__version__,
    })
    print(json.dumps(result))


if __name__ == "__main__":
    main()

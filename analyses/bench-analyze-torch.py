"""PyTorch reference for analyses/bench-analyze.ts: the same Stage-1 algorithm in PyTorch 1.13.

Per sample, batch 1 as the authors' scripts run it, for the teacher and then the student: forward
from the input embeddings (weights frozen, embeddings requiring grad), mean NLL of the response
tokens (the row before each target predicts it), backward to the embeddings, per-token L2 norm;
then min-max normalise the region's norms per model and take delta = teacher - student (both
models share the tokenizer in the benchmark, so no projection). The decoder
(analyses/torch_hf_decoder.py) reads the same safetensors files leaf uses, with the q/k/v biases
Qwen2 checkpoints carry.

  /usr/bin/python3 analyses/bench-analyze-torch.py SAMPLES.json

SAMPLES.json: {"teacher": DIR, "student": DIR, "threads": N, "samples": [{"ids": [...],
"targets": [...], "scored": [...]}]}. Prints one JSON line: {"sample_s": [...], "deltas": [[...]...]}.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_hf_decoder import HfDecoder, analyze_samples  # noqa: E402


def main():
    spec = json.load(open(sys.argv[1]))
    torch.set_num_threads(spec["threads"])
    times, deltas = analyze_samples(HfDecoder(spec["teacher"], False), HfDecoder(spec["student"], False), spec["samples"])
    print(json.dumps({"sample_s": times, "deltas": deltas, "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()

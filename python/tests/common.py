"""Shared by the package's tests: where the real data, the CLI and a scratch folder are
(ctest passes MOEMAP_DATA, MOEMAP_BIN, MOEMAP_TEST_TMP), and small clusters."""

import json
import os

import numpy as np

DATA = os.environ.get("MOEMAP_DATA", "../shared/data")
BIN = os.environ.get("MOEMAP_BIN", "build/moemap")
ESFT = os.path.join(DATA, "esft-dsv2lite-routing", "expert_scores")
SGLANG_DSV3 = os.path.join(DATA, "sglang-dsv3-expert-stats")


def tmpdir(name):
    d = os.path.join(os.environ.get("MOEMAP_TEST_TMP", "/tmp/moemap-test"), "py", name)
    os.makedirs(d, exist_ok=True)
    return d


def cluster_doc(speeds, slots, gpus_per_node=8):
    """A moemap.cluster/v1 document: GPU g has speeds[g] on a DeepSeek-V3-like curve."""
    return {"format": "moemap.cluster/v1",
            "expert": {"hidden": 7168, "intermediate": 2048, "dtype": "bf16"},
            "base_curve": {"tokens": [1, 64, 256, 1024, 4096], "us": [60, 61, 75, 150, 560]},
            "network": {"intra_node_GBps": 450, "inter_node_GBps": 50, "latency_us": 10},
            "gpus": [{"id": g, "node": g // gpus_per_node, "slots": slots, "speed": s}
                     for g, s in enumerate(speeds)]}


def dsv3_counts(name="prefill_in4096"):
    """Real DeepSeek-V3 loads recorded by SGLang: [61 layers, 256 experts] (0-2 dense)."""
    with open(os.path.join(SGLANG_DSV3, name + ".json")) as f:
        return np.array(json.load(f)["logical_count"], dtype=np.int64)


def gpu_tokens(weight, phy2log, num_gpus):
    """[layers, gpus]: tokens on each GPU when an expert's tokens are split evenly over
    its copies (what SGLang and vLLM do)."""
    w = np.asarray(weight, dtype=np.float64)
    L, R = phy2log.shape
    out = np.empty((L, num_gpus))
    for l in range(L):
        cnt = np.bincount(phy2log[l], minlength=w.shape[1])
        out[l] = (w[l][phy2log[l]] / cnt[phy2log[l]]).reshape(num_gpus, -1).sum(axis=1)
    return out

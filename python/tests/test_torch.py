"""The parts of the package that need torch: SGLang's recorder dumps as torch.save writes
them (the "stat" mode's dict holding logical_count [steps, layers, experts], and the
[layers, experts] form) read back exactly as moemap's own reader reads the JSON form,
`python -m moemap convert` on a .pt, clear errors for other .pt files, and
rebalance_experts with torch tensors in and out (dtype, device, same answer as numpy)."""

REQUIRES = ("torch",)

import json
import os
import subprocess
import sys
import unittest

import numpy as np
import torch

import common
import moemap


def sglang_stat_dump(path, counts):
    """What SGLang's _StatAccumulator.dump writes with output_mode "file"."""
    torch.save(dict(rank=0, logical_count=torch.tensor(counts, dtype=torch.int32),
                    average_utilization_rate_over_window=None), path)


class PtDumps(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = common.tmpdir("torch")
        rng = np.random.default_rng(7)
        c = rng.integers(0, 50, size=(6, 5, 8))
        c[:, 0] = 0          # layer 0 dense: zero in every step
        c[4:] = 0            # two unused entries of the recorder's circular buffer
        cls.counts = c

    def test_stat_dump_reads_as_the_json_form(self):
        pt = os.path.join(self.d, "expert_distribution_recorder_1.pt")
        sglang_stat_dump(pt, self.counts)
        ld = moemap.read_loads(pt, top_k=2)
        self.assertEqual(ld.num_batches, 4)
        self.assertEqual(ld.layers, [1, 2, 3, 4])
        np.testing.assert_array_equal(ld.counts, self.counts[:4, 1:])
        js = os.path.join(self.d, "same.json")
        with open(js, "w") as f:
            json.dump({"logical_count": self.counts[:4].tolist()}, f)
        ref = moemap.read_loads(js, top_k=2)
        np.testing.assert_array_equal(ref.counts, ld.counts)
        np.testing.assert_array_equal(ref.batch_tokens, ld.batch_tokens)

    def test_aggregate_dump(self):
        pt = os.path.join(self.d, "aggregate.pt")
        agg = self.counts.sum(axis=0)
        torch.save({"logical_count": torch.tensor(agg)}, pt)
        ld = moemap.read_loads(pt)
        self.assertTrue(ld.is_aggregate)
        np.testing.assert_array_equal(ld.total(), agg[1:])

    def test_real_dsv3_dump_converted_for_the_cli(self):
        pt = os.path.join(self.d, "dsv3.pt")
        sglang_stat_dump(pt, common.dsv3_counts("prefill_in2048")[None])
        out = os.path.join(self.d, "dsv3.loads.json")
        r = subprocess.run([sys.executable, "-m", "moemap", "convert", pt, out, "--top-k", "8"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = subprocess.run([common.BIN, "stats", out], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        np.testing.assert_array_equal(moemap.read_loads(out).total(),
                                      common.dsv3_counts("prefill_in2048")[3:])

    def test_errors(self):
        pt = os.path.join(self.d, "per_token.pt")
        torch.save(dict(records=[], last_physical_to_logical_map=torch.zeros(2, 4)), pt)
        with self.assertRaises(moemap.MoemapError) as cm:
            moemap.read_loads(pt)
        self.assertIn("no 'logical_count'", str(cm.exception))
        self.assertIn("--expert-distribution-recorder-mode stat", str(cm.exception))
        junk = os.path.join(self.d, "junk.pt")
        with open(junk, "wb") as f:
            f.write(b"this is not a torch file")
        with self.assertRaises(moemap.MoemapError) as cm:
            moemap.read_loads(junk)
        self.assertIn("junk.pt: not a torch.save file", str(cm.exception))
        empty = os.path.join(self.d, "empty.pt")
        sglang_stat_dump(empty, np.zeros((3, 2, 4)))
        with self.assertRaises(moemap.MoemapError) as cm:
            moemap.read_loads(empty)
        self.assertIn("every count is zero", str(cm.exception))


class TorchTensors(unittest.TestCase):
    def devices(self):
        out = [torch.device("cpu")]
        if torch.cuda.is_available():
            out.append(torch.device("cuda", 0))
        return out

    def test_round_trip(self):
        w = common.dsv3_counts("decode_in2000out100")[3:]
        ref = moemap.rebalance_experts(w, 288, 8, 4, 32)
        for dev in self.devices():
            for dtype in (torch.int64, torch.int32, torch.float32, torch.bfloat16):
                t = torch.tensor(w, dtype=torch.float64).to(dtype).to(dev)
                out = moemap.rebalance_experts(t, 288, 8, 4, 32)
                for a, b in zip(out, ref):
                    self.assertIsInstance(a, torch.Tensor)
                    self.assertEqual(a.dtype, torch.int64)
                    self.assertEqual(a.device, dev)
                    if dtype != torch.bfloat16:  # bf16 rounds the loads themselves
                        np.testing.assert_array_equal(a.cpu().numpy(), b)
                    else:
                        self.assertEqual(tuple(a.shape[:2]), b.shape[:2])

    def test_placement_from_tensor(self):
        w = torch.tensor([[8, 4, 3, 1]])
        p, _, _ = moemap.rebalance_experts(w, 4, 1, 1, 2)
        pl = moemap.Placement.from_phy2log(p, 2)
        self.assertEqual(sorted(pl.replicas(0)), [(0, 0, 1.0), (1, 1, 1.0), (2, 1, 1.0),
                                                  (3, 0, 1.0)])


if __name__ == "__main__":
    unittest.main()

"""The package's API without torch: which library it loaded and how (build tree,
MOEMAP_LIBRARY, refused versions), read_loads on every input the CLI reads, place /
evaluate / export agreeing with the CLI on the same files, python -m moemap, a clear
error for .pt files without torch, errors mapped to MoemapError, and `pip install`
of the folder offline."""

import json
import os
import subprocess
import sys
import unittest

import numpy as np

import common
import moemap

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.dirname(HERE)


def py(code, env=None, cwd=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=e, cwd=cwd)


class Library(unittest.TestCase):
    def test_loaded_from_the_build_tree(self):
        if os.environ.get("MOEMAP_LIBRARY"):
            self.assertEqual(moemap.library_origin, "MOEMAP_LIBRARY")
        else:
            self.assertEqual(moemap.library_origin, "next to the package")
        self.assertTrue(os.path.exists(moemap.library_path), moemap.library_path)
        self.assertIn("libmoemap.so", moemap.library_path)
        self.assertEqual(moemap.version, "0.1.0")

    def test_moemap_library_wins_and_is_named(self):
        r = py("import moemap; print(moemap.library_origin)",
               {"MOEMAP_LIBRARY": moemap.library_path})
        self.assertEqual(r.stdout.strip(), "MOEMAP_LIBRARY", r.stderr)
        r = py("import moemap", {"MOEMAP_LIBRARY": "/nonexistent/libmoemap.so.0"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("MOEMAP_LIBRARY=/nonexistent/libmoemap.so.0 cannot be loaded", r.stderr)

    def test_info_says_which_library(self):
        r = subprocess.run([sys.executable, "-m", "moemap", "info"], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("library: " + moemap.library_path, r.stdout)

    def test_pip_install_offline(self):
        target = os.path.join(common.tmpdir("pip"), "site")
        r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-index", "--no-deps",
                            "--no-cache-dir", "--upgrade", "--target", target, PKG],
                           capture_output=True, text=True)
        if r.returncode != 0 and "No module named pip" in r.stderr:
            self.fail("pip is missing for %s (Debian: python3-pip)" % sys.executable)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = py("import moemap, os; print(moemap.__file__); print(moemap.library_origin)",
               {"PYTHONPATH": target, "MOEMAP_LIBRARY": moemap.library_path}, cwd="/")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith(target), r.stdout)
        ep = os.path.join(target, "moemap-0.1.0.dist-info", "entry_points.txt")
        with open(ep) as f:
            self.assertIn("moemap = moemap.vllm_plugin:register", f.read())


class ReadLoads(unittest.TestCase):
    def test_esft_trace(self):
        ld = moemap.read_loads(os.path.join(common.ESFT, "law"), batch_tokens=2048)
        self.assertEqual(ld.experts, 64)
        self.assertEqual(ld.top_k, 6)
        self.assertEqual(len(ld.layers), 26)
        self.assertGreater(ld.num_batches, 1)
        c = ld.counts
        self.assertEqual(c.shape, (ld.num_batches, 26, 64))
        # every token picks top_k experts in every layer
        np.testing.assert_allclose(c.sum(axis=2)[:, 0], ld.batch_tokens * 6)

    def test_sglang_json_and_round_trip(self):
        path = os.path.join(common.SGLANG_DSV3, "decode_in1800out100.json")
        ld = moemap.read_loads(path, top_k=8)
        raw = common.dsv3_counts("decode_in1800out100")
        self.assertEqual(ld.layers, list(range(3, 61)))  # rows 0-2 are dense
        np.testing.assert_array_equal(ld.total(), raw[3:])
        out = os.path.join(common.tmpdir("api"), "decode.loads.json")
        ld.write(out)
        again = moemap.read_loads(out)
        np.testing.assert_array_equal(again.counts, ld.counts)
        self.assertEqual(again.top_k, 8)

    def test_csv(self):
        path = os.path.join(common.tmpdir("api"), "two_layers.csv")
        np.savetxt(path, [[3, 0, 1, 2], [1, 1, 1, 1]], delimiter=",", fmt="%d")
        ld = moemap.read_loads(path, format="csv")
        np.testing.assert_array_equal(ld.total(), [[3, 0, 1, 2], [1, 1, 1, 1]])

    def test_from_array(self):
        ld = moemap.Loads.from_array([[4, 2, 2, 0]], layers=[7], top_k=2)
        self.assertEqual(ld.layers, [7])
        self.assertEqual(ld.batch_tokens.tolist(), [4.0])
        self.assertTrue(ld.is_aggregate)
        it = ld.at_operating_point(1024)
        self.assertEqual(it.num_batches, 33)  # expected iteration + 32 sampled
        np.testing.assert_allclose(it.counts[0, 0], [1024, 512, 512, 0])

    def test_errors(self):
        with self.assertRaises(moemap.MoemapError) as cm:
            moemap.read_loads("no/such/loads.json")
        self.assertIn("no/such/loads.json", str(cm.exception))
        with self.assertRaises(moemap.MoemapError) as cm:
            moemap.read_loads("x.json", format="parquet")
        self.assertIn("format 'parquet'", str(cm.exception))
        bad = os.path.join(common.tmpdir("api"), "bad.json")
        with open(bad, "w") as f:
            f.write('{"logical_count": [[1, 2], [3]]}')
        with self.assertRaises(moemap.MoemapError) as cm:
            moemap.read_loads(bad)
        self.assertIn("bad.json", str(cm.exception))
        self.assertEqual(cm.exception.name, "EPARSE")

    def test_pt_without_torch_names_the_module(self):
        path = os.path.join(common.tmpdir("api"), "dump.pt")
        with open(path, "wb") as f:
            f.write(b"not read")
        r = py("import sys; sys.modules['torch'] = None\n"
               "import moemap\n"
               "try:\n    moemap.read_loads(%r)\n"
               "except moemap.MoemapError as e:\n    print(e)\n" % path)
        self.assertIn("needs the Python module 'torch'", r.stdout, r.stderr)


class PlaceEvaluateExport(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        d = common.tmpdir("api")
        cls.cluster = os.path.join(d, "c8.json")
        moemap.Cluster.from_dict(common.cluster_doc([1.0] * 7 + [0.8], 10)).write(cls.cluster)
        cls.loads = os.path.join(d, "law.json")
        moemap.read_loads(os.path.join(common.ESFT, "law"), batch_tokens=2048).write(cls.loads)
        cls.d = d

    def test_place_export_and_read_back(self):
        p = moemap.place(self.loads, self.cluster, "moemap", engine="sglang")
        self.assertEqual(p.num_gpus, 8)
        self.assertEqual(len(p.layers), 26)
        p.validate(self.cluster)
        sg = os.path.join(self.d, "sglang.json")
        info = p.export("sglang", sg, num_model_layers=27)
        self.assertEqual(info["physical_experts"], 80)
        self.assertEqual(info["redundant_experts"], 16)
        with open(sg) as f:
            doc = json.load(f)
        self.assertEqual(list(doc), ["physical_to_logical_map"])
        self.assertEqual(len(doc["physical_to_logical_map"]), 27)
        vl = os.path.join(self.d, "vllm.json")
        p.export("vllm", vl)
        back = moemap.Placement.read(vl)
        for layer in p.layers:
            self.assertEqual(sorted((e, g) for e, g, _ in back.replicas(layer)),
                             sorted((e, g) for e, g, _ in p.replicas(layer)))

    def test_evaluate_agrees_with_the_cli(self):
        p = moemap.place(self.loads, self.cluster, "eplb", engine="vllm")
        path = os.path.join(self.d, "eplb.json")
        p.write(path)
        ours = moemap.evaluate(self.loads, self.cluster, p)
        self.assertGreaterEqual(ours["mean_us"], ours["bound_mean_us"])
        self.assertEqual(len(ours["layers"]), 26)
        r = subprocess.run([common.BIN, "eval", "--loads", self.loads, "--cluster",
                            self.cluster, "--json", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        cli = json.loads(r.stdout)
        rows = cli.get("placements") or cli.get("results") or []
        means = [row["mean_us"] for row in rows if "mean_us" in row]
        self.assertTrue(means, r.stdout[:300])
        self.assertAlmostEqual(means[0], ours["mean_us"], delta=1e-3 * ours["mean_us"])
        # the whole layer (dispatch + compute + combine) as the CLI gives it, and the
        # compute-only model where it equals the compute
        self.assertAlmostEqual(rows[0]["layer_mean_us"], ours["layer_mean_us"],
                               delta=1e-3 * ours["layer_mean_us"])
        self.assertGreater(ours["layer_mean_us"], ours["mean_us"])
        self.assertEqual(len(ours["batch_layer_us"]), len(ours["batch_us"]))
        off = moemap.evaluate(self.loads, self.cluster, p, dispatch="off")
        self.assertAlmostEqual(off["layer_mean_us"], off["mean_us"], delta=1e-9)
        self.assertEqual(off["a2a_mean_us"], 0)
        with self.assertRaises(moemap.MoemapError) as cm:
            moemap.evaluate(self.loads, self.cluster, p, dispatch="ring")
        self.assertIn("dispatch 'ring'", str(cm.exception))

    def test_errors(self):
        with self.assertRaises(moemap.MoemapError) as cm:
            moemap.place(self.loads, self.cluster, "best")
        self.assertIn("unknown strategy 'best'", str(cm.exception))
        p = moemap.place(self.loads, self.cluster, "eplb", engine="vllm")
        with self.assertRaises(moemap.MoemapError) as cm:
            p.export("trt", os.path.join(self.d, "x.json"))
        self.assertIn("engine 'trt'", str(cm.exception))
        free = moemap.place(self.loads, self.cluster, "moemap")
        with self.assertRaises(moemap.MoemapError):
            moemap.place(self.loads, "no/such/cluster.json")
        self.assertIsNotNone(free)

    def test_convert_command(self):
        out = os.path.join(self.d, "conv.json")
        src = os.path.join(common.SGLANG_DSV3, "prefill_in512.json")
        r = subprocess.run([sys.executable, "-m", "moemap", "convert", src, out,
                            "--top-k", "8"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("58 MoE layers x 256 experts", r.stdout)
        r = subprocess.run([common.BIN, "stats", out], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = subprocess.run([sys.executable, "-m", "moemap", "convert", "missing.json", out],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertTrue(r.stderr.startswith("moemap: ") and "missing.json" in r.stderr,
                        r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1)


if __name__ == "__main__":
    unittest.main()

"""moemap.vllm_plugin and moemap.sglang_plugin against stand-ins for the engines (neither
is installed here; the stand-ins copy the names and call signatures of their code, see
docs/engines.md). vLLM's two EPLB layouts: the policy package whose EplbState calls
EPLB_POLICIES["default"].rebalance_experts(weight, num_replicas, num_groups, num_nodes,
num_ranks, old_global_expert_indices) and gets phy2log alone (recent) or all three
(earlier), and the older module function rebalance_algo.rebalance_experts imported into
eplb_state. Also: without MOEMAP_VLLM_EPLB=1 the plugin changes nothing, and a vLLM
with neither layout gets a clear error. SGLang: eplb_algorithms.rebalance_experts calls
deepseek.rebalance_experts with keywords and enable_hierarchical."""

import os
import subprocess
import sys
import textwrap
import unittest

import numpy as np

import common

POLICY = {
    "vllm/__init__.py": "",
    "vllm/distributed/__init__.py": "",
    "vllm/distributed/eplb/__init__.py": "",
    "vllm/distributed/eplb/policy/__init__.py": """
        from .abstract import AbstractEplbPolicy
        from .default import DefaultEplbPolicy
        EPLB_POLICIES = {"default": DefaultEplbPolicy}
        """,
    "vllm/distributed/eplb/policy/abstract.py": """
        class AbstractEplbPolicy:
            pass
        """,
    "vllm/distributed/eplb/policy/default.py": """
        from .abstract import AbstractEplbPolicy
        class DefaultEplbPolicy(AbstractEplbPolicy):
            @classmethod
            def rebalance_experts(cls, weight, num_replicas, num_groups, num_nodes,
                                  num_ranks, old_global_expert_indices=None) -> %s:
                raise AssertionError("vLLM's own policy was called")
        """,
}

OLD = {
    "vllm/__init__.py": "",
    "vllm/distributed/__init__.py": "",
    "vllm/distributed/eplb/__init__.py": "",
    "vllm/distributed/eplb/rebalance_algo.py": """
        def rebalance_experts(weight, num_replicas, num_groups, num_nodes, num_gpus):
            raise AssertionError("vLLM's own rebalance_experts was called")
        """,
    "vllm/distributed/eplb/eplb_state.py": """
        from .rebalance_algo import rebalance_experts
        def rearrange(weight):
            return rebalance_experts(weight, 6, 1, 1, 2)
        """,
}

SGLANG = {
    "sglang/__init__.py": "",
    "sglang/srt/__init__.py": "",
    "sglang/srt/eplb/__init__.py": "",
    "sglang/srt/eplb/eplb_algorithms/__init__.py": """
        from sglang.srt.eplb.eplb_algorithms import deepseek
        def rebalance_experts(tokens_per_expert, num_physical_experts,
                              num_local_physical_experts, num_groups, num_nodes, algorithm):
            return deepseek.rebalance_experts(
                weight=tokens_per_expert.sum(axis=0),
                num_replicas=num_physical_experts,
                num_groups=num_groups,
                num_nodes=num_nodes,
                num_gpus=num_physical_experts // num_local_physical_experts,
                enable_hierarchical=algorithm == "deepseek_hierarchical")
        """,
    "sglang/srt/eplb/eplb_algorithms/deepseek.py": """
        def rebalance_experts(weight, num_replicas, num_groups, num_nodes, num_gpus,
                              enable_hierarchical):
            raise AssertionError("SGLang's own rebalance_experts was called")
        """,
}

CALL_POLICY = """
import numpy as np, moemap.vllm_plugin
moemap.vllm_plugin.register()
from vllm.distributed.eplb.policy import EPLB_POLICIES
out = EPLB_POLICIES["default"].rebalance_experts(np.array([[12, 1, 1, 1]]), 6, 1, 1, 2, None)
print(type(out).__name__, out[0].tolist() if isinstance(out, tuple) else out.tolist())
"""


def fake_vllm(name, files, annotation="torch.Tensor"):
    root = os.path.join(common.tmpdir("vllm"), name)
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text.replace("%s", repr(annotation))))
    return root


def run(root, code, enable=True, var="MOEMAP_VLLM_EPLB"):
    env = dict(os.environ)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    env.pop(var, None)
    if enable:
        env[var] = "1"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env)


class VllmPlugin(unittest.TestCase):
    def test_recent_policy_gets_phy2log(self):
        r = run(fake_vllm("recent", POLICY, "torch.Tensor"), CALL_POLICY)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "ndarray [[0, 1, 2, 0, 1, 3]]")

    def test_earlier_policy_gets_three(self):
        r = run(fake_vllm("earlier", POLICY,
                          "tuple[torch.Tensor, torch.Tensor, torch.Tensor]"), CALL_POLICY)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "tuple [[0, 1, 2, 0, 1, 3]]")

    def test_old_module_function(self):
        code = ("import numpy as np, moemap.vllm_plugin\nmoemap.vllm_plugin.register()\n"
                "from vllm.distributed.eplb import eplb_state\n"
                "p, l, c = eplb_state.rearrange(np.array([[12, 1, 1, 1]]))\n"
                "print(p.tolist(), c.tolist())\n")
        r = run(fake_vllm("old", OLD), code)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "[[0, 1, 2, 0, 1, 3]] [[2, 2, 1, 1]]")

    def test_off_unless_asked(self):
        r = run(fake_vllm("recent", POLICY), CALL_POLICY, enable=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("vLLM's own policy was called", r.stderr)

    def test_unknown_layout(self):
        root = fake_vllm("none", {"vllm/__init__.py": ""})
        r = run(root, "import moemap.vllm_plugin\nmoemap.vllm_plugin.register()\n")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not one moemap knows how to replace", r.stderr)


class SglangPlugin(unittest.TestCase):
    CODE = ("import numpy as np, moemap.sglang_plugin\n"
            "print(moemap.sglang_plugin.register())\n"
            "from sglang.srt.eplb import eplb_algorithms\n"
            "w = np.array([[[12, 1, 1, 1, 2, 2, 2, 2]], [[0, 1, 1, 1, 2, 2, 2, 2]]])\n"
            "p, l, c = eplb_algorithms.rebalance_experts(w, 12, 3, 2, 2, %r)\n"
            "print(p.tolist(), c.tolist())\n")

    def test_global_and_hierarchical(self):
        root = fake_vllm("sglang", SGLANG)
        for algorithm in ("deepseek", "deepseek_hierarchical"):
            r = run(root, self.CODE % algorithm, var="MOEMAP_SGLANG_EPLB")
            self.assertEqual(r.returncode, 0, r.stderr)
            lines = r.stdout.strip().splitlines()
            self.assertEqual(lines[0], "True")
            import moemap
            w = np.array([[12, 2, 2, 2, 4, 4, 4, 4]])
            p, _, c = moemap.rebalance_experts(w, 12, 2, 2, 4, enable_hierarchical=(
                algorithm == "deepseek_hierarchical"))
            self.assertEqual(lines[1], "%s %s" % (p.tolist(), c.tolist()))

    def test_off_unless_asked(self):
        r = run(fake_vllm("sglang", SGLANG), self.CODE % "deepseek", enable=False,
                var="MOEMAP_SGLANG_EPLB")
        self.assertIn("SGLang's own rebalance_experts was called", r.stderr)


if __name__ == "__main__":
    unittest.main()

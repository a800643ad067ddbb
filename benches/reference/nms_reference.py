"""Times the reference basic-unit NMS (MxDNA's BasicUnitNMS.cpp through pybind11) on
the logits that `cargo bench -p dnalm-mxdna --bench nms_speed` wrote, and checks that
its masks equal ours.

Usage: python nms_reference.py MODULE_DIR DIR [REPEATS]
(MODULE_DIR holds the compiled BasicUnitNMS extension; benches/build_nms_reference.sh
builds it from a checkout of github.com/qiaoqiaoLF/MxDNA.)
"""
import sys
import time

import numpy as np

sys.path.insert(0, sys.argv[1])
import BasicUnitNMS  # noqa: E402

# The main branch's kernel names its function basic_unit_nms, full-model's
# basic_unit_nms_fn.
nms = getattr(BasicUnitNMS, "basic_unit_nms", None) or BasicUnitNMS.basic_unit_nms_fn

B, L, N = 32, 512, 10
directory = sys.argv[2]
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 50
logits = np.fromfile(f"{directory}/logits.f32", dtype="<f4").reshape(B, L, N)
kernels = np.arange(1, N + 1, dtype=np.int32)
mask = np.ones((B, L), dtype=np.int32)
times = []
for _ in range(repeats):
    started = time.perf_counter()
    centre, cover = nms(logits, kernels, mask)
    times.append(time.perf_counter() - started)
ours = np.fromfile(f"{directory}/ours.i32", dtype="<i4").reshape(2, B, L)
same = np.array_equal(ours[0], centre) and np.array_equal(ours[1], cover)
print(
    f"reference BasicUnitNMS.cpp  B={B} L={L} N={N}  median {np.median(times) * 1e3:.3f} ms"
    f"  masks identical to dnalm: {same}"
)
if not same:
    sys.exit(1)

"""Where a PyTorch step spends its time: when DNALM_TORCH_PROFILE is set, the step
scripts call `report` after timing, which runs the step a few more times under
torch.profiler and prints the ops by their own CPU time (the table the README's
profile section quotes). With DNALM_TORCH_PROFILE=shapes it prints instead the matrix
products (mm, addmm, bmm) by input shape, in milliseconds and calls per step: the
counterpart of dnalm's `DNALM_GEMM_PROFILE=1` and benches/gemm_in_situ.py."""
import os

import torch

PRODUCTS = ("aten::mm", "aten::addmm", "aten::bmm")


def report(step, label, runs=3):
    mode = os.environ.get("DNALM_TORCH_PROFILE")
    if not mode:
        return
    shapes = mode == "shapes"
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU],
                                record_shapes=shapes) as profiler:
        for _ in range(runs):
            step()
    print(f"== torch.profiler, {label}, {runs} steps")
    if not shapes:
        print(profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))
        return
    products = [e for e in profiler.key_averages(group_by_input_shape=True) if e.key in PRODUCTS]
    products.sort(key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in products) / runs / 1e3
    print(f"matrix products: {total:.1f} ms a step")
    print("| op | input shapes | calls/step | ms/call | ms/step |")
    print("|---|---|---|---|---|")
    for e in products[:20]:
        ms = e.self_cpu_time_total / 1e3
        print(f"| {e.key} | {e.input_shapes} | {e.count / runs:.1f} | {ms / e.count:.2f} | {ms / runs:.1f} |")

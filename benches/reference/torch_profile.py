"""Where a PyTorch step spends its time: when DNALM_TORCH_PROFILE is set, the step
scripts call `report` after timing, which runs the step a few more times under
torch.profiler and prints the ops by their own CPU time (the table the README's
profile section quotes)."""
import os

import torch


def report(step, label, runs=3):
    if not os.environ.get("DNALM_TORCH_PROFILE"):
        return
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profiler:
        for _ in range(runs):
            step()
    print(f"== torch.profiler, {label}, {runs} steps")
    print(profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))

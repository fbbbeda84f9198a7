"""PyTorch Gloo all-reduce, measured exactly as `gossamer bench allreduce` measures its own.

Every iteration: a barrier, then one timed all-reduce (sum, float32, in place); the time of an
iteration is the slowest rank's; the result is the median over iterations. algbw = bytes / time,
busbw = algbw * 2(n-1)/n (nccl-tests); cpuSeconds: CPU time of all ranks per all-reduce. Small sizes get more iterations (256 MiB per size, at
most 200), as in gossamer's benchmark. Prints one JSON object per size and world size.

Usage: python3 bench/gloo_allreduce.py --sizes 8,1048576,67108864 --ranks 2,4 [--port 29533]
Needs PyTorch with Gloo (Debian: apt-get install -y python3-torch).
"""

import argparse
import json
import os
import statistics
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def iterations_for(size, minimum):
    return max(minimum, min(200, (256 << 20) // size))


def rank_main(rank, n, sizes, minimum, port, queue):
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=n)
    for size in sizes:
        iterations = iterations_for(size, minimum)
        warmup = max(1, min(10, iterations // 10))
        data = torch.empty(size // 4, dtype=torch.float32)
        contribution = (torch.arange(size // 4) % 5 + rank + 1).to(torch.float32)
        expected = (torch.arange(size // 4) % 5 * n + n * (n + 1) / 2).to(torch.float32)
        times, cpu, wrong = [], 0.0, False
        for i in range(warmup + iterations):
            data.copy_(contribution)
            dist.barrier()
            cpu_start = time.process_time()
            start = time.perf_counter()
            dist.all_reduce(data)
            elapsed = time.perf_counter() - start
            cpu_used = time.process_time() - cpu_start
            if i >= warmup:
                times.append(elapsed)
                cpu += cpu_used
            wrong = wrong or not torch.equal(data, expected)
        queue.put((rank, size, times, cpu, wrong))
    dist.barrier()
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="8,1048576,67108864")
    parser.add_argument("--ranks", default="2,4")
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--port", type=int, default=29533)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    context = mp.get_context("spawn")
    for n in [int(r) for r in args.ranks.split(",")]:
        queue = context.Queue()
        processes = [
            context.Process(target=rank_main, args=(r, n, sizes, args.iterations, args.port, queue))
            for r in range(n)
        ]
        for p in processes:
            p.start()
        measured = {}
        for _ in range(n * len(sizes)):
            rank, size, times, cpu, wrong = queue.get()
            measured.setdefault(size, []).append((times, cpu, wrong))
        for p in processes:
            p.join()
        for size in sizes:
            per_rank = measured[size]
            slowest = [max(ts) for ts in zip(*(times for times, _, _ in per_rank))]
            seconds = statistics.median(slowest)
            algbw = size / seconds
            print(json.dumps({
                "bytes": size, "ranks": n, "launch": "processes", "path": "gloo",
                "iterations": len(slowest), "seconds": seconds, "algbw": algbw,
                "busbw": algbw * 2 * (n - 1) / n,
                "cpuSeconds": sum(cpu for _, cpu, _ in per_rank) / len(slowest),
                "correct": not any(wrong for _, _, wrong in per_rank),
            }), flush=True)


if __name__ == "__main__":
    main()

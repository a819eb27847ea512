#!/usr/bin/env python3
"""PyTorch CUDA reference for the webgpu-xai benchmark: the Pokemon-vs-Digimon CNN's saliency
(batch 1), SmoothGrad (50 noisy copies as one batch) and Integrated Gradients (64 path points as
one batch, Gauss-Legendre), in fp32 with TF32 off and on, timed with CUDA events, printed as JSON
in the schema of bench/report.ts ("webgpu-xai-bench/2").

Self-contained: it needs torch and numpy only. The weights and the image are the benchmark's own:
mulberry32 and Box-Muller exactly as bench/models.ts (sequentialSpec, seed 1; benchImage, seed 3),
so the model computes the same function as the engine's and TF.js's; `outputL2` on each row is
the L2 norm of the result, comparable across implementations.

    python3 bench/reference/pytorch_reference.py > bench/results/h100-pytorch.json
    python3 bench/reference/pytorch_reference.py --peak 67 --repeats 50
    python3 bench/reference/pytorch_reference.py --checksums   # no torch needed: weights/image sums

Each method runs the passes the engine runs (bench/methods.ts): a forward of the clean image for
the predicted class, then forward+backward of the batch (IG adds a forward of [x, baseline] for
its completeness check). FLOPs follow the benchmark's convention: F(n) from the graph
(multiply-add = 2), a gradient evaluation = 3 F(n).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import subprocess
import sys
import time

import numpy as np

SCHEMA = "webgpu-xai-bench/2"
INPUT = (120, 120, 3)
# (kind, argument): conv = (channels, padding); pool = size; dense = (units, activation)
POKEMON = [
    ("conv", (32, "same")), ("conv", (32, "valid")), ("pool", 2),
    ("conv", (64, "same")), ("conv", (64, "valid")), ("pool", 2),
    ("conv", (256, "same")), ("conv", (256, "valid")), ("pool", 2),
    ("flatten", None), ("dense", (1024, "relu")), ("dense", (2, "linear")),
]
FLOP_CONVENTION = (
    "F(n) = Model.flops(n) (forward of batch n from the graph, multiply-add = 2); a gradient evaluation = 3 F(n) "
    "(backward = 2x forward). saliency F(1)+3F(1); smoothgrad n: F(1)+3F(n); ig s: F(1)+F(2)+3F(s)."
)


# ---------------------------------------------------------------------------- seeded weights


def mulberry32(seed: int, first: int, count: int) -> np.ndarray:
    """Draws first+1 .. first+count of bench/models.ts seededRandom(seed), as float64 in [0, 1).

    mulberry32 is counter based: draw k (1-based) starts from state seed + k * 0x6d2b79f5 (mod 2^32).
    """
    k = np.arange(first + 1, first + count + 1, dtype=np.uint64)
    state = ((np.uint64(seed) + k * np.uint64(0x6D2B79F5)) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    with np.errstate(over="ignore"):
        t = state
        t = (t ^ (t >> np.uint32(15))) * (t | np.uint32(1))
        t = t ^ (t + (t ^ (t >> np.uint32(7))) * (t | np.uint32(61)))
        t = t ^ (t >> np.uint32(14))
    return t.astype(np.float64) / 4294967296.0


class Stream:
    """seededRandom(seed) as a stream (draws are consumed in order)."""

    def __init__(self, seed: int):
        self.seed = seed
        self.used = 0

    def uniform(self, count: int) -> np.ndarray:
        out = mulberry32(self.seed, self.used, count)
        self.used += count
        return out

    def normals(self, count: int, scale: float) -> np.ndarray:
        """bench/models.ts normals(): Box-Muller over consecutive pairs, float32."""
        pairs = (count + 1) // 2
        u = self.uniform(2 * pairs).reshape(pairs, 2)
        r = np.sqrt(-2.0 * np.log(1.0 - u[:, 0]))
        angle = 2.0 * math.pi * u[:, 1]
        out = np.empty(2 * pairs, dtype=np.float64)
        out[0::2] = scale * r * np.cos(angle)
        out[1::2] = scale * r * np.sin(angle)
        return out[:count].astype(np.float32)


def pokemon_weights(seed: int = 1):
    """[(kind, arrays)] in bench/models.ts order and layouts: conv HWIO + bias, dense [in, out] + bias."""
    stream = Stream(seed)
    h, w, c = INPUT
    flat = 0
    layers = []
    for kind, arg in POKEMON:
        if kind == "conv":
            channels, padding = arg
            filt = stream.normals(9 * c * channels, math.sqrt(2.0 / (9 * c))).reshape(3, 3, c, channels)
            bias = stream.normals(channels, 0.01)
            layers.append(("conv", (filt, bias, padding)))
            if padding == "valid":
                h, w = h - 2, w - 2
            c = channels
        elif kind == "pool":
            layers.append(("pool", arg))
            h, w = h // arg, w // arg
        elif kind == "flatten":
            layers.append(("flatten", None))
            flat = h * w * c
        else:
            units, activation = arg
            weights = stream.normals(flat * units, math.sqrt(2.0 / flat)).reshape(flat, units)
            bias = stream.normals(units, 0.01)
            layers.append(("dense", (weights, bias, activation)))
            flat = units
    return layers


def bench_image(shape=INPUT, low: float = 0.0, high: float = 1.0, seed: int = 3) -> np.ndarray:
    """bench/models.ts benchImage(): [H, W, C] float32."""
    h, w, c = shape
    noise = Stream(seed).uniform(h * w * c).reshape(h, w, c)
    y = np.arange(h, dtype=np.float64).reshape(h, 1, 1)
    x = np.arange(w, dtype=np.float64).reshape(1, w, 1)
    k = np.arange(c, dtype=np.float64).reshape(1, 1, c)
    smooth = 0.5 + 0.25 * np.sin((6 * x) / w + 2 * k) * np.cos((5 * y) / h - k)
    v = np.clip(smooth + 0.15 * (noise - 0.5), 0.0, 1.0)
    return (low + v * (high - low)).astype(np.float32)


def forward_flops(n: int) -> int:
    """Model.flops(n) of the Pokemon CNN (src/model/layers.ts: conv 2*out*kh*kw*cin, max pool = input
    elements, dense 2*n*in*out, softmax 5*elements, reshape 0)."""
    h, w, c = INPUT
    total = 0
    flat = 0
    for kind, arg in POKEMON:
        if kind == "conv":
            channels, padding = arg
            oh, ow = (h, w) if padding == "same" else (h - 2, w - 2)
            total += 2 * n * oh * ow * channels * 9 * c
            h, w, c = oh, ow, channels
        elif kind == "pool":
            total += n * h * w * c
            h, w = h // arg, w // arg
        elif kind == "flatten":
            flat = h * w * c
        else:
            units, _ = arg
            total += 2 * n * flat * units
            flat = units
    return total + 5 * n * flat  # the softmax after the last dense


def gauss_legendre(n: int):
    """Nodes in [0, 1] and weights summing to 1 (bench uses rule 'gauss-legendre')."""
    z, w = np.polynomial.legendre.leggauss(n)
    return (z + 1.0) / 2.0, w / 2.0


# ---------------------------------------------------------------------------- statistics / environment


def stats(samples):
    a = np.asarray(samples, dtype=np.float64)
    q = lambda p: float(np.percentile(a, p))  # linear interpolation, as bench/timing.ts
    return {"median": q(50), "min": float(a.min()), "max": float(a.max()), "q1": q(25), "q3": q(75), "samples": [float(s) for s in samples]}


def git_info():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True, check=True).stdout.strip())
        return {"commit": commit, "dirty": dirty}
    except Exception:
        return {}


def nvidia_driver():
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version,name", "--format=csv,noheader"], capture_output=True, text=True, check=True, timeout=20)
        return out.stdout.strip().splitlines()[0]
    except Exception:
        return None


# ---------------------------------------------------------------------------- the model and the methods


def build_model(torch, device):
    nn = torch.nn

    class PokemonCnn(nn.Module):
        """The benchmark's Pokemon CNN in NCHW; flattens in NHWC order so the dense weights match."""

        def __init__(self):
            super().__init__()
            self.features = nn.ModuleList()
            self.dense = nn.ModuleList()
            self.plan = []
            for kind, arrays in pokemon_weights():
                if kind == "conv":
                    filt, bias, padding = arrays
                    conv = nn.Conv2d(filt.shape[2], filt.shape[3], 3, padding=1 if padding == "same" else 0)
                    with torch.no_grad():
                        conv.weight.copy_(torch.from_numpy(np.ascontiguousarray(filt.transpose(3, 2, 0, 1))))  # HWIO -> OIHW
                        conv.bias.copy_(torch.from_numpy(bias))
                    self.features.append(conv)
                    self.plan.append(("conv", len(self.features) - 1))
                elif kind == "pool":
                    self.plan.append(("pool", arrays))
                elif kind == "flatten":
                    self.plan.append(("flatten", None))
                else:
                    weights, bias, activation = arrays
                    dense = nn.Linear(weights.shape[0], weights.shape[1])
                    with torch.no_grad():
                        dense.weight.copy_(torch.from_numpy(np.ascontiguousarray(weights.T)))
                        dense.bias.copy_(torch.from_numpy(bias))
                    self.dense.append(dense)
                    self.plan.append(("dense", (len(self.dense) - 1, activation)))

        def forward(self, x):  # x: NCHW; returns the logits
            for kind, arg in self.plan:
                if kind == "conv":
                    x = torch.relu(self.features[arg](x))
                elif kind == "pool":
                    x = torch.nn.functional.max_pool2d(x, arg)
                elif kind == "flatten":
                    x = x.permute(0, 2, 3, 1).flatten(1)  # Keras Flatten order (h, w, c)
                else:
                    index, activation = arg
                    x = self.dense[index](x)
                    if activation == "relu":
                        x = torch.relu(x)
            return x

    model = PokemonCnn().to(device).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def make_methods(torch, model, image, device, samples, steps, noise, seed):
    """Each method as a function returning the attribution [1, C, H, W] (on the GPU)."""
    generator = torch.Generator(device=device)
    alphas_np, weights_np = gauss_legendre(steps)
    alphas = torch.tensor(alphas_np, dtype=torch.float32, device=device).view(-1, 1, 1, 1)
    weights = torch.tensor(weights_np, dtype=torch.float32, device=device).view(-1, 1, 1, 1)

    def target_of(x):
        with torch.no_grad():
            return model(x).argmax(1)

    def input_gradient(batch, target):
        batch = batch.detach().requires_grad_(True)
        logits = model(batch)
        score = logits.gather(1, target.expand(batch.shape[0]).view(-1, 1)).sum()
        (grad,) = torch.autograd.grad(score, batch)
        return grad

    def saliency():
        x = image()
        return input_gradient(x, target_of(x))

    def smoothgrad():
        x = image()
        target = target_of(x)
        generator.manual_seed(seed)
        noisy = x + noise * torch.randn((samples, *x.shape[1:]), generator=generator, device=device)
        return input_gradient(noisy, target).mean(0, keepdim=True)

    def integrated_gradients():
        x = image()
        target = target_of(x)
        baseline = torch.zeros_like(x)
        path = baseline + alphas * (x - baseline)
        grads = input_gradient(path, target)
        with torch.no_grad():
            model(torch.cat([x, baseline]))  # F(x), F(baseline): the engine's completeness check
        return (x - baseline) * (grads * weights).sum(0, keepdim=True)

    return {"saliency": saliency, "smoothgrad": smoothgrad, "ig": integrated_gradients}


def time_method(torch, run, warmup, repeats, budget_ms, min_repeats):
    for _ in range(warmup):
        run().cpu()
    torch.cuda.synchronize()
    events, walls, output = [], [], None
    total = 0.0
    for i in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize()
        wall_start = time.perf_counter()
        start.record()
        result = run()
        end.record()
        output = result.cpu()  # to the CPU, as the engine's and TF.js's results are
        wall = (time.perf_counter() - wall_start) * 1000
        end.synchronize()
        events.append(start.elapsed_time(end))
        walls.append(wall)
        total += wall
        if i + 1 >= min_repeats and total >= budget_ms:
            break
    return events, walls, output


def run_cuda(args):
    import torch

    if not torch.cuda.is_available():
        sys.exit("pytorch_reference.py: no CUDA device (torch.cuda.is_available() is False); run it on the GPU machine")
    device = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    model = build_model(torch, device)
    image_np = bench_image()
    image_t = torch.from_numpy(np.ascontiguousarray(image_np.transpose(2, 0, 1)))[None].to(device)
    image = lambda: image_t.clone()
    methods = make_methods(torch, model, image, device, args.samples, args.steps, 0.15, 0)
    F = forward_flops
    plan = {
        "saliency": ("saliency b1", {}, 1, F(1) + 3 * F(1)),
        "smoothgrad": (f"SmoothGrad {args.samples}", {"samples": args.samples, "noise": 0.15, "seed": 0}, args.samples, F(1) + 3 * F(args.samples)),
        "ig": (f"IG {args.steps}", {"steps": args.steps, "rule": "gauss-legendre"}, args.steps, F(1) + F(2) + 3 * F(args.steps)),
    }
    rows = []
    for precision in ("fp32", "tf32"):
        tf32 = precision == "tf32"
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        for method in args.methods:
            label, params, images, flops = plan[method]
            events, walls, output = time_method(torch, methods[method], args.warmup, args.repeats, args.budget_ms, args.min_repeats)
            e, w = stats(events), stats(walls)
            ms = e["median"]
            row = {
                "workload": "pokemon", "method": method, "implementation": "pytorch-cuda", "precision": precision, "label": label,
                "params": {**params, "cudnnBenchmark": True, "allowTf32": tf32}, "status": "ok", "images": images, "flops": flops,
                "timing": {"basis": "cuda-events", "ms": ms, "q1": e["q1"], "q3": e["q3"], "min": e["min"], "max": e["max"],
                           "repeats": len(events), "warmup": args.warmup, "wall": w},
                "imagesPerSecond": images / (ms / 1000), "explanationsPerSecond": 1000 / ms, "gflopsPerSecond": flops / (ms / 1000) / 1e9,
                "outputL2": float(torch.linalg.vector_norm(output.double())),
            }
            if args.peak:
                row["peakPercent"] = 100 * row["gflopsPerSecond"] / (args.peak * 1000)
            rows.append(row)
            print(f"[reference] {precision} {label}: {ms:.3f} ms (CUDA events), wall {w['median']:.3f} ms", file=sys.stderr)
    props = torch.cuda.get_device_properties(0)
    return {
        "schema": SCHEMA,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(),
        "git": git_info(),
        "environment": {"runtime": f"python {platform.python_version()} / torch {torch.__version__}", "cuda": torch.version.cuda,
                        "cudnn": torch.backends.cudnn.version(), "platform": platform.platform()},
        "device": {"vendor": "nvidia", "device": props.name, "description": f"{props.name} sm_{props.major}{props.minor}, {props.total_memory / 2**30:.0f} GiB, {props.multi_processor_count} SMs",
                   "driver": nvidia_driver(), "software": False, "features": [], "limits": {}, "timestampQuery": False},
        "timer": {"basis": "cuda-events", "note": "CUDA events recorded around the whole method on the default stream (first kernel to last, gaps included); wall = perf_counter to result on the CPU"},
        "options": {"warmup": args.warmup, "repeats": args.repeats, "minRepeats": args.min_repeats, "budgetMs": args.budget_ms, "peak": args.peak,
                    "methods": args.methods, "samples": args.samples, "steps": args.steps, "forwardFlops": forward_flops(1)},
        "flopConvention": FLOP_CONVENTION,
        "peers": [],
        "rows": rows,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", default="saliency,smoothgrad,ig", help="comma list of saliency, smoothgrad, ig")
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--min-repeats", type=int, default=3)
    parser.add_argument("--budget-ms", type=float, default=20000)
    parser.add_argument("--peak", type=float, default=None, help="fp32 peak in TFLOPS for peakPercent (e.g. 67 for an H100 SXM)")
    parser.add_argument("--out", default=None, help="also write the JSON here")
    parser.add_argument("--checksums", action="store_true", help="print sums of the seeded weights and image (no torch needed) and exit")
    args = parser.parse_args(argv)
    args.methods = [m for m in args.methods.split(",") if m]
    for m in args.methods:
        if m not in ("saliency", "smoothgrad", "ig"):
            parser.error(f"unknown method {m!r}")
    if args.checksums:
        layers = pokemon_weights()
        sums = [float(np.sum(a[0], dtype=np.float64)) for kind, a in layers if kind in ("conv", "dense")]
        image = bench_image()
        print(json.dumps({"forwardFlops": forward_flops(1), "weightSums": sums, "imageSum": float(image.sum(dtype=np.float64)),
                          "firstWeights": [float(v) for v in layers[0][1][0].reshape(-1)[:4]], "firstImage": [float(v) for v in image.reshape(-1)[:4]]}))
        return
    report = run_cuda(args)
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()

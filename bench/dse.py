"""Design-space sweep on Dask: area, cycles and accuracy of many cores, and their Pareto front.

The base config (default ``tiny``, 64-16-10) over lanes {1, 2, 4} x width {8-bit weights and
12-bit state, 16-bit weights and state} x T {2, 4} x schedule {serial, dual}: 24 points, each
one Dask task that synthesizes the point's core with yosys for the target (default ECP5-85k;
cached in build/synth/), trains the fixed-point golden model (bit-exact with the core) for the
base config's epochs with every training sample timed by the timing model under the point's
schedule, and measures the test accuracy (rtl_gen/dse.py, docs/dse.md). Runs on a 2-worker
LocalCluster unless ``--scheduler`` names a cluster. Prints one line per point (``*``: on the
Pareto front of logic cells, cycles per sample and accuracy) and writes
bench/results/dse.json and bench/results/dse.png.

    python bench/dse.py [--base tiny] [--target ecp5-85k] [--scheduler tcp://host:8786]
                        [--workers 2] [--epochs N] [--lanes 1,2,4] [--width w8.7/v12.7,...]
                        [--timesteps 2,4] [--schedule serial,dual]
"""

from __future__ import annotations

import argparse
import sys

from rtl_gen.config import ConfigError
from rtl_gen.dse import add_arguments, plot_pareto, spec_from_args, sweep
from _results import RESULTS, write_results  # bench/_results.py (scripts run from bench/)


def main() -> int:
    ap = add_arguments(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    args = ap.parse_args()
    try:
        # --json / --plot: extra copies where asked
        res = sweep(spec_from_args(args), args.scheduler, args.workers, args.json_path,
                    args.plot_path, progress=not args.no_progress)
    except ConfigError as err:
        print(f"dse: {err}", file=sys.stderr)
        return 2
    write_results("dse", res)
    png = RESULTS / "dse.png"
    plot_pareto(res, png)
    print(f"wrote {png}")
    return 1 if res["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())

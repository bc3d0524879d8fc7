"""``snngen``: the command-line entry point.

Exit codes: 0 success, 1 a check failed, 2 bad input (config or argument) -- in that case the
message names the field, the value and the allowed range, and nothing is written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from boards import BOARDS

from .config import Config, ConfigError, Problem, load_config
from .synth import TARGETS


def _load(config: str) -> Config:
    try:
        return load_config(config)
    except ConfigError as err:
        click.echo(f"snngen: {err}", err=True)
        sys.exit(2)


def _require_fixed(cfg: Config) -> None:
    """Exit 2 if the config has no fixed-point (hardware) model, e.g. a float-only loss, or
    one the core does not run (it updates once per sample)."""
    from golden.fixed_model import FixedArith

    try:
        FixedArith(cfg)
        if cfg.network.update != "sample":
            raise ConfigError([Problem("network.update", cfg.network.update,
                                       "'sample' for the core (it updates once per sample; "
                                       "'step' is a golden-model option)")], cfg.name)
    except ConfigError as err:
        click.echo(f"snngen: {err}", err=True)
        sys.exit(2)


def _check_output(path: str | None, option: str) -> Path | None:
    """Fail early (exit 2, nothing written) if an output's folder cannot be made."""
    if path is None:
        return None
    p = Path(path)
    parent = p.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or p.is_dir():
        click.echo(f"snngen: {option} = {path!r}: allowed a file path in a writable folder",
                   err=True)
        sys.exit(2)
    return p


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="snngen")
def main() -> None:
    """RTL generator for accelerators that train spiking neural networks on chip."""


@main.command("config")
@click.argument("config")
def config_cmd(config: str) -> None:
    """Validate CONFIG (a TOML file or a preset name) and print it with every default."""
    cfg = _load(config)
    click.echo(json.dumps(cfg.as_dict(), indent=2))
    click.echo(f"# hash {cfg.hash()}", err=True)


@main.command("generate")
@click.argument("config")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False), required=True,
              help="output folder (created)")
@click.option("--check/--no-check", default=False,
              help="also run verilator --lint-only -Wall and yosys check -assert")
def generate_cmd(config: str, out_dir: str, check: bool) -> None:
    """Write the core's Verilog and manifest.json for CONFIG into OUT."""
    from .generate import TOP, check_yosys, generate, lint_verilator

    cfg = _load(config)
    out = _check_output(str(Path(out_dir) / "manifest.json"), "--out").parent
    _require_fixed(cfg)
    man = generate(cfg, out)
    mm = man["memory_map"]
    click.echo(f"wrote {out / (TOP + '.v')} and {out / 'manifest.json'}: layers "
               f"{'-'.join(map(str, cfg.network.layers))}, T={cfg.timesteps}, "
               f"{cfg.hardware.lanes} lanes, {mm['weight_rows']} weight rows x "
               f"{cfg.hardware.lanes} banks")
    if check:
        try:
            lint_verilator(out / f"{TOP}.v")
            click.echo("verilator --lint-only -Wall: clean (waivers in rtl_gen/generate.py)")
            check_yosys(out / f"{TOP}.v")
            click.echo("yosys check -assert: clean")
        except RuntimeError as err:
            click.echo(f"snngen: {err}", err=True)
            sys.exit(1)


@main.command("regress")
@click.argument("configs", nargs=-1, required=True)
@click.option("--seeds", type=click.IntRange(1, 1000), default=1, show_default=True,
              help="run seeds 1..N per config")
@click.option("--samples", type=click.IntRange(1, 10000), default=2, show_default=True,
              help="samples per random and digits case")
@click.option("--idle", type=click.FloatRange(0, 0.9), default=0.2, show_default=True,
              help="probability of an idle cycle before each host word")
@click.option("--backpressure", type=click.FloatRange(0, 0.9), default=0.3, show_default=True,
              help="probability of ready low per answer cycle")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None)
def regress_cmd(configs, seeds, samples, idle, backpressure, json_path) -> None:
    """cocotb + Verilator regression of CONFIGS: RTL vs golden, bit- and cycle-exact."""
    from sim.regress import build_core, default_cases, run_core

    cfgs = [_load(c) for c in configs]  # all validated before anything is built
    for cfg in cfgs:
        _require_fixed(cfg)
    json_file = _check_output(json_path, "--json")
    rows = []
    for cfg in cfgs:
        sim = build_core(cfg)
        for seed in range(1, seeds + 1):
            r = run_core(cfg, default_cases(cfg, seed, samples), seed=seed, idle=idle,
                         backpressure=backpressure, sim=sim, check=False)
            rows.append(r)
            click.echo(f"{cfg.name:<12} seed {seed:<4} {'PASS' if r.passed else 'FAIL'}  "
                       f"{r.samples} samples ({r.trained} trained), {r.run_cycles} cycles, {r.records} "
                       f"records checked, {r.seconds:.1f} s")
            if not r.passed:
                click.echo(r.message, err=True)
    n_fail = sum(not r.passed for r in rows)
    click.echo(f"{len(rows) - n_fail} passed, {n_fail} failed")
    if json_file:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps([r.__dict__ for r in rows], indent=2, default=str) + "\n")
    sys.exit(1 if n_fail else 0)


@main.command("train")
@click.argument("config")
@click.option("--model", type=click.Choice(["float", "fixed", "rtl"]), default="fixed",
              show_default=True, help="golden model to train, or the generated core (rtl: "
              "Verilator, every sample checked against the fixed model)")
@click.option("--samples", type=click.IntRange(0, 10**7), default=0,
              help="rtl: train only the first N samples (0: whole epochs)")
@click.option("--readback-every", type=click.IntRange(1, 10**7), default=1, show_default=True,
              help="rtl: read every parameter back after every N-th sample")
@click.option("--test", "n_test", type=click.IntRange(-1, 10**7), default=0,
              help="rtl: then infer N test samples through the core (-1: all)")
@click.option("--epochs", type=click.IntRange(1, 1000), default=None,
              help="epochs (default: the config's train.epochs)")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None,
              help="write the result as JSON")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="write the accuracy curves as PNG")
@click.option("--progress/--no-progress", default=True, help="progress bar")
def train_cmd(config: str, model: str, epochs: int | None, json_path: str | None,
              plot_path: str | None, progress: bool, samples: int, readback_every: int,
              n_test: int) -> None:
    """Train a golden model, or the generated core, online on the config's data set."""
    from golden.train import plot_curves, train

    cfg = _load(config)
    json_file = _check_output(json_path, "--json")
    plot_file = _check_output(plot_path, "--plot")
    if model != "float":
        _require_fixed(cfg)
    if model == "rtl":
        _train_rtl(cfg, epochs or 1, samples, readback_every, n_test, json_file)
        return
    click.echo(f"training {model} model on {cfg.data.dataset}: layers "
               f"{'-'.join(map(str, cfg.network.layers))}, T={cfg.timesteps}, "
               f"{cfg.network.reset} reset, leak {cfg.network.leak}, "
               f"threshold learning {'on' if cfg.network.learn_threshold else 'off'}, "
               f"centering {'on' if cfg.network.weight_centering else 'off'}")
    res, _ = train(cfg, model, epochs, progress=progress, log=click.echo)
    click.echo(f"final test accuracy {100 * res.test_accuracy:.2f}% "
               f"(best {100 * max(res.test_accuracy_per_epoch):.2f}%), "
               f"{res.train_samples_per_s:.0f} training samples/s, {res.seconds:.1f} s")
    if json_file:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(res.to_json(), indent=2) + "\n")
        click.echo(f"wrote {json_file}")
    if plot_file:
        plot_file.parent.mkdir(parents=True, exist_ok=True)
        plot_curves(res, plot_file)
        click.echo(f"wrote {plot_file}")


def _train_rtl(cfg: Config, epochs: int, samples: int, every: int, n_test: int,
               json_file: Path | None) -> None:
    from sim.regress import build_core, run_core

    click.echo(f"building the {cfg.name} core (Verilator, cached per config hash) ...")
    sim = build_core(cfg)
    what = f"{samples} samples" if samples else f"{epochs} epoch(s)"
    click.echo(f"training {what} of {cfg.data.dataset} through the core ({cfg.hardware.schedule} "
               f"schedule), every sample checked against the fixed golden model ...")
    r = run_core(cfg, [], sim=sim, check=False, test_module="sim.tests.train_tb",
                 extra={"epochs": epochs, "samples": samples, "readback_every": every,
                        "test": n_test})
    if not r.passed:
        click.echo(r.message, err=True)
        click.echo("FAIL: the core differs from the golden model", err=True)
        sys.exit(1)
    rep = r.report
    click.echo(f"PASS: {rep['trained']} samples trained bit- and cycle-exact (parameters read "
               f"back every {every}), online accuracy {100 * rep['online_accuracy']:.2f}%")
    click.echo(f"  {rep['cycles_per_sample']:.0f} cycles per training sample, "
               f"{rep['sim_cycles'] / rep['seconds']:.0f} simulated cycles/s, "
               f"{rep['train_seconds']:.1f} s")
    if rep["test_samples"]:
        click.echo(f"  test accuracy through the core {100 * rep['test_accuracy']:.2f}% on "
                   f"{rep['test_samples']} samples (golden: "
                   f"{100 * rep['golden_test_accuracy']:.2f}%), "
                   f"{rep['infer_cycles_per_sample']:.0f} cycles per inference")
    if json_file:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps({"config": cfg.name, "model": "rtl", **rep}, indent=2)
                             + "\n")
        click.echo(f"wrote {json_file}")


def _by_seed(fmax_by_seed: dict[str, float | None], none: str = "failed") -> str:
    """``1: 32.4, 2: 34.7, 3: failed`` (``none`` for a seed without an Fmax)"""
    return ", ".join(f"{s}: {none if f is None else f'{f:.1f}'}"
                     for s, f in fmax_by_seed.items())


@main.command("synth")
@click.argument("config")
@click.option("--target", type=click.Choice(list(TARGETS)),
              default=None, help="FPGA part (default: the config's hardware.target)")
@click.option("--board", type=click.Choice(list(BOARDS)), default=None, help="also build a bitstream for this board (its part is the "
              "target)")
@click.option("--seed", type=click.IntRange(1, 10**6), default=1, show_default=True,
              help="nextpnr placement seed (the first of --seeds)")
@click.option("--seeds", type=click.IntRange(1, 100), default=1, show_default=True,
              help="place and route at this many seeds from --seed on, in parallel, and "
              "keep the fastest")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="build folder (default build/synth/<config hash>-<target>)")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None,
              help="write the result as JSON")
def synth_cmd(config: str, target: str | None, board: str | None, seed: int, seeds: int,
              out_dir: str | None, json_path: str | None) -> None:
    """Synthesize CONFIG's core (behind its UART bridge) with yosys and nextpnr: area,
    Fmax, and whether it fits; with --board, a bitstream."""
    from .synth import SynthError, format_results, synthesize

    cfg = _load(config)
    _require_fixed(cfg)
    json_file = _check_output(json_path, "--json")
    if board:
        btarget = BOARDS[board].target
        if target and target != btarget:
            click.echo(f"snngen: --target = {target!r}: allowed {btarget!r} with --board "
                       f"{board}", err=True)
            sys.exit(2)
        target = btarget
    target = target or cfg.hardware.target
    if target not in TARGETS:
        click.echo(f"snngen: hardware.target = {target!r}: allowed one of {', '.join(TARGETS)} "
                   "(or pass --target)", err=True)
        sys.exit(2)
    click.echo(f"synthesizing {cfg.name} for {target} (yosys, then nextpnr at "
               f"{cfg.hardware.clock_mhz:g} MHz) ...")
    try:
        res = synthesize(cfg, target, out_dir, seed=seed, seeds=seeds,
                         progress=lambda line: click.echo(line, err=True))
    except SynthError as err:
        click.echo(f"snngen: {err}", err=True)
        sys.exit(1)
    click.echo(format_results([res]))
    if len(res.fmax_by_seed) > 1:
        click.echo(f"Fmax by seed (MHz): {_by_seed(res.fmax_by_seed)}; the figures are seed "
                   f"{res.seed}'s")
    if res.critical_summary:
        click.echo("worst path: " + res.critical_summary)
    if res.critical_path:
        click.echo("its nets: " + " -> ".join(res.critical_path))
    click.echo(f"yosys {res.yosys_seconds:.0f} s, nextpnr {res.pnr_seconds:.0f} s; files in "
               f"{res.out_dir}")
    if json_file:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(res.as_dict(), indent=2) + "\n")
        click.echo(f"wrote {json_file}")
    if not res.fits:
        sys.exit(1)
    if board:
        from boards import build_bitstream

        clock = cfg.hardware.clock_mhz
        if not res.timing_met:
            click.echo(f"the core alone misses {clock:g} MHz: the board's design is placed for "
                       "it all the same (it places differently), else for 0.9 x its own Fmax")
        try:
            # the board's own design at the same seeds (its pins fixed and a PLL, it does
            # not place as the core alone did at any one seed), at the config's clock; when
            # no seed meets it, at 0.9 x the Fmax of the seed that came closest
            built = build_bitstream(cfg, board, Path(res.out_dir) / board, clock_mhz=clock,
                                    seeds=range(seed, seed + seeds),
                                    relax=lambda at, fmax, mhz: click.echo(
                                        f"the board's design missed {clock:g} MHz at every "
                                        f"seed (at best {fmax:.2f} MHz, seed {at}): building "
                                        f"it for {mhz} MHz (0.9 x that)"))
        except SynthError as err:
            click.echo(f"snngen: {err}", err=True)
            sys.exit(1)
        if len(built.fmax_by_seed) > 1:
            click.echo("the board's design, Fmax by seed (MHz): "
                       + _by_seed(built.fmax_by_seed, "stopped"))
        click.echo(f"bitstream {built.path} (core clock {built.clock_mhz:g} MHz; the board's "
                   f"design placed at {built.fmax_mhz} MHz, nextpnr seed {built.seed})")
        if json_file:  # the synthesis result and the board's build
            board_fig = {"board": board, "bitstream": str(built.path),
                         "clock_mhz": built.clock_mhz, "seed": built.seed,
                         "fmax_mhz": built.fmax_mhz, "fmax_by_seed": built.fmax_by_seed}
            json_file.write_text(json.dumps({**res.as_dict(), "board": board_fig}, indent=2)
                                 + "\n")


@main.command("board")
@click.argument("config")
@click.option("--port", required=True, help="serial port of the board (e.g. /dev/ttyUSB1), "
              "or a pyserial URL")
@click.option("--baud", type=click.IntRange(300, 12_000_000), default=115200,
              show_default=True, help="the bitstream's UART speed")
@click.option("--samples", type=click.IntRange(0, 10**7), default=100, show_default=True,
              help="train the first N samples (0: whole epochs)")
@click.option("--epochs", type=click.IntRange(1, 1000), default=1, show_default=True)
@click.option("--readback-every", type=click.IntRange(1, 10**7), default=100,
              show_default=True, help="read every parameter back after every N-th sample")
@click.option("--test", "n_test", type=click.IntRange(-1, 10**7), default=0,
              help="then infer N test samples on the board (-1: all)")
@click.option("--timeout", type=click.FloatRange(0.01, 3600), default=2.0, show_default=True,
              help="seconds of silence before a reply counts as lost")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None)
def board_cmd(config, port, baud, samples, epochs, readback_every, n_test, timeout,
              json_path) -> None:
    """Train CONFIG's core on a board over its serial port (a bitstream from ``snngen synth
    --board``), every sample checked against the fixed golden model."""
    import serial

    from sim.scoreboard import Mismatch
    from sim.session import digits_session

    from .driver import drive
    from .protocol import MalformedReply, ProtocolError
    from .serial_host import open_host

    cfg = _load(config)
    _require_fixed(cfg)
    json_file = _check_output(json_path, "--json")
    try:
        host = open_host(port, baud, timeout)
    except (serial.SerialException, OSError) as err:
        click.echo(f"snngen: --port = {port!r}: cannot open it ({err})", err=True)
        sys.exit(2)
    try:
        host.nop()
        rep = drive(digits_session(cfg, epochs=epochs, samples=samples,
                                   readback_every=readback_every, n_test=n_test,
                                   log=click.echo), host.execute)
    except (Mismatch, AssertionError) as err:
        click.echo(f"FAIL: the board differs from the golden model: {err}", err=True)
        sys.exit(1)
    except (TimeoutError, serial.SerialException) as err:
        click.echo(f"snngen: the board does not answer on {port}: {err}", err=True)
        sys.exit(1)
    except (ProtocolError, MalformedReply) as err:
        click.echo(f"snngen: the device on {port} does not speak the core's protocol (is the "
                   f"bitstream for {cfg.name} loaded, at {baud} baud?): {err}", err=True)
        sys.exit(1)
    click.echo(f"PASS: {rep['trained']} samples trained on the board bit- and cycle-exact, "
               f"online accuracy {100 * rep['online_accuracy']:.2f}%, "
               f"{rep['cycles_per_sample']:.0f} cycles per sample, {rep['train_seconds']:.1f} s")
    if rep["test_samples"]:
        click.echo(f"  test accuracy on the board {100 * rep['test_accuracy']:.2f}% "
                   f"(golden {100 * rep['golden_test_accuracy']:.2f}%)")
    if json_file:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps({"config": cfg.name, "port": port, **rep}, indent=2)
                             + "\n")


@main.command("report")
@click.argument("config")
@click.option("-o", "--out", "out_path", type=click.Path(dir_okay=False), default="report.html",
              show_default=True, help="the HTML page")
@click.option("--results", "results_dir", type=click.Path(file_okay=False), default=None,
              help="benchmark results folder (default bench/results)")
@click.option("--train-json", "train_json", type=click.Path(dir_okay=False, exists=True),
              multiple=True, help="accuracy curves from `snngen train --json` (repeat); "
              "default: train both golden models now")
@click.option("--epochs", type=click.IntRange(1, 1000), default=None,
              help="epochs when training here (default: the config's)")
@click.option("--train/--no-train", default=True, help="train the golden models for curves "
              "the --train-json files do not give")
@click.option("--area/--no-area", default=True,
              help="run yosys for the area per block (cached in build/area/)")
@click.option("--target", type=click.Choice(list(TARGETS)), default=None,
              help="FPGA part of the area per block (default: the config's, or ecp5-85k)")
def report_cmd(config, out_path, results_dir, train_json, epochs, train, area, target) -> None:
    """One self-contained HTML page of CONFIG's figures and plots: accuracy curves, spike
    rasters, cycles per phase, area per block, the Pareto front, energy, performance."""
    from .report import RESULTS, build_report

    cfg = _load(config)
    _require_fixed(cfg)
    out = _check_output(out_path, "--out")
    results = Path(results_dir) if results_dir else RESULTS
    if not results.is_dir():
        click.echo(f"snngen: --results = {str(results)!r}: allowed an existing folder of "
                   "benchmark results (snngen bench writes them)", err=True)
        sys.exit(2)
    path = build_report(cfg, results, out, list(train_json) or None, epochs=epochs,
                        train=train, area=area, area_target=target, log=click.echo)
    click.echo(f"wrote {path}")


@main.command("sweep", add_help_option=False,
              context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def sweep_cmd(args) -> None:
    """Design-space sweep on Dask: every point synthesized (yosys), its cycles and accuracy
    measured, the Pareto front as JSON and a plot (``snngen sweep --help`` for the axes)."""
    from .dse import main as dse_main

    sys.exit(dse_main(list(args), prog="snngen sweep"))


def _synth_run(run: str) -> str:
    """Validate a ``CONFIG:TARGET[:SEEDS]`` run (exit 2 naming it)."""
    name, _, rest = run.partition(":")
    target, _, seeds = rest.partition(":")
    if target not in TARGETS or (seeds and not (seeds.isdigit() and 1 <= int(seeds) <= 100)):
        click.echo(f"snngen: --synth-run = {run!r}: allowed CONFIG:TARGET[:SEEDS] with TARGET "
                   f"one of {', '.join(TARGETS)} and SEEDS 1 to 100", err=True)
        sys.exit(2)
    _load(name)
    return run


@main.command("bench")
@click.argument("names", nargs=-1)
@click.option("--config", default="default", show_default=True,
              help="the config the single-config benchmarks measure")
@click.option("--configs", default="tiny,default,up5k,ecp5", show_default=True,
              help="comma-separated configs the per-config benchmarks compare")
@click.option("--synth-run", "synth_runs", multiple=True,
              help="CONFIG:TARGET[:SEEDS] for the synth benchmark (repeat; default "
                   "tiny:ecp5-85k and up5k:ice40-up5k; SEEDS: nextpnr seeds 1..SEEDS, the "
                   "fastest kept)")
@click.option("--quick", is_flag=True, help="fewer samples and repeats: a fast, noisier look")
@click.option("--sweep", is_flag=True, help="also run the design-space sweep (dse) on Dask")
@click.option("--scheduler", default=None, help="Dask scheduler address for the sweep "
              "(default: a LocalCluster)")
@click.option("--workers", type=click.IntRange(1, 256), default=2, show_default=True,
              help="worker processes (LocalCluster sweep, ablation)")
@click.option("--results", "results_dir", type=click.Path(file_okay=False), default=None,
              help="folder of the JSON results (default bench/results)")
@click.option("--summary", "summary_only", is_flag=True,
              help="run nothing: print the figures of the last runs")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None,
              help="write the headline figures as JSON")
def bench_cmd(names, config, configs, synth_runs, quick, sweep, scheduler, workers,
              results_dir, summary_only, json_path) -> None:
    """Run the benchmarks in bench/ (NAMES: some of golden_speed schedule forward_cycles
    energy sim_speed synth ablation dse; default all but ablation and dse), each writing
    bench/results/NAME.json, then print the headline figures."""
    from .bench import BENCHES, DEFAULT_BENCHES, RESULTS, BenchError, BenchOptions, run_benches
    from .bench import summary

    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        click.echo(f"snngen: benchmark {unknown[0]!r}: allowed {', '.join(BENCHES)}", err=True)
        sys.exit(2)
    config_list = tuple(c for c in configs.split(",") if c)
    for c in (config, *config_list):
        _load(c)
    runs = tuple(_synth_run(r) for r in synth_runs) or BenchOptions.synth_runs
    json_file = _check_output(json_path, "--json")
    selected = list(names or DEFAULT_BENCHES) + (["dse"] if sweep and "dse" not in names else [])
    results = Path(results_dir) if results_dir else RESULTS
    if results.exists() and not results.is_dir():
        click.echo(f"snngen: --results = {results_dir!r}: allowed a folder", err=True)
        sys.exit(2)
    opts = BenchOptions(config=config, configs=config_list, synth_runs=runs, quick=quick,
                        scheduler=scheduler, workers=workers, results=results)
    seconds = {}
    if not summary_only:
        try:
            seconds = run_benches(selected, opts, click.echo)
        except BenchError as err:
            click.echo(f"snngen: {err}", err=True)
            sys.exit(1)
    lines, figures = summary(results, config)
    click.echo("\n=== headline figures (bench/results/)\n" + "\n".join(lines))
    if json_file:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps({**figures, "bench_seconds": seconds}, indent=2) + "\n")
        click.echo(f"wrote {json_file}")


if __name__ == "__main__":
    main()

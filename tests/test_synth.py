"""Synthesis flow (rtl_gen/synth.py), the PLL settings and board builds (boards/).

The fast tests check the fit report, the tables and the PLL arithmetic; default-tier tests
run yosys on a core that cannot fit the UP5K and check the CLI's message, and sweep nextpnr
seeds over a small design; the slow tier places and routes a core and builds bitstreams."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from boards import BOARDS
from boards.pll import ecp5_pll, ice40_pll
from rtl_gen.cli import main
from rtl_gen.config import load_config
from rtl_gen.synth import (RESOURCES, TARGETS, PnrProgress, SynthResult, _critical_path,
                           _critical_summary, fit_problems, format_results, synthesize,
                           yosys_resources)


def test_targets_cover_the_config_choices():
    from rtl_gen.config import Hardware

    allowed = Hardware.model_fields["target"].annotation.__args__
    assert set(TARGETS) == set(allowed) - {"sim"}
    for t in TARGETS.values():
        assert set(t.capacity) == set(RESOURCES) == set(t.yosys_cells)
    for b in BOARDS.values():
        assert b.target in TARGETS


def test_yosys_estimate_and_overflow_message():
    tgt = TARGETS["ice40-up5k"]
    stat = {"design": {"num_cells_by_type": {"SB_LUT4": 6000, "SB_DFF": 100, "SB_DFFE": 20,
                                             "SB_CARRY": 50, "SB_RAM40_4K": 30,
                                             "SB_MAC16": 10}}}
    used = yosys_resources(stat, tgt)
    assert used == {"logic_cells": 6000, "ffs": 120, "brams": 30, "sprams": 0, "dsps": 10}
    probs = fit_problems(used, tgt)
    assert len(probs) == 2  # block RAMs exactly full is a fit
    assert probs[0] == ("logic cells: 6000 used, 5280 available on iCE40UP5K SG48 "
                        "(over by 720; 114 % of the part)")
    assert probs[1].startswith("DSPs: 10 used, 8 available") and "over by 2" in probs[1]
    ecp5 = TARGETS["ecp5-25k"]
    used = yosys_resources({"design": {"num_cells_by_type": {"LUT4": 100, "CCU2C": 10,
                                                             "DP16KD": 3}}}, ecp5)
    assert used["logic_cells"] == 120 and used["brams"] == 3 and not fit_problems(used, ecp5)


def test_result_table_and_json():
    r = SynthResult("up5k", "ice40-up5k", True, True, 40.0, fmax_mhz=37.5, logic_cells=5000,
                    ffs=2000, brams=20, dsps=8, capacity=dict(TARGETS["ice40-up5k"].capacity))
    assert not r.timing_met
    text = format_results([r])
    assert "5000/5280" in text and "37.5" in text and "below the config's clock 40" in text
    d = json.loads(json.dumps(r.as_dict()))
    assert d["timing_met"] is False and d["fits"] is True


def test_worst_path_summary_names_its_registers_and_splits_logic_from_routing():
    def step(kind, delay, a, b, net="n"):
        return {"type": kind, "delay": delay, "net": net, "from": {"cell": a}, "to": {"cell": b}}
    report = {"critical_paths": [
        {"from": "<async>", "to": "clk", "path": [step("routing", 20.0, "rst", "x_TRELLIS_FF_Q")]},
        {"from": "clk", "to": "clk", "path": [
            step("clk-to-q", 0.5, "core.q_TRELLIS_FF_Q_4", "core.q_TRELLIS_FF_Q_4"),
            step("routing", 2.0, "core.q_TRELLIS_FF_Q_4", "m_MULT18X18D", net="q"),
            step("logic", 4.0, "m_MULT18X18D", "m_MULT18X18D"),
            step("routing", 3.0, "m_MULT18X18D", "core.d_TRELLIS_FF_Q", net="p"),
            step("setup", 0.1, "core.d_TRELLIS_FF_Q", "core.d_TRELLIS_FF_Q")]},
        {"from": "clk", "to": "clk", "path": [step("logic", 1.0, "a", "b")]}]}
    assert _critical_summary(report) == \
        "core.q -> core.d: 9.60 ns = logic 4.60 ns (1 cells) + routing 5.00 ns"
    assert _critical_path(report) == ["q (2.00 ns)", "p (3.00 ns)"]
    assert _critical_summary({"critical_paths": []}) == ""


# lines of a real nextpnr-ecp5 (router2) log, abridged
_NEXTPNR_LOG = """\
Info: Logic utilisation before packing:
Info:     Total LUT4s:      12391/83640    14%
Info: Packing IOs..
Info: Packing constants..
Info: Packing carries...
Info: Device utilisation:
Info: Placed 0 cells based on constraints.
Info: Creating initial analytic placement for 10838 cells, random placement wirelen = 1402357.
Info: Running main analytical placer, max placement attempts per cell = 55329940.
Info:     at iteration #1, type ALL: wirelen solved = 4719, spread = 227382, legal = 229989; time = 1.53s
Info:     at iteration #2, type ALL: wirelen solved = 22853, spread = 169236, legal = 175223; time = 1.46s
Info: HeAP Placer Time: 69.79s
Info: Running simulated annealing placer for refinement.
Info:   at iteration #1: temp = 0.000000, timing cost = 2726, wirelen = 100301
Info: Max frequency for clock '$glbnet$clk$TRELLIS_IO_IN': 68.75 MHz (PASS at 50.00 MHz)
Info: Routing globals...
Info: Running router2...
Info:     iter=1 wires=231004 overused=14895 overuse=18014 archfail=NA
Info:     iter=2 wires=235206 overused=9084 overuse=9898 archfail=NA
Info: Critical path report for clock '$glbnet$clk$TRELLIS_IO_IN' (posedge -> posedge):
Info: Max frequency for clock '$glbnet$clk$TRELLIS_IO_IN': 61.25 MHz (PASS at 50.00 MHz)
"""


def test_pnr_progress_names_each_phase_once_and_its_latest_figures():
    said = []
    follow = PnrProgress(said.append, every=0.0)  # every figure line may be repeated
    for line in _NEXTPNR_LOG.splitlines(keepends=True):
        follow.line(line)
    said = [s.split(": ", 1)[1] for s in said]  # without the minutes
    assert said == [
        "packing", "analytic placement",
        "analytic placement, iteration #1, type ALL: wirelen solved = 4719",
        "analytic placement, iteration #2, type ALL: wirelen solved = 22853",
        "annealing placement",
        "annealing placement, iteration #1: temp = 0.000000, timing cost = 2726, wirelen = 100301",
        "timing analysis", "Fmax estimated after placement: 68.75 MHz (PASS at 50.00 MHz)",
        "routing",
        "routing, iter=1 wires=231004 overused=14895",
        "routing, iter=2 wires=235206 overused=9084",
        "timing analysis", "Fmax after routing: 61.25 MHz (PASS at 50.00 MHz)"]
    quiet = []  # with the default minute between figures, only the phases are named
    follow = PnrProgress(quiet.append)
    for line in _NEXTPNR_LOG.splitlines():
        follow.line(line)
    assert [s.split(": ", 1)[1] for s in quiet] == [
        "packing", "analytic placement", "annealing placement", "timing analysis",
        "Fmax estimated after placement: 68.75 MHz (PASS at 50.00 MHz)", "routing",
        "timing analysis", "Fmax after routing: 61.25 MHz (PASS at 50.00 MHz)"]
    assert all(s.startswith("  nextpnr ") and " min: " in s for s in quiet)


# router2's overused wires per iteration: the tiny core (routed at iteration 39, with a
# plateau of a few wires near the end) and the ecp5 core on the ECP5-85k (real, iterations
# 1-10), then a continuation that stays flat
_TINY_OVERUSED = [14895, 9084, 5702, 3575, 2312, 1464, 960, 721, 551, 424, 341, 286, 239, 198,
                  225, 166, 118, 77, 73, 62, 53, 51, 35, 35, 26, 27, 15, 18, 8, 7, 5, 7, 3, 4,
                  4, 4, 5, 1, 0]
_ECP5_OVERUSED = [85805, 60669, 46838, 37796, 32964, 30576, 28709, 27780, 27401, 28346]


def _router2_log(overused):
    return [f"Info:     iter={i} wires=1300000 overused={n} overuse={n} archfail=NA"
            for i, n in enumerate(overused, 1)]


def test_pnr_progress_says_when_routing_stops_converging():
    def said(overused):
        out = []
        follow = PnrProgress(out.append)
        for line in ["Info: Running router2...", *_router2_log(overused)]:
            follow.line(line)
        return [s.split(": ", 1)[1] for s in out if "not converging" in s]
    assert said(_TINY_OVERUSED) == []  # a plateau of a few wires is not a stall
    assert said(_ECP5_OVERUSED) == []  # still falling by more than 5 % per 4 iterations
    stall = said(_ECP5_OVERUSED + [27600, 27550, 27700])
    assert len(stall) == 1  # said once, at the first iteration it applies
    assert stall[0].startswith("routing is not converging: 27600 wires overused at "
                               "iteration 11, the best of the last 4 iterations 27401 "
                               "against 28709 before them")


@pytest.mark.parametrize("fin,want", [(12, 40), (12, 24), (12, 48), (12, 100)])
def test_ice40_pll_settings(fin, want):
    s = ice40_pll(fin, want)
    p = s.params
    fpfd = fin / (p["DIVR"] + 1)
    assert 10 <= fpfd <= 133 and 533 <= s.fvco <= 1066
    assert s.fvco == pytest.approx(fpfd * (p["DIVF"] + 1))
    assert s.fout == pytest.approx(s.fvco / 2 ** p["DIVQ"])
    assert s.fout <= want and s.fout >= 0.98 * want


@pytest.mark.parametrize("fin,want", [(25, 100), (25, 50), (25, 37.5), (25, 90)])
def test_ecp5_pll_settings(fin, want):
    s = ecp5_pll(fin, want)
    p = s.params
    assert s.fout == pytest.approx(fin / p["CLKI_DIV"] * p["CLKFB_DIV"])
    assert 400 <= s.fvco <= 800 and s.fvco == pytest.approx(s.fout * p["CLKOP_DIV"])
    assert s.fout <= want and s.fout >= 0.98 * want


def test_pll_out_of_range():
    with pytest.raises(ValueError, match="allowed 16 to 275 MHz"):
        ice40_pll(12, 400)
    with pytest.raises(ValueError, match="allowed 3.125 to 400 MHz"):
        ecp5_pll(25, 1000)


def test_synth_cli_rejects_bad_arguments(tmp_path):
    r = CliRunner().invoke(main, ["synth", "default"])  # target "sim": nothing to place
    assert r.exit_code == 2 and "hardware.target = 'sim'" in r.output
    r = CliRunner().invoke(main, ["synth", "up5k", "--board", "ulx3s-85f", "--target",
                                  "ice40-up5k"])
    assert r.exit_code == 2 and "allowed 'ecp5-85k' with --board ulx3s-85f" in r.output
    assert not list(tmp_path.iterdir())


def test_synth_cli_reports_what_overflows(tmp_path):
    """A core too big for the UP5K: yosys and nextpnr's packer run, placement does not, and
    the message names every resource that overflows with by how much (exit 1). The logic
    cells are the packer's count: at least yosys' LUTs (a cell holds one LUT)."""
    out = tmp_path / "s.json"
    r = CliRunner().invoke(main, ["synth", "tiny", "--target", "ice40-up5k", "-o",
                                  str(tmp_path / "build"), "--json", str(out)])
    assert r.exit_code == 1, r.output
    assert "tiny on ice40-up5k does not fit: logic cells:" in r.output
    assert "available on iCE40UP5K SG48 (over by" in r.output
    d = json.loads(out.read_text())
    assert d["fits"] is False and d["placed"] is False and d["logic_cells"] > 5280
    assert d["problems"] and d["fmax_mhz"] is None and d["packed"] is True
    stat = json.loads((tmp_path / "build" / "stat.json").read_text())
    luts = stat["design"]["num_cells_by_type"]["SB_LUT4"]
    assert d["logic_cells"] >= luts
    assert f"logic cells: {d['logic_cells']} used" in r.output


def _mac_verilog() -> str:
    """A small design with a real critical path: a 16 x 16 multiply-accumulate of two
    shift registers (few pins: the UP5K's package has 39 I/Os)."""
    from amaranth import Cat, Module, Signal, signed
    from amaranth.back import verilog
    from amaranth.lib import wiring
    from amaranth.lib.wiring import In, Out

    class Mac(wiring.Component):
        def __init__(self):
            super().__init__({"i": In(2), "o": Out(1)})

        def elaborate(self, platform):
            m = Module()
            a, b, acc = Signal(signed(16)), Signal(signed(16)), Signal(signed(40))
            m.d.sync += [a.eq(Cat(self.i[0], a)), b.eq(Cat(self.i[1], b)),
                         acc.eq(acc + a * b), self.o.eq(acc.xor())]
            return m

    return verilog.convert(Mac(), name="mac", emit_src=False)


def test_seed_sweep_keeps_the_fastest_and_reuses_placed_seeds(tmp_path):
    """``seeds=N`` places the netlist at N seeds (yosys once), keeps the fastest seed's
    figures and files, lists every seed's Fmax; a wider sweep places only the new seeds."""
    cfg, v = load_config("up5k"), _mac_verilog()
    res = synthesize(cfg, "ice40-up5k", tmp_path, seed=2, seeds=3, jobs=2, verilog=v,
                     top="mac")
    assert res.placed and res.fits
    assert list(res.fmax_by_seed) == ["2", "3", "4"]
    fmax = {int(s): f for s, f in res.fmax_by_seed.items()}
    assert all(f > 10 for f in fmax.values())
    assert res.fmax_mhz == max(fmax.values()) and fmax[res.seed] == res.fmax_mhz
    report = json.loads((tmp_path / "report.json").read_text())
    assert report == json.loads((tmp_path / f"seed-{res.seed}" / "report.json").read_text())
    assert not (tmp_path / "seed-2" / "netlist.json").exists()  # (only the reports stay)
    stamp = (tmp_path / "seed-3" / "report.json").stat().st_mtime_ns
    wider = synthesize(cfg, "ice40-up5k", tmp_path, seed=2, seeds=4, jobs=2, verilog=v,
                       top="mac")
    assert (tmp_path / "seed-3" / "report.json").stat().st_mtime_ns == stamp
    assert {s: wider.fmax_by_seed[s] for s in ("2", "3", "4")} == res.fmax_by_seed
    assert wider.fmax_mhz == max(f for f in wider.fmax_by_seed.values())
    with pytest.raises(ValueError, match="at least 1"):
        synthesize(cfg, "ice40-up5k", tmp_path, seeds=0, verilog=v, top="mac")


#: A stand-in for nextpnr: at ``--seed K`` it writes its log (``--log``) with the verdict
#: ``FMAX[K]`` gives against a 40 MHz clock and its placement (``--asc``), reading the netlist
#: (``--json``) from its working directory; ``None`` fails as a router does, and a seed in
#: ``SLOW`` runs for a minute first.
FAKE_NEXTPNR = """\
import sys, time
a = sys.argv[1:]
arg = lambda name: a[a.index(name) + 1]
seed = int(arg("--seed"))
open(arg("--json")).read()
FMAX, SLOW = {fmax}, {slow}
if seed in SLOW:
    time.sleep(60)
f = FMAX[seed]
with open(arg("--log"), "w") as log:
    if f is None:
        log.write("ERROR: failed to route\\n")
        sys.exit(2)
    verdict = "PASS" if f >= 40 else "FAIL"
    log.write(f"Info: Max frequency for clock 'clk': 30.00 MHz (PASS at 12.00 MHz)\\n")
    log.write(f"Info: Max frequency for clock 'clk': {{f:.2f}} MHz ({{verdict}} at 40.00 MHz)\\n")
open(arg("--asc"), "w").write(f"placed at seed {{seed}}")
sys.exit(0 if f >= 40 else 1)
"""


def _fake_nextpnr(path, fmax, slow=()):
    import sys

    path.write_text(f"#!{sys.executable}\n" + FAKE_NEXTPNR.format(fmax=fmax, slow=set(slow)))
    path.chmod(0o755)
    return str(path)


def test_seed_sweep_keeps_the_first_seed_that_meets_the_clock(monkeypatch, tmp_path):
    """The board build's nextpnr (boards/seed_sweep.py) places the board's netlist at each
    seed, two at a time, and keeps the first that meets the clock: its placement and log are
    the build's, the runs still going are stopped, the seeds after it are not started; the
    Fmax each seed reached is in seeds.json."""
    import subprocess

    from boards.seed_sweep import fmax_of_log, main as sweep_main, sweep, wrapper

    (tmp_path / "top.json").write_text("{}")
    args = ["--quiet", "--log", "top.tim", "--json", "top.json", "--asc", "top.asc"]
    tool = _fake_nextpnr(tmp_path / "nextpnr", {1: 38.2, 2: 39.1, 3: 40.3, 4: 41.0, 5: 45.0},
                         slow={4})
    # the executable the build script runs in nextpnr's place, with nextpnr's arguments
    exe = wrapper(tmp_path / "nextpnr-seeds", tool, [1, 2, 3, 4, 5], 2)
    run = subprocess.run([exe, *args], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "seed 3: 40.30 MHz, met the clock" in run.stdout
    assert (tmp_path / "top.asc").read_text() == "placed at seed 3"
    assert fmax_of_log((tmp_path / "top.tim").read_text()) == (40.3, False)
    swept = json.loads((tmp_path / "seeds.json").read_text())
    assert swept == {"fmax_by_seed": {"1": 38.2, "2": 39.1, "3": 40.3, "4": None},
                     "seed": 3, "passed": True, "missed_clock": False}
    # every seed misses: the closest one's log (with nextpnr's verdict) and exit 1
    tool = _fake_nextpnr(tmp_path / "nextpnr", {1: 38.2, 2: 39.1, 3: 37.0})
    monkeypatch.chdir(tmp_path)
    assert sweep_main(["--tool", tool, "--seeds", "1,2,3", "--jobs", "2", "--", *args]) == 1
    assert (tmp_path / "top.asc").read_text() == "placed at seed 2"
    assert "39.10 MHz (FAIL at 40.00 MHz)" in (tmp_path / "top.tim").read_text()
    assert json.loads((tmp_path / "seeds.json").read_text())["seed"] == 2
    assert json.loads((tmp_path / "seeds.json").read_text())["missed_clock"]
    # a failure that is not a missed clock ends the sweep with nextpnr's exit code
    tool = _fake_nextpnr(tmp_path / "nextpnr", {1: 38.2, 2: None, 3: 41.0, 4: 42.0})
    assert sweep(tool, args, [1, 2, 3, 4], jobs=1, cwd=tmp_path, poll=0.05) == 2
    assert "failed to route" in (tmp_path / "top.tim").read_text()
    assert json.loads((tmp_path / "seeds.json").read_text()) == {
        "fmax_by_seed": {"1": 38.2, "2": None}, "seed": 2, "passed": False,
        "missed_clock": False}
    with pytest.raises(ValueError, match="at least one"):
        sweep(tool, args, [], cwd=tmp_path)


def test_board_build_relaxes_the_clock_where_it_came_closest(monkeypatch, tmp_path):
    """A board build whose every seed misses the clock is, with ``relax``, built once more
    at the seed where it came closest, for 0.9 x the Fmax it reached there; without it, or on
    any other failure, the error is raised."""
    import boards
    from rtl_gen.synth import SynthError

    builds = []

    def fake_build(cfg, board, out, baud, clock_mhz, seeds, jobs):
        builds.append((clock_mhz, list(seeds)))
        if clock_mhz == 40:
            (out / "seeds.json").write_text(json.dumps(
                {"fmax_by_seed": {"1": 36.1, "2": 38.9, "3": 37.0}, "seed": 2,
                 "passed": False, "missed_clock": "FAIL at" in fail}))
            raise SynthError(fail)
        return boards.BoardBuild(out / "top.bin", clock_mhz, seeds[0], {str(seeds[0]): 38.5})

    monkeypatch.setattr(boards, "_build", fake_build)
    fail = "ERROR: Max frequency for clock 'clk': 38.9 MHz (FAIL at 39.75 MHz)"
    told = []
    built = boards.build_bitstream(None, "icebreaker", tmp_path, clock_mhz=40,
                                   seeds=range(1, 4), relax=lambda *a: told.append(a))
    assert told == [(2, 38.9, 35)] and builds == [(40, [1, 2, 3]), (35, [2])]
    assert built.path == tmp_path / "top.bin" and built.clock_mhz == 35
    with pytest.raises(SynthError, match="FAIL at"):
        boards.build_bitstream(None, "icebreaker", tmp_path, clock_mhz=40, seeds=[1, 2])
    fail = "ERROR: failed to route"
    with pytest.raises(SynthError, match="failed to route"):
        boards.build_bitstream(None, "icebreaker", tmp_path, clock_mhz=40, seeds=[1],
                               relax=lambda *a: told.append(a))
    with pytest.raises(ValueError, match="at least one"):
        boards.build_bitstream(None, "icebreaker", tmp_path, seeds=[])


def test_board_build_error_keeps_nextpnrs_verdict(monkeypatch, tmp_path):
    """A failed board build's message has nextpnr's verdict on the clock, which its log has
    above a slack histogram longer than the tail the message keeps (the seed retry reads
    the verdict)."""
    import boards
    from rtl_gen.synth import SynthError

    verdict = "ERROR: Max frequency for clock 'clk': 33.66 MHz (FAIL at 33.77 MHz)"

    class Plan:
        def execute_local(self, out):
            histogram = [f"Info: [ {i}, {i + 1}) |****+" for i in range(40)]
            (tmp_path / "top.tim").write_text("\n".join([verdict, *histogram, "1 error"]))
            raise RuntimeError("build_top.sh returned 1")

    class Platform:
        def build(self, top, *args, **kwargs):
            top._MustUse__silence = True  # (this fake elaborates nothing)
            return Plan()

    monkeypatch.setattr(boards, "_platform", lambda b: Platform())
    with pytest.raises(SynthError) as err:
        boards._build(load_config("up5k"), "icebreaker", tmp_path, 115200, 33.0, [3], 1)
    assert verdict in str(err.value) and "1 error" in str(err.value)
    assert "nextpnr seed 3" in str(err.value)


@pytest.mark.slow
@pytest.mark.parametrize("config,board,name", [("tiny", "ulx3s-85f", "top.bit"),
                                               ("up5k", "icebreaker", "top.bin")])
def test_bitstream(tmp_path, config, board, name):
    """``snngen synth CONFIG --board BOARD``: yosys, nextpnr (area, Fmax), then the board's
    bitstream (PLL at the config's clock, or at 0.9 x the board design's Fmax when it misses
    that; UART, LEDs) with the yowasp tools, the board's design meeting its clock. The up5k
    core fits the UP5K."""
    out = tmp_path / "s.json"
    r = CliRunner().invoke(main, ["synth", config, "--board", board, "-o",
                                  str(tmp_path / "build"), "--json", str(out)])
    assert r.exit_code == 0, r.output
    d = json.loads(out.read_text())
    assert d["fits"] and d["placed"] and d["fmax_mhz"] > 5
    for res in ("logic_cells", "brams", "dsps"):
        assert 0 < d[res] <= d["capacity"][res]
    bit = tmp_path / "build" / board / name
    assert bit.exists() and bit.stat().st_size > 100_000
    assert f"bitstream {bit}" in r.output
    b = d["board"]
    assert b["bitstream"] == str(bit) and b["fmax_mhz"] >= b["clock_mhz"] > 10


def test_icebreaker_below_the_pll_runs_from_its_oscillator():
    """An iCE40 core clock below the PLL's 16 MHz (0.9 x Fmax of a core slower than 17.8 MHz,
    as the up5k core was before its Fmax round) runs from the iCEBreaker's 12 MHz oscillator,
    without a PLL."""
    from boards import _platform
    from boards.top import BoardTop
    from rtl_gen.config import load_config

    b = BOARDS["icebreaker"]
    top = BoardTop(load_config("tiny"), b.family, b.status_leds, 115200, 15)
    plan = _platform(b).build(top, name="top", do_build=False)
    assert top.pll is None and top.fout == 12
    assert "SB_PLL40" not in plan.files["top.il"]
    with pytest.raises(ValueError, match="allowed 16 to 275 MHz"):
        _platform(b).build(BoardTop(load_config("tiny"), b.family, b.status_leds, 115200, 11),
                           name="top", do_build=False)


@pytest.mark.parametrize("board", sorted(BOARDS))
def test_board_design_elaborates(board):
    """Each board's top (PLL, UART, LEDs) elaborates for its platform without warnings; the
    pin file has the UART and the board's oscillator, from which nextpnr derives the PLL's
    output (no line names a net of the core's clock: that net is renamed in the flattened
    design, and nextpnr ignored the line); the PLL's output frequency is in the netlist."""
    from boards import _platform
    from boards.top import BoardTop
    from rtl_gen.config import load_config

    b = BOARDS[board]
    top = BoardTop(load_config("tiny"), b.family, b.status_leds, 115200, 40)
    plan = _platform(b).build(top, name="top", do_build=False)
    pins = next(v for k, v in plan.files.items() if k.endswith((".pcf", ".lpf")))
    assert "uart_0__rx__io" in pins and "uart_0__tx__io" in pins
    assert top.pll.fout <= 40 and top.pll.fout >= 39
    if b.family == "ice40":
        assert pins.count("set_frequency") == 1 and "set_frequency clk12_0__io 12" in pins
        assert "SB_PLL40_PAD" in plan.files["top.il"]
    else:
        assert "FREQUENCY NET" not in pins and 'FREQUENCY PORT "clk25_0__io" 25000000' in pins
        assert "FREQUENCY_PIN_CLKOP" in plan.files["top.il"]

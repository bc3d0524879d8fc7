"""``snngen report`` (rtl_gen/report.py) and area per block (rtl_gen/area.py).

The page is checked as a browser would see it: one file, parsed with html.parser; every
section there with its plot, every image an inline PNG that decodes, nothing fetched from
elsewhere (no http(s) or local-file ``src``/``href``, no ``<script src>``), and a missing
input named in a visible note with the command that produces it.

Area: the roll-up is checked on a small hierarchical design (the UART and FIFO blocks of the
bridge, a second or two of yosys) in the default tier, and on the tiny core (about three
minutes of yosys, flattened and not) in the slow tier.
"""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import html5lib
import pytest
from amaranth.back import verilog as amaranth_verilog
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from rtl_gen.area import AreaResult, area_per_block, format_area, rollup
from rtl_gen.config import load_config
from rtl_gen.report import SECTIONS, build_report
from rtl_gen.synth import RESOURCES, TARGETS, synthesize, yosys_resources
from rtl_gen.uart import UartRx, UartTx

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ---- a small hierarchical design ----------------------------------------------------------

class _Loopback(wiring.Component):
    """UART receiver -> FIFO -> FIFO -> UART transmitter: five modules (the receiver has an
    input synchronizer), two of them numbered siblings, each FIFO with a LUT-RAM memory."""

    def __init__(self):
        super().__init__({"rx": In(1, init=1), "tx": Out(1, init=1)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.uart_rx = urx = UartRx(8)
        m.submodules.uart_tx = utx = UartTx(8)
        m.submodules.fifo0 = f0 = SyncFIFOBuffered(width=8, depth=32)
        m.submodules.fifo1 = f1 = SyncFIFOBuffered(width=8, depth=32)
        m.d.comb += [urx.rx.eq(self.rx), self.tx.eq(utx.tx),
                     f0.w_data.eq(urx.o.payload), f0.w_en.eq(urx.o.valid),
                     urx.o.ready.eq(f0.w_rdy),
                     f1.w_data.eq(f0.r_data), f1.w_en.eq(f0.r_rdy), f0.r_en.eq(f1.w_rdy),
                     utx.i.payload.eq(f1.r_data), utx.i.valid.eq(f1.r_rdy),
                     f1.r_en.eq(utx.i.ready)]
        return m


@pytest.fixture(scope="module")
def tiny():
    return load_config("tiny")


@pytest.fixture(scope="module")
def small_area(tiny, tmp_path_factory):
    """(area per block, flattened yosys estimate) of the loopback design on the ECP5."""
    d = tmp_path_factory.mktemp("area")
    v = amaranth_verilog.convert(_Loopback(), name="loop", emit_src=False)
    res = area_per_block(tiny, "ecp5-85k", d / "area", verilog=v, top="loop")
    synthesize(tiny, "ecp5-85k", d / "flat", place=False, verilog=v, top="loop")
    flat = yosys_resources(json.loads((d / "flat" / "stat.json").read_text()),
                           TARGETS["ecp5-85k"])
    return res, flat, v, d


def test_area_blocks_add_up_small_design(tiny, small_area):
    res, flat, v, d = small_area
    blocks = {b.name: b for b in res.blocks}
    # numbered siblings are one block; their LUT-RAM storage is a block of its own
    assert blocks["fifo0-1"].instances == 2 and blocks["fifo0-1"].modules == ["loop.fifo0",
                                                                              "loop.fifo1"]
    mem = blocks["fifo0-1 (memories)"]
    assert set(mem.cells) == {"TRELLIS_DPR16X4"} and mem.resources["logic_cells"] > 0
    assert "TRELLIS_DPR16X4" not in blocks["fifo0-1"].cells
    assert {"uart_rx", "uart_rx.sync_rx", "uart_tx", "loop"} <= set(blocks)
    assert blocks["uart_rx.sync_rx"].resources["ffs"] == 2  # the two-stage synchronizer
    # the blocks partition the design: their sum is yosys' hierarchical count, exactly
    for k in RESOURCES:
        assert sum(b.resources[k] for b in res.blocks) == res.total[k] == res.design_total[k]
    top = next(m for m in res.modules if m.path == "")
    assert top.inclusive == res.total
    assert [m.path for m in res.modules] == ["", "fifo0", "fifo1", "uart_rx",
                                             "uart_rx.sync_rx", "uart_tx"]
    # Flattened (what snngen synth counts), yosys optimises across module boundaries: abc9
    # maps LUTs across them and logic that drives outputs nobody reads goes. These modules
    # are small, so much of their logic sits at their ports: about 20 % fewer logic cells
    # flattened (196 vs 244 when written); the tiny core loses 2.7 % (the slow test).
    assert 0.7 * res.total["logic_cells"] <= flat["logic_cells"] <= res.total["logic_cells"]
    assert flat["ffs"] <= res.total["ffs"]
    assert res.memories == [{"block": "fifo*", "memory": "storage", "banks": 2,
                             "cells": mem.cells, "resources": mem.resources}]
    # cached: the same design returns at once, marked as such; another design does not
    again = area_per_block(tiny, "ecp5-85k", d / "area", verilog=v, top="loop")
    assert again.cached and again.total == res.total
    assert area_per_block(tiny, "ecp5-85k", d / "area", verilog=v + "\n// changed\n",
                          top="loop", run=False) is None
    text = format_area(res)
    assert "fifo0-1 (memories)" in text and "total" in text


def test_rollup_counts_every_instance():
    """A module instantiated twice counts twice, its submodule too; RAM cells split off."""
    stat = {"modules": {
        "\\top": {"num_cells_by_type": {"LUT4": 3, "top.a": 2, "top.b": 1}},
        "\\top.a": {"num_cells_by_type": {"LUT4": 10, "TRELLIS_FF": 4, "top.a.c": 1}},
        "\\top.a.c": {"num_cells_by_type": {"CCU2C": 5}},
        "\\top.b": {"num_cells_by_type": {"LUT4": 1, "DP16KD": 2, "MULT18X18D": 1}},
    }, "design": {"num_cells_by_type": {"LUT4": 24, "TRELLIS_FF": 8, "CCU2C": 10,
                                        "DP16KD": 2, "MULT18X18D": 1, "top.a": 2,
                                        "top.b": 1}}}
    rams = [("top.b", "DP16KD", "wmem0.0.0"), ("top.b", "DP16KD", "wmem1.0.0")]
    res = rollup(stat, rams, "top", TARGETS["ecp5-85k"], "x")
    blocks = {b.name: b for b in res.blocks}
    assert blocks["a"].instances == 2 and blocks["a"].resources["logic_cells"] == 20
    assert blocks["a.c"].instances == 2 and blocks["a.c"].resources["logic_cells"] == 20
    assert blocks["b"].resources == {"logic_cells": 1, "ffs": 0, "brams": 0, "sprams": 0,
                                     "dsps": 1}
    assert blocks["b (memories)"].resources["brams"] == 2
    assert res.total == res.design_total == {"logic_cells": 3 + 20 + 20 + 1, "ffs": 8,
                                             "brams": 2, "sprams": 0, "dsps": 1}
    assert res.memories[0]["memory"] == "wmem" and res.memories[0]["banks"] == 2


# ---- the page -----------------------------------------------------------------------------

class _Page(HTMLParser):
    """What a browser would load: images per section, links, scripts, visible notes."""

    def __init__(self):
        super().__init__()
        self.section = None
        self.sections: dict[str, list[str]] = {}
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.scripts = 0
        self.notes: dict[str, list[str]] = {}
        self._note_depth = 0
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.section = a.get("id")
            self.sections[self.section] = []
        for k in ("src", "href", "srcset", "data", "action", "poster"):
            if a.get(k) is not None:
                self.refs.append((tag, k, a[k]))
        if tag == "img" and self.section:
            self.sections[self.section].append(a.get("src", ""))
        if tag in ("script", "iframe", "object", "embed"):
            self.scripts += 1
        if tag == "div" and "note" in (a.get("class") or ""):
            self._note_depth, self._text = 1, []
        elif self._note_depth and tag == "div":
            self._note_depth += 1

    def handle_endtag(self, tag):
        if tag == "section":
            self.section = None
        if tag == "div" and self._note_depth:
            self._note_depth -= 1
            if not self._note_depth:
                self.notes.setdefault(self.section, []).append("".join(self._text))

    def handle_data(self, data):
        if self._note_depth:
            self._text.append(data)


def _parse(path: Path) -> _Page:
    p = _Page()
    p.feed(path.read_text(encoding="utf-8"))
    p.close()
    return p


def _check_self_contained(page: _Page, text: str) -> None:
    # A browser parses the page the way the WHATWG HTML standard says; html5lib implements
    # that algorithm, and in strict mode any parse error (a stray tag, a bad nesting) raises.
    html5lib.HTMLParser(strict=True).parse(text)
    assert page.scripts == 0
    for tag, attr, value in page.refs:
        assert value.startswith("#") or value.startswith("data:image/png;base64,"), \
            f"<{tag} {attr}={value[:60]!r}> points outside the page"
    assert not re.search(r"url\(|@import|https?://", re.sub(r'src="data:[^"]*"', "", text))


def _check_png(src: str) -> tuple[int, int]:
    from PIL import Image

    assert src.startswith("data:image/png;base64,")
    raw = base64.b64decode(src.split(",", 1)[1], validate=True)
    assert raw.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(raw)) as im:
        im.load()
        assert im.format == "PNG" and im.width > 0 and im.height > 0
        return im.size


def _fixture_results(d: Path) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    pts = [{"name": f"L{lanes}-T{t}-{s}", "lanes": lanes, "timesteps": t, "schedule": s,
            "width": "w16.12", "w_bits": 16, "logic_cells": 4000 * lanes + 100 * t,
            "cycles_per_sample": 3000 / lanes + 50 * t + (400 if s == "serial" else 0),
            "accuracy": 0.80 + 0.01 * t, "pareto": False}
           for lanes in (1, 2, 4) for t in (2, 4) for s in ("serial", "dual")]
    for p in pts:
        p["pareto"] = p["schedule"] == "dual" and p["timesteps"] == 4
        p["fits"] = p["lanes"] < 4 or p["schedule"] == "dual"
    pts[0]["fixed"] = {"w_bits": pts[0].pop("w_bits")}  # as rtl_gen/dse.py nests it
    pts.append({"name": "failed", "lanes": 8, "timesteps": 4, "schedule": "dual",
                "width": "w16.12", "w_bits": 16, "logic_cells": None,
                "cycles_per_sample": None, "accuracy": None, "pareto": False,
                "error": "SynthError: yosys failed"})
    (d / "dse.json").write_text(json.dumps({"base": "tiny", "target": "ecp5-85k",
                                            "points": pts, "failed": ["failed"],
                                            "pareto": [p["name"] for p in pts if p["pareto"]],
                                            "seconds": 12.5}))
    (d / "energy.json").write_text(json.dumps([
        {"config": "tiny", "train_pj": 1.5e5, "infer_pj": 4.1e4, "snn_over_ann": 0.42,
         "sparsity": 0.31, "phase_pj": {"forward": 7e4, "backward": 4e4, "update": 4e4},
         "ann": {"train_pj": 3.6e5}},
        {"config": "default", "train_pj": 9e5}]))
    (d / "synth.json").write_text(json.dumps([
        {"config": "tiny", "target": "ecp5-85k", "fits": True, "placed": True,
         "fmax_mhz": 34.86, "clock_mhz": 50.0, "logic_cells": 18902, "ffs": 4007, "brams": 8,
         "sprams": 0, "dsps": 40, "cycles_per_sample": 786.07, "samples_per_s": 44347.2,
         "samples_per_s_at_clock": 63607.6, "cpu_samples_per_s": 2031.5, "speedup": 21.83,
         "speedup_at_clock": 31.31, "problems": []}]))
    (d / "golden_speed.json").write_text(json.dumps(
        {"config": "default", "repeats": 9, "fixed_samples_per_s": 1139.1,
         "float_samples_per_s": 1361.6}))
    return d


def test_report_tiny_every_plot_inline(tiny, small_area, tmp_path):
    """Golden training (1 epoch, fixed and float), timing model, fixture sweep / energy /
    synthesis results, the loopback's area: every section with its plot, nothing linked."""
    results = _fixture_results(tmp_path / "results")
    out_dir = tmp_path / "out"
    out = build_report(tiny, results, out_dir / "report.html", area=small_area[0], log=None)
    assert out == out_dir / "report.html"
    assert [p.name for p in out_dir.iterdir()] == ["report.html"]  # one file, nothing beside
    text = out.read_text(encoding="utf-8")
    page = _parse(out)
    _check_self_contained(page, text)
    assert list(page.sections) == list(SECTIONS)
    want_plots = {"accuracy": 1, "rasters": 1, "cycles": 2, "area": 1, "pareto": 1,
                  "energy": 1, "performance": 1}
    for key, n in want_plots.items():
        assert len(page.sections[key]) >= n, key
        for src in page.sections[key]:
            w, h = _check_png(src)
            assert w > 100 and h > 100
    # nothing is missing but the simulation speed (no sim_speed.json in the fixture)
    missing = {k: v for k, v in page.notes.items() if v}
    assert set(missing) <= {"performance", "pareto", "energy"}
    assert any("snngen bench sim_speed" in n for n in missing["performance"])
    assert not any("snngen bench dse" in n for n in missing.get("pareto", []))
    # the content: both models' curves, rasters of every layer, schedules, area, front
    for s in ("trained now", "lif1", "serial", "dual", "dense", "event bound", "fifo0-1",
              "L4-T4-dual", "forward 70,000, backward 40,000", "snn_over_ann", "44,347",
              "21.8x"):
        assert s in text, s
    assert "1 of 13 points lack logic cells" in text
    assert "&amp;nbsp;" not in text and "&nbsp;" * 4 + "fifo0" in text  # the module tree


def test_report_missing_inputs_are_named(tiny, tmp_path):
    """No results, no training, no cached area: the page still opens, and each section that
    lacks its input says so, naming the command that produces it."""
    fixed = {"model": "fixed", "config": "tiny", "config_hash": "0" * 12, "epochs": 3,
             "test_accuracy": 0.9, "train_accuracy": 0.93,
             "test_accuracy_per_epoch": [0.8, 0.85, 0.9],
             "train_accuracy_per_epoch": [0.82, 0.9, 0.93],
             "online_accuracy_per_epoch": [0.7, 0.85, 0.9], "spike_rate": {"input": 0.3}}
    fj = tmp_path / "fixed.json"
    fj.write_text(json.dumps(fixed))
    out = build_report(tiny, tmp_path / "no-results", tmp_path / "r.html", [fj], train=False,
                       area=False, area_dir=tmp_path / "no-area", samples=20, log=None)
    text = out.read_text(encoding="utf-8")
    page = _parse(out)
    _check_self_contained(page, text)
    assert list(page.sections) == list(SECTIONS)
    notes = {k: " ".join(v) for k, v in page.notes.items()}
    assert "snngen train tiny --model float --json" in notes["accuracy"]
    assert "was trained on config 'tiny' (hash 000000000000)" in notes["accuracy"]
    assert "python -m rtl_gen.area tiny --target ecp5-85k" in notes["area"]
    assert "snngen bench dse" in notes["pareto"]
    assert "snngen bench energy" in notes["energy"]
    assert "snngen bench synth" in notes["performance"]
    assert "snngen bench golden_speed" in notes["performance"]
    for key in ("area", "pareto", "energy"):
        assert page.sections[key] == [], key  # a note, no plot
    # what can be computed still is: the fixed curve from its file, rasters (initial
    # parameters), cycles from the timing model
    for key in ("accuracy", "rasters", "cycles"):
        assert page.sections[key], key
        for src in page.sections[key]:
            _check_png(src)
    assert "initial parameters" in text and "computed now" in text
    assert re.search(r'<a href="#area">Area per block</a></td><td><span class="bad">missing',
                     text)


def test_report_rejects_nothing_from_odd_json(tiny, tmp_path):
    """Unreadable and oddly shaped inputs give notes, not exceptions."""
    d = tmp_path / "results"
    d.mkdir()
    (d / "dse.json").write_text("{not json")
    (d / "energy.json").write_text(json.dumps({"total_pj": 5.0, "per_phase": {"a": 1, "b": 2}}))
    (d / "synth.json").write_text(json.dumps([]))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"hello": 1}))
    out = build_report(tiny, d, tmp_path / "r.html", [bad, tmp_path / "absent.json"],
                       train=False, area=False, area_dir=tmp_path / "no-area", samples=10,
                       log=None)
    page = _parse(out)
    notes = {k: " ".join(v) for k, v in page.notes.items()}
    assert "is not readable JSON" in notes["pareto"]
    assert "not a `snngen train --json` result" in notes["accuracy"]
    assert "absent.json does not exist" in notes["accuracy"]
    assert "no row for tiny" in notes["energy"] and len(page.sections["energy"]) == 1
    _check_png(page.sections["energy"][0])


@pytest.mark.slow
def test_area_per_block_tiny_core(tiny, tmp_path):
    """The tiny core behind its UART: blocks add up to the hierarchical netlist exactly, and
    to the flattened one (what snngen synth counts) within 5 %: flattening lets yosys
    optimise across module boundaries (constants, unused outputs), which makes the flat
    design a little smaller (17,114 vs 16,656 logic cells at the time of writing)."""
    res = area_per_block(tiny, "ecp5-85k", tmp_path / "area")
    assert res.total == res.design_total
    names = {b.name for b in res.blocks}
    assert {"core.engine", "core.engine (memories)", "core.engine.lif0-3", "core.host",
            "core.engine.queue", "uart_rx", "uart_tx",
            "rx_fifo"} <= names
    lif = next(b for b in res.blocks if b.name == "core.engine.lif0-3")
    assert lif.instances == tiny.hardware.lanes
    wmem = next(m for m in res.memories if m["memory"] == "wmem")
    assert wmem["banks"] == tiny.hardware.lanes and wmem["resources"]["brams"] > 0
    flat = synthesize(tiny, "ecp5-85k", tmp_path / "flat", place=False)
    for k in ("logic_cells", "ffs"):
        assert abs(getattr(flat, k) - res.total[k]) <= 0.05 * res.total[k], k
    assert (flat.brams, flat.dsps) == (res.total["brams"], res.total["dsps"])
    out = build_report(tiny, tmp_path / "results", tmp_path / "r.html", area=res, log=None)
    page = _parse(out)
    assert len(page.sections["area"]) == 1
    _check_png(page.sections["area"][0])
    assert isinstance(AreaResult.from_dict(json.loads(json.dumps(res.as_dict()))), AreaResult)


@pytest.mark.parametrize("args, message", [
    (["--results", "no/such/folder"], "--results = 'no/such/folder': allowed an existing folder"),
    (["--target", "xc7"], "Invalid value for '--target'"),
])
def test_snngen_report_bad_arguments_exit_2(tmp_path, args, message):
    out = tmp_path / "r.html"
    r = subprocess.run([sys.executable, "-m", "rtl_gen.cli", "report", "tiny", "-o", str(out),
                        "--no-train", "--no-area", *args], capture_output=True, text=True,
                       cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr and not out.exists()


def test_snngen_report_writes_the_page(tmp_path):
    out = tmp_path / "r.html"
    r = subprocess.run([sys.executable, "-m", "rtl_gen.cli", "report", "tiny", "-o", str(out),
                        "--results", str(tmp_path), "--no-train", "--no-area"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    page = out.read_text()
    assert "<h2" in page and "snngen bench" in page  # the missing results are named

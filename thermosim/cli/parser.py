"""The command line's grammar: every subcommand, option and help text (the commands are in __init__)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import __version__
from ..errors import spice_number
from ..paths import RESULTS


class _Parser(argparse.ArgumentParser):
    """argparse with the one-line error of every other bad input (no usage block)."""

    def error(self, message: str):
        self.exit(2, f"thermosim: error: {message} (see `{self.prog} --help`)\n")


def _kelvin(text: str) -> float:
    value = spice_number(text)
    if value is None or not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"'{text}' is not a temperature in kelvin (a positive number)")
    return value


def _seed(text: str) -> int:
    """A noise seed: an integer from 0 to 2**64 - 1."""
    from ..errors import MAX_SEED

    value = int(text)  # argparse turns a ValueError into "invalid integer value"
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to 2**64 - 1, got {value}")
    return value


def _count(text: str) -> int:
    """A count: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {value}")
    return value


_seed.__name__ = _count.__name__ = "integer"  # argparse says "invalid integer value: 'x'"


def _words(text: str) -> str:
    """A help paragraph written across lines, as one line of words (argparse wraps it again)."""
    return " ".join(text.split())


def _setting(text: str) -> tuple[str, object]:
    """``--set KEY=VALUE``: a dotted spec key and a TOML value (a bare word is a string; "10k" a number)."""
    import tomllib

    key, eq, value = text.partition("=")
    if not eq or not key.strip():
        raise argparse.ArgumentTypeError(f"must be KEY=VALUE (e.g. circuit.c_f=2e-12), got {text!r}")
    try:
        return key.strip(), tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return key.strip(), value.strip()


_setting.__name__ = "KEY=VALUE setting"


def _out_and_json(p: argparse.ArgumentParser, default: Path | None, out_help: str, json_help: str) -> None:
    """The --out folder and --json switch every producing command has."""
    p.add_argument("--out", type=Path, default=default, help=out_help)
    p.add_argument("--json", action="store_true", help=f"print one JSON object ({json_help})")


def _executor(p: argparse.ArgumentParser) -> None:
    """--dask | --scheduler ADDR: where the runs go instead of local processes (sweep, generate, linalg)."""
    ex = p.add_mutually_exclusive_group()
    ex.add_argument("--dask", action="store_true", help="start a local Dask cluster with --workers workers")
    ex.add_argument(
        "--scheduler", metavar="ADDR", help="submit to an existing Dask scheduler, e.g. tcp://host:8786"
    )


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="thermosim",
        description=_words(
            """
            Thermodynamic-computing circuits in ngspice with calibrated, seeded noise, judged
            against exact theory. Bad input exits 2 with one line; a failed physics check exits
            1.
            """
        ),
    )
    p.add_argument("--version", action="version", version=f"thermosim {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="simulate a spec (circuits/NAME.toml or a path) or run any .cir netlist")
    r.add_argument("target", help="spec name, spec path, or a .cir netlist")
    r.add_argument("--seed", type=_seed, help="noise seed (default: the spec's sim.seed)")
    r.add_argument("--out", type=Path, help="output directory (default results/<name>)")
    r.add_argument("--json", action="store_true", help="print one JSON object of the metrics on stdout")
    r.add_argument(
        "--probe",
        nargs="+",
        action="extend",
        metavar="VAR",
        help="variables to analyse in a netlist: nodes (n1, v(n1)) or branch currents (i(v1))",
    )
    r.add_argument(
        "--thermal",
        type=_kelvin,
        metavar="K",
        help="netlist: seeded Johnson noise on every resistor at K kelvin, exact theory when linear",
    )
    r.add_argument("--no-plots", action="store_true", help="skip the figures")
    r.add_argument(
        "--set", type=_setting, action="append", metavar="KEY=VALUE", help="override a spec key (repeatable)"
    )
    r.add_argument("--keep-run-dir", action="store_true", help="keep ngspice's run directory")
    r.add_argument(
        "--samples",
        choices=["full", "thin", "none"],
        default="full",
        help="samples.npz: every sample (default), every k-th to stay under ~10 MB, or no file",
    )

    n = sub.add_parser("netlist", help="print the netlist of a spec")
    n.add_argument("spec", help="spec name (circuits/NAME.toml) or path")

    ns = sub.add_parser("netlists", help="regenerate netlists/*.cir from every spec in circuits/")
    ns.add_argument("--check", action="store_true", help="only compare; exit 1 listing stale files")

    z = sub.add_parser("noise", help="write the seeded noise file a netlist reads (for stock ngspice runs)")
    z.add_argument("spec", help="spec name (circuits/NAME.toml) or path")
    z.add_argument("--seed", type=_seed, help="noise seed (default: the spec's sim.seed)")
    z.add_argument("--out", type=Path, help="directory to write to (default: the current folder)")

    sw = sub.add_parser("sweep", help="run a sweep spec (circuits/sweeps/NAME.toml or a path)")
    sw.add_argument("sweep", help="sweep name (circuits/sweeps/NAME.toml) or path")
    sw.add_argument("--workers", type=_count, default=None, help="parallel runs (default: all cores)")
    _executor(sw)
    sw.add_argument(
        "--resume", action="store_true", help="reuse every finished point in the output directory"
    )
    sw.add_argument(
        "--set", type=_setting, action="append", metavar="KEY=VALUE", help="fix a spec key at every point"
    )
    sw.add_argument("--out", type=Path, help="output directory (default results/sweeps/<name>)")

    pl = sub.add_parser("plot", help="re-plot a sweep from its table.csv without simulating")
    pl.add_argument("sweep_dir", type=Path, help="a sweep's output directory (with table.csv)")
    pl.add_argument("--x", help="axis for the horizontal axis (default: the first)")
    pl.add_argument("--y", nargs="+", help="metrics to plot (default: the sweep's)")

    sub.add_parser("families", help="list the circuit families (shipped and plugins), one line each")
    it = sub.add_parser("init", help="write NAME.toml here: a commented starter spec of a family")
    it.add_argument("family", help="family name (see `thermosim families`)")
    it.add_argument("name", help="the spec's name (and file name, NAME.toml)")
    de = sub.add_parser("describe", help="a family's spec keys: type, default, unit and note")
    de.add_argument("family", nargs="?", help="family name (see `thermosim families`)")
    de.add_argument("--all", action="store_true", help="every family and the shared keys (docs/reference.md)")

    d = sub.add_parser("demo", help="run the shipped specs and write results/REPORT.md")
    d.add_argument("--out", type=Path, default=RESULTS, help="results directory (default results/)")
    d.add_argument(
        "--fresh",
        action="store_true",
        help="recompute everything; by default sweep points, the comparison, the generation, the "
        "generative sweep and linalg already in --out are reused when made from the same inputs "
        "(content keys)",
    )

    c = sub.add_parser(
        "compare",
        help="the DDPM denoiser and the circuits judged side by side (digits and a Gaussian task)",
        description=_words(
            """
            Train (or load from results/digital/) a DDPM on scikit-learn's 8x8 digits, sample it
            at 10, 50 and 200 steps, sample the digits' Gaussian fit with an RC circuit in
            ngspice, and judge all with one classifier (recognisable fraction, class coverage,
            Frechet distance, nearest-training distance) beside held-out real digits and noise;
            energy per sample by term for each.
            """
        ),
    )
    c.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    _out_and_json(c, RESULTS / "compare", "output directory", "its 'rows': one per method")

    tr = sub.add_parser(
        "train",
        help="train the generative thermodynamic computer on the 8x8 digits (writes results/generative/)",
        description=_words(
            """
            Noise every training digit with the noising protocol, and fit per stage the
            couplings, per-unit J2/J4 and the class bank (ten bias vectors) by the probability
            of the time-reversed noising paths (Whitelam, PRL 2026): exact regularised least
            squares. Checkpoints the path sums after every epoch (an interrupted run resumes;
            another --stages, --ridge or --smooth reuses them), prints throughput at batch 1 and
            at the default batch side by side.
            """
        ),
    )
    tr.add_argument("dataset", choices=["digits"], help="the data set (scikit-learn's 8x8 digits)")
    for flag, kind, text in (  # the model's TrainConfig fields; unset ones keep its defaults
        ("--stages", _count, "K piecewise-constant protocol stages (default 1)"),
        ("--ridge", float, "ridge on each stage's parameters (default 1e-4)"),
        ("--smooth", float, "penalty on neighbouring stages' differences (default 1e-3)"),
        ("--epochs", _count, "passes of fresh noising paths over the data (default 3)"),
        ("--batch", _count, "trajectories per matrix product (default 128)"),
        ("--seed", _seed, "seed of the noising paths (default 0)"),
        ("--limit", _count, "only the first LIMIT digits (quick trials)"),
    ):
        tr.add_argument(flag, type=kind, help=text)
    tr.add_argument(
        "--tie-couplings",
        action="store_const",
        const=True,
        help="one coupling matrix for all stages: only own terms and class biases are staged",
    )
    tr.add_argument("--all-digits", action="store_true", help="train on all 1797 digits, not the train split")
    _out_and_json(tr, RESULTS / "generative", "output directory", "config, history, throughput")

    ge = sub.add_parser(
        "generate",
        help="generate digits with the trained computer: digital twin, ngspice circuit; judge them",
        description=_words(
            """
            Draw a class per sample, relax the units uncoupled, run the K trained stages with
            that class's biases, read the visible units (trained-branch current averaged over
            the last window, and the final voltages) as an Euler-Maruyama twin, as the
            behavioural circuit in ngspice and at transistor level; write samples.npz (arrays
            spice, twin, transistor: rows x 64, pixels 0-16, and *_class: the requested class)
            and metrics.json (image quality, class accuracy, SPICE-vs-twin MMD, heat, energy
            lines, ratio vs the DDPM at matched quality).
            """
        ),
    )
    ge.add_argument("--model", type=Path, help="trained model (default OUT/model.npz)")
    ge.add_argument("--n", type=_count, default=360, help="twin samples (default 360)")
    ge.add_argument("--spice-n", type=_count, help="ngspice samples (default: --n)")
    ge.add_argument(
        "--transistor-n", type=int, default=0, help="samples with five-transistor units (default 0: none)"
    )
    ge.add_argument("--relax", type=float, default=1.0, help="uncoupled relaxation, model time (default 1)")
    ge.add_argument(
        "--window", type=float, default=0.1, help="current read-out window, model time (default 0.1)"
    )
    ge.add_argument(
        "--gain",
        type=float,
        default=1.05,
        help="current read-out gain (the integrator's C divided by it; 1.05)",
    )
    ge.add_argument(
        "--class-bits",
        choices=["rng", "pbit"],
        default="rng",
        help="random bits of the classes (default rng)",
    )
    ge.add_argument("--workers", type=_count, help="parallel ngspice processes (default: all cores)")
    _executor(ge)
    ge.add_argument("--seed", type=_seed, default=1, help="noise seed (default 1)")
    _out_and_json(ge, RESULTS / "generative", "output directory (with model.npz)", "the metrics")

    b = sub.add_parser("bench", help="benchmarks that print ratios measured side by side")
    b.add_argument(
        "name", choices=["engine", "noise", "sweep", "generate", "coupling"], help="which benchmark"
    )
    b.add_argument("--json", action="store_true", help="print one JSON object of the figures")
    b.add_argument(
        "--repeats", type=_count, default=3, help="engine, coupling: alternated repeats (default 3)"
    )
    b.add_argument("--t-stop", type=float, help="engine: simulated time of the benchmark run (s)")

    la = sub.add_parser(
        "linalg",
        help="thermodynamic linear algebra: A⁻¹ or A⁻¹b sampled by a circuit; error vs time; mismatch floor",
    )
    la.add_argument("linalg_command", choices=["inverse", "solve", "mismatch"], help="what to compute")
    la.add_argument("--matrix", type=Path, help="A from a .npy file (d×d, symmetric positive definite)")
    la.add_argument("--random", type=int, nargs="+", metavar="D", help="random A of each size D (seeded)")
    la.add_argument("--cond", type=float, default=10.0, help="condition number of a random A (default 10)")
    la.add_argument("--matrix-seed", type=int, default=0, help="seed of the random A and b (default 0)")
    la.add_argument("--rhs", type=Path, help="solve: b from a .npy file (default: random, seeded)")
    la.add_argument("--circuit", choices=["rc", "rlc"], default="rc", help="circuit family (default rc)")
    la.add_argument("--samples", type=int, default=200_000, help="noise steps after burn-in (default 200000)")
    la.add_argument("--seed", type=int, default=1, help="noise seed (default 1)")
    la.add_argument("--workers", type=int, default=2, help="parallel ngspice runs (default 2)")
    _executor(la)
    _out_and_json(la, None, "output directory (default results/linalg/<command>)", "the results")
    la.add_argument(
        "--sigma", type=float, nargs="+", default=[0.0, 0.001, 0.01, 0.05], help="mismatch: tolerances"
    )
    la.add_argument("--mismatch-seeds", type=int, default=3, help="mismatch: draws per tolerance (default 3)")
    for key, what in (
        ("mismatch-sigma", "relative tolerance of every R, C, L and coupling"),
        ("mismatch-seed", "seed of the tolerance draws"),
        ("parasitic-c-f", "capacitance from each node to ground (F)"),
        ("noise-bandwidth-hz", "one-pole corner of the injected noise (Hz)"),
        ("actual-temperature-k", "noise placed at this temperature, theory at the nominal one (K)"),
    ):
        la.add_argument(
            f"--{key}", type=int if key == "mismatch-seed" else float, help=f"non-ideality: {what}"
        )
    for action in sub._choices_actions:  # each subcommand's --help opens with its one-line summary
        sub.choices[action.dest].description = sub.choices[action.dest].description or action.help
    return p

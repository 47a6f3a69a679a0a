"""The ``thermosim`` command: each subcommand parses its arguments (:mod:`.parser`) and makes one call of
the Python API. Errors print one line and exit 2; a failed physics check exits 1."""

from __future__ import annotations

import gc
import json
import os
import sys

from ..paths import RESULTS
from .parser import _parser


def entry() -> None:
    """The console script (and ``python -m thermosim.cli``): :func:`main`, then exit with its code.

    Before exiting, every object is frozen out of the garbage collector: the interpreter's last
    collections would otherwise walk all of numpy's and scipy's objects (0.05–0.1 s, 1–2 % of a
    few-second run, docs/development.md). Finalisers and at-exit handlers run as usual.

    numpy is told not to ask the kernel for huge pages (``NUMPY_MADVISE_HUGEPAGE=0``, unless the caller set
    it): where the kernel compacts memory to find them on demand (transparent_hugepage/defrag =
    "madvise", a common default) a fresh array of a run's size could wait milliseconds per page. The
    analysis of a 2·10⁶-sample run spent 0.05–0.09 s of system time so, 0.01–0.02 s without. numpy
    is not yet imported here (a test checks it), and this process's children inherit the setting."""
    os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
    code = main()
    gc.freeze()
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # the command line writes figures to files: never an interactive window. matplotlib loads when a
    # figure is drawn (a run without figures never imports it: ~0.1 s of start-up)
    if "matplotlib" in sys.modules:
        sys.modules["matplotlib"].use("Agg")
    else:
        os.environ["MPLBACKEND"] = "Agg"
    from ..errors import SpecError
    from ..spice.errors import SpiceError

    try:
        return COMMANDS[args.command](args)
    except (SpecError, SpiceError, ValueError, OSError) as err:
        msg = str(err)
        if isinstance(err, OSError) and err.strerror:
            msg = f"{err.strerror}: {err.filename}" if err.filename else err.strerror
        msg = " ".join(msg.splitlines())  # one line, whatever a message or a value quoted in it holds
        print(f"thermosim: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("thermosim: interrupted", file=sys.stderr)
        return 130


def cmd_compare(args) -> int:
    from .. import api
    from ..compare.digits import json_rows, markdown

    result = api.compare(args.out, seed=args.seed, log=sys.stderr)
    if args.json:
        print(json.dumps({**result, "rows": json_rows(result)}, default=str))
    else:
        print(markdown(result))
    return 0


def cmd_run(args) -> int:
    from .. import api
    from ..runs.run import summary_table

    result = api.run(
        args.target,
        seed=args.seed,
        out=args.out or "auto",
        probes=args.probe,
        thermal=args.thermal,
        plots=not args.no_plots,
        quiet=args.json,
        keep_run_dir=args.keep_run_dir,
        overrides=dict(args.set or ()),
        samples=args.samples,
    )
    where = str(result.out.resolve())
    if args.json:
        print(json.dumps({**result.metrics, "results": where}, default=str))
    else:
        print(summary_table(result.metrics) + f"\nresults: {where}")
    return 1 if result.passed is False else 0  # None: measured only, nothing failed


def cmd_netlist(args) -> int:
    from .. import api

    print(api.netlist(args.spec), end="")
    return 0


def cmd_netlists(args) -> int:
    from .. import api

    stale = api.netlists(check=args.check)
    if args.check:
        if stale:
            print("stale netlists (run `thermosim netlists`): " + ", ".join(str(s) for s in stale))
            return 1
        print("netlists are up to date")
        return 0
    print(f"wrote {len(stale)} netlist(s)" + (": " + ", ".join(s.name for s in stale) if stale else ""))
    return 0


def cmd_noise(args) -> int:
    from .. import api

    seed, n_lines, files = api.noise_files(args.spec, seed=args.seed, out=args.out)
    print(f"wrote {', '.join(str(f) for f in files)} ({n_lines:,} lines each, seed {seed})")
    return 0


def cmd_sweep(args) -> int:
    from .. import api

    table = api.sweep(
        args.sweep,
        out=args.out or "auto",
        workers=args.workers,
        dask=args.dask,
        scheduler=args.scheduler,
        resume=args.resume,
        overrides=dict(args.set or ()),
    )
    return 1 if table.attrs["failed"] else 0


def cmd_families(args) -> int:
    from .. import api
    from ..circuits.describe import summary

    for name in api.families():
        print(f"{name:14s} {summary(name)}")
    return 0


def cmd_init(args) -> int:
    from .. import api

    path = api.init(args.family, args.name)
    print(f"wrote {path}: edit it, then `thermosim run {path}`")
    return 0


def cmd_describe(args) -> int:
    from .. import api

    if args.all == (args.family is not None):
        raise ValueError("describe takes a family name or --all (see `thermosim families`)")
    print(api.reference() if args.all else api.describe(args.family), end="")
    return 0


def cmd_plot(args) -> int:
    from .. import api

    files = api.replot(args.sweep_dir, x=args.x, y=args.y)
    print(f"wrote {', '.join(str(args.sweep_dir / f) for f in files)}")
    return 0


def cmd_demo(args) -> int:
    from .. import api

    return api.demo(args.out, fresh=args.fresh)


def cmd_bench(args) -> int:
    from ..bench import bench_engine, bench_noise

    if args.name == "engine":
        figures = bench_engine(repeats=args.repeats, t_stop_s=args.t_stop, verbose=not args.json)
    elif args.name == "noise":
        figures = bench_noise(verbose=not args.json)
    elif args.name == "coupling":
        from ..bench import bench_coupling

        figures = bench_coupling(repeats=args.repeats, verbose=not args.json)
    elif args.name == "generate":
        from ..bench import bench_generate

        figures = bench_generate(RESULTS / "generative" / "model.npz", verbose=not args.json)
    else:
        from ..bench import bench_sweep

        figures = bench_sweep(verbose=not args.json)
    if args.json:
        print(json.dumps(figures))
    return 0


def cmd_train(args) -> int:
    from .. import api
    from ..generative.command import train_text

    keys = ("stages", "ridge", "smooth", "epochs", "seed", "batch", "tie_couplings", "all_digits", "limit")
    summary = api.train(args.out, quiet=args.json, **{k: getattr(args, k) for k in keys})
    print(json.dumps(summary, default=str) if args.json else train_text(summary))
    return 0


def cmd_generate(args) -> int:
    from .. import api
    from ..generative.command import summary_text

    keys = (
        "model",
        "n",
        "seed",
        "spice_n",
        "transistor_n",
        "workers",
        "dask",
        "scheduler",
        "relax",
        "window",
        "gain",
        "class_bits",
    )
    result = api.generate(args.out, quiet=args.json, **{k: getattr(args, k) for k in keys})
    print(json.dumps(result, default=str) if args.json else summary_text(result))
    return 0


def cmd_linalg(args) -> int:
    from .. import api
    from ..linalg.command import NONIDEAL_KEYS

    keys = ("matrix", "random", "cond", "matrix_seed", "rhs", "circuit", "samples", "seed", "out")
    keys += ("workers", "dask", "scheduler")
    summary = api.linalg(
        args.linalg_command,
        **{k: getattr(args, k) for k in keys},
        sigma=tuple(args.sigma),
        mismatch_seeds=args.mismatch_seeds,
        nonideal={k: getattr(args, k) for k in NONIDEAL_KEYS},
    )
    if args.json:
        print(json.dumps(summary, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())


# subcommand name -> its function (the parser's subcommand names are the keys)
COMMANDS = {name[4:].replace("_", "-"): f for name, f in dict(globals()).items() if name.startswith("cmd_")}

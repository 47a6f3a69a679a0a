"""Running a sweep: resume, atomic point files, table, summary, figures (executors: :mod:`.executor`)."""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import csv
import io
import json
import math
import sys
import time
from pathlib import Path

from ..analysis import quantities
from ..circuits import FAMILIES
from ..results import atomic_write_json, atomic_write_text, check_output_dir, claim_output_dir
from .executor import describe, make_executor
from .sweep import Point, Sweep, default_figures, points, run_point, summarize


def run_sweep(
    sweep: Sweep,
    out: Path,
    workers: int = 1,
    dask: bool = False,
    scheduler: str | None = None,
    resume: bool = False,
    log=sys.stderr,
) -> dict:
    """Run every point × replica not already finished, write results as they arrive, then the tables.

    Returns {"computed", "reused", "failed", "total", "wall_s"}.
    """
    check_output_dir(out, "sweep folder")  # a folder of the user's is refused before any work
    pts = points(sweep)
    pdir = out / "points"
    todo = [p for p in pts if not (resume and _finished(pdir / f"{p.key}.json"))]
    reused = len(pts) - len(todo)
    failed = 0
    # connect to the executor before writing anything: a bad scheduler address leaves no directory behind
    family = FAMILIES[pts[0].table["family"]]
    local = family.build.__module__ == "__main__"  # defined in a notebook or script: not importable
    if local and (dask or scheduler):
        raise ValueError(
            f"family '{family.name}' is defined in __main__ (a notebook or script), which Dask workers "
            "cannot import; put it in a module (or a plugin package) to sweep it on a cluster"
        )
    with make_executor(workers, dask, scheduler, threads=local) if todo else contextlib.nullcontext() as ex:
        claim_output_dir(out, "sweep folder")
        pdir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(out / "sweep.json", _describe(sweep))
        print(
            f"[sweep] {sweep.name}: {len(pts)} runs "
            f"({len(pts) // sweep.replicas} points × {quantities.plural(sweep.replicas, 'replica')}); "
            f"{reused} reused, {len(todo)} to run on {describe(workers, dask, scheduler)}",
            file=log,
        )
        t0 = time.perf_counter()
        if todo:
            try:
                failed = _run_all(sweep, todo, ex, pdir, log)
            except KeyboardInterrupt:
                done = sum(_finished(pdir / f"{p.key}.json") for p in pts)
                print(
                    f"[sweep] {sweep.name}: interrupted; {done} of {len(pts)} runs finished and kept in "
                    f"{pdir} (rerun with --resume to complete)",
                    file=log,
                    flush=True,
                )
                raise
    wall = time.perf_counter() - t0
    write_tables(sweep, out, pts)
    print(
        f"[sweep] {sweep.name}: {len(todo) - failed} computed, {reused} reused, {failed} failed "
        f"in {wall:.1f} s → {out}",
        file=log,
    )
    return {
        "computed": len(todo) - failed,
        "reused": reused,
        "failed": failed,
        "total": len(pts),
        "wall_s": wall,
    }


def _run_all(sweep: Sweep, todo: list[Point], ex: cf.Executor, pdir: Path, log) -> int:
    """Submit every run, write each result as it arrives; returns the number that failed."""
    from tqdm import tqdm

    failed = 0
    tty = hasattr(log, "isatty") and log.isatty()
    with tqdm(total=len(todo), unit="run", desc=sweep.name, file=log, disable=not tty) as bar:
        futures = {ex.submit(run_point, p.table, p.seed): p for p in todo}
        try:
            for i, fut in enumerate(cf.as_completed(futures), 1):
                p = futures[fut]
                try:
                    result = fut.result()
                except Exception as err:  # noqa: BLE001 - a lost worker is a failed point, not a lost sweep
                    result = {"error": f"{type(err).__name__}: {err}".splitlines()[0]}
                failed += "error" in result
                atomic_write_json(pdir / f"{p.key}.json", _record(sweep, p, result))
                bar.update()
                if not tty:
                    status = "FAILED: " + result["error"] if "error" in result else "ok"
                    print(
                        f"[sweep] {i}/{len(todo)} point {p.index} replica {p.replica} "
                        f"({_params_text(p)}): {status}",
                        file=log,
                        flush=True,
                    )
        except BaseException:  # interrupted, or a result could not be written: start nothing more
            for fut in futures:
                fut.cancel()
            raise
    return failed


def _finished(path: Path) -> bool:
    try:
        return json.loads(path.read_text()).get("status") == "ok"
    except (OSError, ValueError):
        return False


def _params_text(p: Point) -> str:
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in p.params)


def _record(sweep: Sweep, p: Point, result: dict) -> dict:
    return {
        "sweep": sweep.name,
        "key": p.key,
        "point": p.index,
        "replica": p.replica,
        "seed": p.seed,
        "params": dict(p.params),
        "status": "error" if "error" in result else "ok",
        "error": result.get("error", ""),
        "metrics": result.get("metrics"),
    }


def _describe(sweep: Sweep) -> dict:
    return {
        "name": sweep.name,
        "base": sweep.base,
        "description": sweep.description,
        "replicas": sweep.replicas,
        "seed": sweep.seed,
        "independent_seeds": sweep.independent_seeds,
        "metrics": list(sweep.metrics),
        "figures": list(sweep.figures),
        "fixed": dict(sweep.fixed),
        "axes": [
            {"key": a.key, "values": list(a.values), "log": a.log, "label": a.label, "spacing": a.spacing}
            for a in sweep.axes
        ],
    }


def write_tables(sweep: Sweep, out: Path, pts: list[Point]) -> None:
    """table.csv (one tidy row per point × replica), summary.csv (replica mean ± SE), figures.

    Beside each metric with an SE of its own in the runs (``var_ratio[0]`` → ``var_ratio_se[0]``), the
    table holds that SE too (the figures' error bars), and beside a variance, covariance or mean its exact
    value (``var_theory[0]``, the figures' theory line), unless the sweep names them already.

    Metrics are written to 12 significant digits. The samples of a seeded run are bit-identical on any
    executor (their sha256 is in the table), but numpy's SIMD sums can change the last bit of a statistic
    with the memory alignment of the arrays, which differs between processes.
    """
    axes = [a.key for a in sweep.axes]
    extra = [*map(quantities.se_name, sweep.metrics), *map(quantities.theory_name, sweep.metrics)]
    columns = list(dict.fromkeys([*sweep.metrics, *(c for c in extra if c is not None)]))
    rows = []
    for p in pts:
        path = out / "points" / f"{p.key}.json"
        rec = json.loads(path.read_text()) if path.exists() else None
        row = {"point": p.index, "replica": p.replica, "seed": p.seed, **dict(p.params)}
        if rec is None:
            row.update({m: "" for m in columns}, samples_sha256="", status="missing", error="", key=p.key)
        else:
            ok = rec["status"] == "ok"
            for m in columns:
                row[m] = f"{_cell(rec['metrics'], m):.12g}" if ok else ""
            sha = rec["metrics"]["samples_sha256"][:16] if ok else ""
            row.update(samples_sha256=sha, status=rec["status"], error=rec["error"], key=p.key)
        rows.append(row)
    atomic_write_text(out / "table.csv", _csv(rows))
    summary = summarize(rows, axes, columns)
    atomic_write_text(out / "summary.csv", _csv(summary))
    from .sweep_figures import sweep_figures

    sweep_figures(json.loads((out / "sweep.json").read_text()), summary, out)


def _csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return buf.getvalue()


def _cell(metrics: dict, column: str) -> float:
    """A table cell from a run's metrics: a metric, or a derived SE column (``var_ratio_se[0]``)."""
    for m in (column, column.replace("_se", "", 1)):
        if m != column and quantities.se_name(m) == column:
            return quantities.se_value(metrics, m)
    return quantities.value(metrics, column)


def replot(sweep_dir: Path, x: str | None = None, y: list[str] | None = None) -> list[str]:
    """Figures again from table.csv and sweep.json, without simulating: ``y`` any table column, or any
    number of the runs' metrics.json where the sweep kept its points/ (``var[0]``, ``cov[0][1]``)."""
    desc_path, table_path = sweep_dir / "sweep.json", sweep_dir / "table.csv"
    if not desc_path.exists() or not table_path.exists():
        raise ValueError(f"{sweep_dir}: not a sweep directory (needs sweep.json and table.csv)")
    desc = json.loads(desc_path.read_text())
    with open(table_path) as f:
        rows = list(csv.DictReader(f))
    keys = [a["key"] for a in desc["axes"]]
    if x is not None and x not in keys:
        raise ValueError(f"{sweep_dir}: no axis '{x}' (axes: {', '.join(keys)})")
    metrics = list(dict.fromkeys(y or desc.get("figures") or default_figures(desc["metrics"])))
    extra = [*map(quantities.se_name, metrics), *map(quantities.theory_name, metrics)]
    wanted = metrics + [c for c in extra if c is not None]
    _fill(sweep_dir, rows, [c for c in wanted if rows and c not in rows[0]], required=metrics)
    if x is not None:
        desc["axes"] = [a for a in desc["axes"] if a["key"] == x] + [a for a in desc["axes"] if a["key"] != x]
    desc["metrics"] = desc["figures"] = metrics
    for r in rows:
        for a in desc["axes"]:
            r[a["key"]] = _number(r[a["key"]])
    from .sweep_figures import sweep_figures

    columns = [c for c in wanted if not rows or c in rows[0]]
    suffix = "" if x in (None, keys[0]) else f"_vs_{x}"
    return sweep_figures(desc, summarize(rows, [a["key"] for a in desc["axes"]], columns), sweep_dir, suffix)


def _fill(sweep_dir: Path, rows: list[dict], columns: list[str], required: list[str]) -> None:
    """Columns the table lacks, read from the points' metrics (points/<key>.json) where they are kept;
    ValueError for a required one that neither holds."""
    records = {}
    for r in rows:
        path = sweep_dir / "points" / f"{r.get('key', '')}.json"
        try:
            records[r["key"]] = json.loads(path.read_text()).get("metrics") or {}
        except (OSError, ValueError, KeyError):
            pass
    for c in columns:
        try:
            quantities.parse(c)
        except ValueError:
            ok = False
        else:
            ok = any(math.isfinite(_cell(m, c)) for m in records.values())
        if not ok:
            if c in required:
                where = "no point of" if records else "no points/ folder in"
                raise ValueError(
                    f"{sweep_dir / 'table.csv'}: no metric column '{c}' (columns: {', '.join(rows[0])}; "
                    f"{where} the sweep has it)"
                )
            continue
        for r in rows:
            m = records.get(r.get("key"))
            r[c] = "" if m is None or r["status"] != "ok" else f"{_cell(m, c):.12g}"


def _number(s: str):
    try:
        return float(s)
    except ValueError:
        return s

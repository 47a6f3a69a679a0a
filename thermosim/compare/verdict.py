"""The verdict of `thermosim compare`: each sampler's energy per sample against the cheapest digital sample
of equal or better quality, per task.

Digits task: a digital row *matches* a sampler when it is at least as good on BOTH axes of the judge
(recognisable fraction ≥ and Fréchet distance ≤ the sampler's). Gaussian tasks: quality is the Gaussian
KL of the sample fit; a digital row matches when its KL ≤ the sampler's, or when it is exact within noise
(KL ≤ 3× its null size and MMD² ≤ its permutation floor: nothing can be better than that).

Energy per sample of a digital row is its 45 nm line (MACs × 1 pJ); the A100 and measured-CPU lines are
reported beside it. The ratio is E(matched digital, 45 nm) / E(sampler): above 1 the sampler is cheaper
than the cheapest digital sample as good as it; for a digital row it is ≤ 1 (1 when it is itself the
cheapest of its quality). Rows without an energy (calibration) are skipped. All energies in J.
"""

from __future__ import annotations

EXACT_KL_FACTOR = 3.0


def _lines(row: dict) -> dict:
    """The three energy lines of a digital row (45 nm, A100, CPU measured), None where absent."""
    values = [e["value"] for e in row.get("energy") or [] if e["term"] == "compute"]
    values += [None] * (3 - len(values))
    return {"e_45nm": values[0], "e_a100": values[1], "e_cpu": values[2]}


def _label(row: dict) -> str:
    return row["method"] + (f" {row['steps']}" if row.get("steps") else "")


def _verdict_rows(samplers: list[dict], digital: list[dict], as_good) -> list[dict]:
    out = []
    for s in samplers:
        good = [d for d in digital if as_good(d, s)]
        match = min(good, key=lambda d: d["energy_per_sample_J"]) if good else None
        out.append(
            {
                "sampler": _label(s),
                "digital": bool(s.get("digital")),
                "energy_per_sample_J": s["energy_per_sample_J"],
                **({} if not s.get("digital") else _lines(s)),
                "match": None if match is None else _label(match),
                "match_J": None if match is None else match["energy_per_sample_J"],
                "match_lines": None if match is None else _lines(match),
                "ratio": None if match is None else match["energy_per_sample_J"] / s["energy_per_sample_J"],
            }
        )
    return out


def digits_verdict(rows: list[dict]) -> list[dict]:
    """Verdict rows for the digits task (rows: compare's, with ``digital`` flags and energies)."""
    samplers = [r for r in rows if r.get("energy_per_sample_J") is not None]
    digital = [r for r in samplers if r.get("digital")]

    def as_good(d: dict, s: dict) -> bool:
        return d["recognisable"] >= s["recognisable"] and d["frechet"] <= s["frechet"]

    out = _verdict_rows(samplers, digital, as_good)
    for v, s in zip(out, samplers, strict=True):
        v |= {"recognisable": s["recognisable"], "frechet": s["frechet"]}
    return out


def exact_within_noise(row: dict) -> bool:
    """KL ≤ 3× its null size and MMD² ≤ its permutation floor."""
    return (
        row["gaussian_kl"] <= EXACT_KL_FACTOR * row["gaussian_kl_expected"]
        and row["mmd2"] <= row["mmd_floor"]
    )


def gaussian_verdict(task: dict) -> list[dict]:
    """Verdict rows for one Gaussian task (``compare.gaussian.run_task``'s result)."""
    digital = [r for r in task["rows"] if r["digital"]]

    def as_good(d: dict, s: dict) -> bool:
        return exact_within_noise(d) or d["gaussian_kl"] <= s["gaussian_kl"]

    out = _verdict_rows(task["rows"], digital, as_good)
    for v, s in zip(out, task["rows"], strict=True):
        v |= {"task": task["task"], "gaussian_kl": s["gaussian_kl"], "exact": exact_within_noise(s)}
    return out


def _fmt(v, spec=".3g") -> str:
    return "—" if v is None else format(v, spec)


def _energy_cell(v: dict) -> str:
    """A digital row's three lines (45 nm · A100 · CPU), or a circuit's headline."""
    if v["digital"]:
        return f"{_fmt(v['e_45nm'])} · {_fmt(v['e_a100'])} · {_fmt(v['e_cpu'])}"
    return f"{_fmt(v['energy_per_sample_J'])} (circuit)"


def markdown(verdict: dict) -> str:
    """Both verdict tables as markdown."""
    lines = [
        "| digits: sampler | recognisable | Fréchet | energy / sample [J] (45 nm · A100 · CPU) | "
        "cheapest digital as good | its energy [J] | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for v in verdict["digits"]:
        lines.append(
            f"| {v['sampler']} | {v['recognisable']:.3f} | {v['frechet']:.2f} | {_energy_cell(v)} | "
            f"{v['match'] or 'none'} | {_fmt(v['match_J'])} | {_fmt(v['ratio'])} |"
        )
    lines += [
        "",
        "| Gaussian task | sampler | KL | exact within noise | energy / sample [J] (45 nm · A100 · CPU) | "
        "cheapest digital as good | its energy [J] | ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for v in verdict["gaussian"]:
        lines.append(
            f"| {v['task']} | {v['sampler']} | {v['gaussian_kl']:.2e} | {'yes' if v['exact'] else 'no'} | "
            f"{_energy_cell(v)} | {v['match'] or 'none'} | {_fmt(v['match_J'])} | {_fmt(v['ratio'])} |"
        )
    return "\n".join(lines) + "\n"


def headline_energy(rows: list[dict]) -> float:
    """The energy a sample costs: the lines that are physical costs (per sample, J, value > 0)."""
    return float(
        sum(
            r["value"]
            for r in rows
            if r["per"] in ("independent sample", "sample")
            and r["unit"] == "J"
            and r["term"] in ("supply", "heat", "readout", "programming", "compute")
            and r["value"] > 0
        )
    )

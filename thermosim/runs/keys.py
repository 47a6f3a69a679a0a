"""Content addresses of runs: a sweep point's key covers every input that can change its result or its
verdict, so a cached result is reused only for an exact match (``--resume``)."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from pathlib import Path

from .. import __version__


def point_key(prep, seed: int) -> str:
    """The content address of one run: sha256 over everything that can change its result or verdict.

    That is the fully resolved spec (every parameter with its default filled in: the theory's inputs
    are there even where the netlist does not show them), the netlist text (model cards inlined), the
    seed, the resolved noise step and burn-in, a digest of thermosim's own source and ngspice's version.
    """
    from ..spice.runner import ngspice_version

    spec = prep.spec
    ident = {
        "spec": {
            "name": spec.name,
            "family": spec.family,
            "circuit": _portable(dataclasses.asdict(spec.params)),
            "sim": dataclasses.asdict(spec.sim),
            "energy": dataclasses.asdict(spec.energy),
        },
        "netlist": prep.netlist,
        "files": [(rel, hashlib.sha256(data).hexdigest()) for rel, data in prep.built.files],
        "seed": seed,
        "noise_step_s": prep.noise_step_s,
        "n_steps": prep.n_steps,
        "burn_in_s": prep.burn_in_s,
        "code": code_digest(),
        "family_code": family_digest(spec.family),
        "ngspice": ngspice_version(),
    }
    text = json.dumps(ident, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _portable(value):
    """A parameter value as a key sees it: a path to an existing file stands for the file's name and
    bytes, not its place (a checkout cloned or moved elsewhere keeps its keys); anything else as is."""
    if isinstance(value, dict):
        return {k: _portable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_portable(v) for v in value]
    if isinstance(value, str) and Path(value).is_absolute() and Path(value).is_file():
        return {"file": Path(value).name, "sha256": hashlib.sha256(Path(value).read_bytes()).hexdigest()}
    return value


def family_digest(family: str) -> str:
    """sha256 of the source of a family defined outside thermosim (a plugin, a notebook): its builder's
    module file, or the builder and params' own source where no file exists; "" for shipped families
    (covered by :func:`code_digest`)."""
    import inspect

    from ..circuits import FAMILIES

    fam = FAMILIES[family]
    module = inspect.getmodule(fam.build)
    if module is not None and module.__name__.split(".")[0] == "thermosim":
        return ""
    h = hashlib.sha256()
    try:
        h.update(Path(inspect.getsourcefile(fam.build)).read_bytes())
    except (OSError, TypeError):
        for obj in (fam.build, fam.params):
            try:
                h.update(inspect.getsource(obj).encode())
            except (OSError, TypeError):  # no source at all: never reuse a cached result
                return f"uncached-{id(obj)}"
    return h.hexdigest()


@functools.cache
def code_digest() -> str:
    """sha256 of thermosim's own source files (path and bytes): a changed line changes every key."""
    root = Path(__file__).resolve().parent.parent  # the package
    h = hashlib.sha256(__version__.encode())
    for f in sorted(root.rglob("*.py")):
        h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def stage_key(stage: str, **inputs) -> str:
    """The content address of a deterministic stage of work (``compare``, ``generate``, the generative
    sweep): everything that can change its result. That is thermosim's source (:func:`code_digest`),
    ngspice's version, the numerical libraries' versions and the processor architecture (floating-point
    results can differ in the last bits across them), and the stage's own inputs as given (JSON), a
    path among them standing for its file's bytes (sha256)."""
    import platform
    from importlib import metadata

    from ..spice.runner import ngspice_version

    def version(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    def value(v):
        return hashlib.sha256(Path(v).read_bytes()).hexdigest() if isinstance(v, Path) else v

    ident = {
        "stage": stage,
        "inputs": {k: value(v) for k, v in inputs.items()},
        "code": code_digest(),
        "ngspice": ngspice_version(),
        "libraries": {d: version(d) for d in ("numpy", "scipy", "scikit-learn", "jax", "jaxlib")},
        "machine": platform.machine(),
    }
    text = json.dumps(ident, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:32]

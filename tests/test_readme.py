"""The commands of the README and docs/ stay runnable, and the command line's help is complete.

Commands meant to be typed are the indented code lines of README.md and docs/*.md (`thermosim ...`, `make
...`) and the synopsis in the first cell of each row of docs/cli.md's command table. Each synopsis is
expanded into the command lines it allows — the bare command, then every optional group and every
alternative once, placeholders (SPEC, N, DIR, ...) replaced by sample values — and each must be accepted by
the real argument parser (a dry parse: nothing runs). Spec and sweep names used must exist; `make` targets
must exist; their TOML examples that are complete must validate. Separately: `thermosim --help` lists every
subcommand, each subcommand's --help exits 0 with its description, every option has a help text, and the
command table has a row for every subcommand. The README stays a front page: its command-line quickstart is
at most 15 lines.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import tomllib

import pytest

from tests.conftest import ROOT, thermosim
from thermosim.cli import _parser

README = (ROOT / "README.md").read_text()
DOCS = "\n".join([README] + [p.read_text() for p in sorted((ROOT / "docs").glob("*.md"))])
PLACEHOLDERS = {
    "SPEC_OR_NETLIST": "gauss4",
    "SPEC": "gauss4",
    "SWEEP": "noise_step",
    "SWEEP_DIR": "results/sweeps/noise_step",
    "N": "2",
    "D": "8",
    "K": "10",
    "DIR": "out",
    "FILE": "out",
    "ADDR": "tcp://host:8786",
    "AXIS": "x",
    "METRIC": "m",
    "NODE": "n1",
    "X": "0.001",
    "T": "0.1",
}


def code_lines() -> list[str]:
    """Indented code lines starting with thermosim or make, and the synopsis in the first cell of each
    row of the "Command line" section's table."""
    out = []
    section = ""
    for line in DOCS.splitlines():
        section = line if line.startswith("## ") else section
        if line.startswith("    ") and line.strip().startswith(("thermosim ", "make ")):
            out.append(line.strip().split("  #")[0].strip())
        m = re.match(r"\|\s*`(thermosim [^`]*)`", line)
        if m and section == "## Command line":
            out.append(m.group(1).replace("\\|", "|"))
    return out


def tokens(text: str) -> list:
    """A synopsis as nested lists: a word, ["[", alternatives...] or ["(", alternatives...], where each
    alternative is a token list; a word a|b|c is a required choice of words."""
    words = re.findall(r"[\[\]()|]|[^\s\[\]()|]+(?:\|[^\s\[\]()|]+)*", text)

    def group(i: int, close: str | None) -> tuple[list, int]:
        alts, cur = [], []
        while i < len(words):
            w = words[i]
            if w in ("[", "("):
                inner, i = group(i + 1, "]" if w == "[" else ")")
                cur.append([w, *inner])
                continue
            elif w == close:
                return [*alts, cur], i + 1
            elif w == "|":
                alts.append(cur)
                cur = []
            elif "|" in w:
                cur.append(["(", *([x] for x in w.split("|"))])
            else:
                cur.append(w)
            i += 1
        return [*alts, cur], i

    return group(0, None)[0][0]


def variants(items: list) -> list[list[str]]:
    """The bare command, plus each optional group's and required choice's alternatives once."""

    def first(items: list) -> list[str]:
        out = []
        for it in items:
            if isinstance(it, str):
                out.append(it)
            elif it[0] == "(":
                out += first(it[1])
        return out

    result = [first(items)]
    for k, it in enumerate(items):
        if isinstance(it, list):
            for alt in it[1:]:
                for v in variants(alt):
                    result.append(first(items[:k]) + v + first(items[k + 1 :]))
    return result


def argv_of(words: list[str]) -> list[str]:
    return [PLACEHOLDERS.get(w, w) for w in words[1:] if w != "..."]


def dry_parse(argv: list[str]) -> argparse.Namespace:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            return _parser().parse_args(argv)
        except SystemExit:
            pytest.fail(f"`thermosim {' '.join(argv)}` is refused: {err.getvalue().strip()}")


COMMANDS = [c for c in code_lines() if c.startswith("thermosim ")]


def test_the_readme_has_commands():
    assert len(COMMANDS) >= 10 and any(c.startswith("make ") for c in code_lines())


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_parses(command):
    for words in variants(tokens(command)):
        args = dry_parse(argv_of(words))
        # names the README gives literally (not placeholders) must exist
        target = {"run": "target", "netlist": "spec", "noise": "spec", "sweep": "sweep"}.get(args.command)
        literal = words[2] if len(words) > 2 else ""
        if target and literal not in PLACEHOLDERS and not literal.endswith((".cir", ".toml")):
            if args.command == "sweep":
                from thermosim.runs.sweep import load_sweep

                load_sweep(literal)
            else:
                from thermosim.runs.spec import load_spec

                load_spec(literal)


def test_synopsis_expansion():
    # the expansion itself, on a synopsis with every construct
    got = variants(tokens("thermosim x A|B (--p P | --q) [--r | --s S] [--t T ...]"))
    assert got == [
        ["thermosim", "x", "A", "--p", "P"],
        ["thermosim", "x", "A", "--p", "P"],
        ["thermosim", "x", "B", "--p", "P"],
        ["thermosim", "x", "A", "--p", "P"],
        ["thermosim", "x", "A", "--q"],
        ["thermosim", "x", "A", "--p", "P", "--r"],
        ["thermosim", "x", "A", "--p", "P", "--s", "S"],
        ["thermosim", "x", "A", "--p", "P", "--t", "T", "..."],
    ]


def test_make_targets_exist():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))
    for line in code_lines():
        if line.startswith("make "):
            assert line.split()[1] in targets, line


def test_complete_toml_examples_validate():
    from thermosim.runs.spec import spec_from_table
    from thermosim.runs.sweep import _sweep_from_table

    checked = 0
    for block in re.findall(r"```toml\n(.*?)```", DOCS, re.S):
        try:
            table = tomllib.loads(block)
        except tomllib.TOMLDecodeError:
            assert "..." in block, f"a README TOML block is invalid:\n{block}"  # an outline, not a file
            continue
        (_sweep_from_table if "base" in table else spec_from_table)(table)
        checked += 1
    assert checked >= 1


# ---- the help texts


def subcommands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_top_level_help_lists_every_subcommand():
    p = thermosim("--help")
    assert p.returncode == 0 and p.stdout.startswith("usage: thermosim")
    for name in subcommands():
        assert re.search(rf"^\s+{name}\s+\S", p.stdout, re.M), f"{name} missing from thermosim --help"


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_subcommand_help_is_complete(name):
    parser = subcommands()[name]
    assert parser.description, f"thermosim {name} has no description"
    undocumented = [a.dest for a in parser._actions if not a.help and not isinstance(a, argparse._HelpAction)]
    assert not undocumented, f"thermosim {name}: options without help: {undocumented}"
    p = thermosim(name, "--help")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(f"usage: thermosim {name}")
    assert " ".join(parser.description.split()) in " ".join(p.stdout.split())


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_docs_document_every_subcommand(name):
    table = (ROOT / "docs" / "cli.md").read_text()
    assert f"| `thermosim {name}" in table, f"docs/cli.md's table has no row for `thermosim {name}`"


def test_readme_is_a_front_page():
    section = README.split("## Command-line quickstart")[1].split("\n## ")[0]
    commands = [line for line in section.splitlines() if line.startswith("    thermosim ")]
    assert 5 <= len(commands) <= 15
    python = README.split("```python\n")[1].split("```")[0]
    assert len(python.splitlines()) <= 15

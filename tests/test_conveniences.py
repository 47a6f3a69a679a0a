"""The daily loop: SPICE suffixes in spec values, names found in the current folder first, a sweep's
base beside the sweep file, and --set overrides on the command line."""

from __future__ import annotations

import textwrap

import pytest

from tests.conftest import thermosim
from thermosim.errors import SpecError, spice_number
from thermosim.runs.spec import load_spec
from thermosim.runs.sweep import load_sweep

RC = 'name = "{name}"\nfamily = "rc"\n[circuit]\nc_f = {c}\nr_ohm = {r}\n[sim]\nt_stop_s = {t}\n'


@pytest.mark.parametrize(
    "text, value",
    [("10k", 1e4), ("1Meg", 1e6), ("1MEG", 1e6), ("1m", 1e-3), ("2.2p", 2.2e-12), ("-3.3u", -3.3e-6),
     (".5n", 5e-10), ("1e-3", 1e-3), ("7", 7.0), ("3f", 3e-15), ("1T", 1e12)],
)  # fmt: skip
def test_spice_numbers(text, value):
    assert spice_number(text) == value  # exactly the float the decimal text names


@pytest.mark.parametrize("text", ["1pF", "abc", "1 k", "k", "", "1e", "nan"])
def test_not_spice_numbers(text):
    assert spice_number(text) is None


def test_spec_values_take_spice_suffixes(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(RC.format(name="s", c='"2p"', r='"100k"', t='"2m"'))
    spec = load_spec(path)
    assert (spec.params.c_f, spec.params.r_ohm, spec.sim.t_stop_s) == (2e-12, 1e5, 2e-3)
    path.write_text(RC.format(name="s", c='"2pF"', r="1e5", t="1e-3"))
    with pytest.raises(SpecError, match=r"circuit\.c_f must be a number.*'2pF'"):
        load_spec(path)


def test_a_name_resolves_in_the_current_folder_first(tmp_path, monkeypatch):
    (tmp_path / "rc_single.toml").write_text(RC.format(name="mine", c="3e-12", r="1e5", t="1e-3"))
    monkeypatch.chdir(tmp_path)
    assert load_spec("rc_single").name == "mine"
    assert load_spec("gauss4").name == "gauss4"  # not here: the shipped one


def test_a_sweep_base_resolves_beside_the_sweep_file(tmp_path, monkeypatch):
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "cell.toml").write_text(RC.format(name="cell", c="1e-12", r="1e5", t="1e-3"))
    (folder / "s.toml").write_text(
        textwrap.dedent(
            """\
            name = "s"
            base = "cell"
            metrics = ["var_ratio[0]"]
            [[axes]]
            key = "circuit.r_ohm"
            values = ["10k", "100k"]
            """
        )
    )
    monkeypatch.chdir(tmp_path)  # elsewhere: the base is still found beside the sweep file
    sweep = load_sweep(folder / "s.toml", overrides={"sim.t_stop_s": "5m"})
    assert sweep.base_table["name"] == "cell" and dict(sweep.fixed)["sim.t_stop_s"] == "5m"
    assert sweep.axes[0].values == (1e4, 1e5)  # numbers: the axis plots and sorts as one


def test_set_on_the_command_line(tmp_path):
    p = thermosim("netlist", "rc_single", cwd=tmp_path)
    assert p.returncode == 0
    p = thermosim("run", "rc_single", "--set", "circuit.nope=1", "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert p.returncode == 2 and "unknown key 'circuit.nope'" in p.stderr and len(p.stderr.splitlines()) == 1
    p = thermosim("run", "rc_single", "--set", "nope", cwd=tmp_path)
    assert p.returncode == 2 and "must be KEY=VALUE" in p.stderr
    assert not (tmp_path / "results").exists() and not (tmp_path / "o").exists()


@pytest.mark.parametrize("family", sorted(__import__("thermosim").families()))
def test_init_writes_a_valid_commented_starter_spec(family, tmp_path, monkeypatch):
    import thermosim as ts

    if family.startswith("test_"):  # registered by another test module in this process
        pytest.skip("a test family")
    path = ts.init(family, "mine", tmp_path)
    text = path.read_text()
    assert path == tmp_path / "mine.toml" and text.startswith("# mine: a spec of the family")
    monkeypatch.chdir(tmp_path)
    spec = load_spec("mine")  # found in the current folder, and valid as written
    assert (spec.name, spec.family) == ("mine", family)
    with pytest.raises(SpecError, match="exists; choose another name"):
        ts.init(family, "mine", tmp_path)

"""The notebooks in notebooks/ run top to bottom without error (the ``notebooks`` extra).

They execute in a real Jupyter kernel (ipykernel, this interpreter) through nbclient, from the
notebooks folder as Jupyter would open them; every code cell must finish without an error and
the plotting cells must produce an image.
"""

from __future__ import annotations

from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient", reason="the notebooks extra is not installed (pip install 'varsolve[notebooks]')")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("matplotlib")
pytest.importorskip("ipykernel")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebook_runs(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The kernel inherits this environment: the notebooks' quick parameters (fewer seeds and
    # sweep points, the same cells and plots), and their temporary files under tmp_path.
    monkeypatch.setenv("VARSOLVE_NOTEBOOK_QUICK", "1")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "no plot was drawn"


def test_there_are_two_notebooks_at_least() -> None:
    assert {"compare-strategies.ipynb", "scaling.ipynb"} <= {p.name for p in NOTEBOOKS.glob("*.ipynb")}

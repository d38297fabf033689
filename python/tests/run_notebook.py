"""Runs every code cell of a notebook in one namespace with plain Python,
in the notebook's folder (so its relative paths hold), with a
non-interactive matplotlib. Lighter than nbclient: no kernel, no Jupyter.

    python run_notebook.py examples/notebook.ipynb
"""

import json
import os
import sys
from pathlib import Path


def main(path: str) -> None:
    notebook = Path(path).resolve()
    cells = json.loads(notebook.read_text())["cells"]
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.chdir(notebook.parent)
    namespace = {"__name__": "__main__"}
    code_cells = [c for c in cells if c["cell_type"] == "code"]
    for number, cell in enumerate(code_cells, 1):
        source = "".join(cell["source"])
        # IPython's display() is the only notebook magic the cells use.
        namespace.setdefault("display", print)
        try:
            exec(compile(source, f"{notebook.name} cell {number}", "exec"), namespace)
        except Exception:
            print(f"cell {number} of {notebook} failed:\n{source}", file=sys.stderr)
            raise
    print(f"{notebook.name}: {len(code_cells)} code cells ran")


if __name__ == "__main__":
    main(sys.argv[1])

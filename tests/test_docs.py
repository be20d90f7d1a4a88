"""The documentation's code runs: every ```python block of a page, in order, as one script."""
import linecache
import os
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXECUTED_PAGES = ["README.md", "docs/extending.md", "docs/porting.md"]
NEEDS_DATA = {"docs/porting.md"}   # its data-pipeline example reads MNIST


def python_blocks(page: pathlib.Path) -> str:
    return "\n".join(re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S))


@pytest.mark.parametrize("page", EXECUTED_PAGES)
def test_page_code_runs(page):
    if page in NEEDS_DATA and not os.environ.get("TENSORGRAD_DATA"):
        pytest.skip(f"{page} reads MNIST and TENSORGRAD_DATA is not set (it would download the data)")
    source = python_blocks(ROOT / page)
    assert source.count("\n") >= 10, f"{page}: no code found"
    filename = f"<code blocks of {page}>"  # registered so tracebacks and inspect show the code
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), {"__name__": f"docs_{page}"})

import pytest
from report_cases import catalog, sample_result

from bgmigrate.check.report import FORMATS


def test_registry_holds_the_formats_the_cli_documents():
    assert sorted(FORMATS) == ["github", "gitlab", "json", "markdown", "sarif", "text"]


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_format_renders_complete_lines_deterministically(name):
    first = FORMATS[name](sample_result(), catalog(), color=False)
    assert first.endswith("\n")
    assert FORMATS[name](sample_result(), catalog(), color=False) == first

"""The text report's layout, done without rich, must lay prose out as rich does."""

from __future__ import annotations

import io

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bgmigrate.check.report.layout import StyledText, cell_width


def _rich_lines(text: str, width: int, indent: int) -> list[str]:
    from rich.console import Console
    from rich.padding import Padding
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, height=25, color_system=None, legacy_windows=False)
    console.print(Padding(Text(text), (0, 0, 0, indent)))
    return [line.rstrip(" ") for line in buffer.getvalue().split("\n")[:-1]]


WORDS = st.one_of(
    st.sampled_from(["users.email", "NOT", "NULL", "—", "app’s", "表表表", "`ALTER", "TABLE`"]),
    st.text(alphabet="abcdefghij表", min_size=1, max_size=40),
)
SPACES = st.sampled_from([" ", " ", " ", "  ", "\n", "\n    "])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(WORDS, SPACES), max_size=40), st.integers(20, 100))
# A folded word whose last piece fills the line exactly: rich starts the next line with its space.
@example([("aaaaaaaaaaaaaaaaaaaaaaaaaa表表表表表", " "), ("users.email", " ")], 20)
def test_prose_wraps_as_rich_wraps_it(pieces: list[tuple[str, str]], width: int) -> None:
    text = "".join(word + space for word, space in pieces).strip()
    assert StyledText(text).lines(width, indent="  ", color=False) == _rich_lines(text, width, 2)


def test_a_word_wider_than_the_line_is_folded() -> None:
    folded = ["ab", "x" * 10, "x" * 10, "x" * 5]
    assert StyledText("ab " + "x" * 25).lines(10, color=False) == folded


def test_wide_characters_take_two_cells() -> None:
    assert cell_width("表a") == 3
    assert cell_width("e\u0301") == 1  # a combining accent takes no cell
    assert StyledText("表表 表表 表表").lines(9, color=False) == ["表表 表表", "表表"]


def test_a_line_that_must_not_wrap_is_cut_with_an_ellipsis() -> None:
    line = StyledText("  1 | ").append("SELECT " + "x" * 200, "bold red")
    assert line.line(20, color=False) == "  1 | SELECT xxxxxx…"
    assert cell_width(line.line(20, color=False)) == 20
    # A wide character that would straddle the cut is left out, not split.
    assert StyledText("a" * 17 + "表表").line(19, color=False) == "a" * 17 + " …"


def test_styles_become_escape_codes_only_with_color() -> None:
    text = StyledText().append("error", "bold red").append("  ").append("rule", "magenta")
    assert text.render(color=False) == "error  rule"
    assert text.render(color=True) == "\x1b[1;31merror\x1b[0m  \x1b[35mrule\x1b[0m"


def test_a_style_spanning_a_line_break_is_closed_on_each_line() -> None:
    text = StyledText().append("why: ", "bold").append("word " * 6)
    text.stylize("green", 0, len(text.plain))
    lines = text.lines(12, color=True)
    assert lines[0] == "\x1b[1;32mwhy: \x1b[0m\x1b[32mword\x1b[0m"
    assert all(line.endswith("\x1b[0m") for line in lines)

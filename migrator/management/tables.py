"""Plain-text tables for command output: left-aligned text, right-aligned numbers."""


def render(headers, rows):
    """The table as lines of text, a rule under the header."""
    cells = [[str(cell) for cell in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [all(_is_number(row[i]) for row in rows) and bool(rows) for i in range(len(headers))]

    def line(row):
        return "  ".join(
            cell.rjust(width) if is_number else cell.ljust(width)
            for cell, width, is_number in zip(row, widths, numeric, strict=True)
        ).rstrip()

    return [line(cells[0]), "  ".join("-" * width for width in widths), *(line(row) for row in cells[1:])]


def _is_number(value):
    return isinstance(value, int | float)

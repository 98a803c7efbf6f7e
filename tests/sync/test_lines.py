"""Two exports of one CSV file compared line by line: the rows added and removed, with
the numbers the reader gives them, and no answer whenever lines and rows could differ."""

from __future__ import annotations

from sync.lines import diff_lines
from sync.readers import read_register

HEAD = "ID;Фамилия;Имя;Дата рождения;Класс\n"
ROWS = ["R1;Иванов;Пётр;02.03.2014;7Б", "R2;Смирнова;Анна;09.07.2013;8А",
        "R3;Кузнецов;Илья;01.01.2012;9В"]


def text(rows: list[str], head: str = HEAD, end: str = "\n") -> bytes:
    return (head + end.join(rows) + end).encode("cp1251")


def test_rows_changed_in_place_and_added_at_the_end_keep_their_numbers() -> None:
    new = [ROWS[0], "R2;Смирнова;Анна;09.07.2013;9А", ROWS[2], "R4;Новиков;Лев;;3А"]
    diff = diff_lines(text(ROWS), text(new))
    assert diff is not None
    assert [(n, cells[0], cells[4]) for n, cells in diff.added] == [(3, "R2", "9А"),
                                                                    (5, "R4", "3А")]
    assert [(n, cells[4]) for n, cells in diff.removed] == [(3, "8А")]
    assert diff.same_rows and diff.new_row(4) == 4
    # Row numbers as the reader gives them.
    by_reader = {p.register_id: p.source.row for p in read_register(text(new))}  # type: ignore[union-attr]
    assert all(by_reader[cells[0]] == n for n, cells in diff.added)
    assert diff.rows_by(0) == by_reader


def test_moved_rows_are_found_where_they_are_now() -> None:
    new = ["R0;Попов;Иван;05.05.2015;1А", ROWS[2], ROWS[0], ROWS[1]]
    diff = diff_lines(text(ROWS), text(new, end="\r\n"), "a.csv", "b.csv")   # CRLF too
    assert diff is not None and not diff.same_rows
    assert [cells[0] for _n, cells in diff.added] == ["R0"] and diff.removed == []
    assert (diff.new_row(2), diff.new_row(3), diff.new_row(4)) == (4, 5, 3)
    assert diff.rows_by(0)["R1"] == 4


def test_blank_lines_are_no_rows_and_quoted_cells_are_cut_as_csv_does() -> None:
    new = [ROWS[0], ";;;;", "", '"R9";"Петров; Ершов";Ян;01.01.2015;2Б', ROWS[1], ROWS[2]]
    diff = diff_lines(text(ROWS), text(new))
    assert diff is not None
    assert [(n, cells[1]) for n, cells in diff.added] == [(5, "Петров; Ершов")]
    assert diff.rows_by(0)["R9"] == 5 and diff.rows_by(0)["R3"] == 7


def test_no_answer_where_lines_and_rows_could_differ() -> None:
    old = text(ROWS)
    for new in (
            text(ROWS, head="ID;Фамилия;Имя;Дата рождения;Класс;Статус\n"),   # other header
            text([ROWS[0], '"R9";"Петров\nЕршов";Ян;01.01.2015;2Б']),      # cell over 2 lines
            text(ROWS, end="\r"),                                          # old Mac ends
            text([ROWS[0], ROWS[0], ROWS[1]]),                             # a row twice
            text(ROWS).replace(b"R2", b"R2\x00"),                          # not text
            b"PK\x03\x04 a spreadsheet",
            b"  \n ",
            text(ROWS, head="ID,Фамилия,Имя,Дата рождения,Класс\n").replace(b";", b",")):
        assert diff_lines(old, new) is None, new[:60]
    assert diff_lines(old, old) is not None


def test_the_same_rows_in_another_encoding_are_the_same() -> None:
    diff = diff_lines(text(ROWS), ("\ufeff" + HEAD + "\n".join(ROWS) + "\n").encode())
    assert diff is not None and diff.added == [] and diff.removed == [] and diff.same_rows


def test_an_identical_file_differs_in_nothing_unless_a_row_is_there_twice() -> None:
    same = text(ROWS, end="\r\n")
    diff = diff_lines(same, same)
    assert diff is not None and diff.added == diff.removed == [] and diff.same_rows
    assert diff.rows_by(0) == {"R1": 2, "R2": 3, "R3": 4}
    assert diff.rows_by(4) == {"7Б": 2, "8А": 3, "9В": 4}    # the class, cut as the reader
    twice = text([ROWS[0], ROWS[1], ROWS[0]])
    assert diff_lines(twice, twice) is None


def test_rows_another_encoding_cannot_hold_are_no_answer_not_an_error() -> None:
    old = (HEAD + "R1;Иванов;Пётр 🙂;02.03.2014;7Б\n").encode()     # UTF-8 with an emoji
    assert diff_lines(old, text(ROWS)) is None                   # the new one: cp1251
    diff = diff_lines(text(ROWS), (HEAD + "\n".join(ROWS) + "\nR4;Ли;Ян 🙂;;1А\n").encode())
    assert diff is not None and [c[2] for _n, c in diff.added] == ["Ян 🙂"]


def test_a_row_is_found_from_where_it_was_when_that_still_holds_it() -> None:
    new = ["R0;Попов;Иван;05.05.2015;1А", ROWS[2], ROWS[0], ROWS[1]]
    diff = diff_lines(text(ROWS), text(new))
    assert diff is not None and not diff.same_rows
    assert diff.row_of("R1", 0, hint=2) == 4        # R1 was on row 2: now on 4
    assert diff.row_of("R1", 0, hint=3) == 4        # a wrong hint: looked up instead
    assert diff.row_of("R1", 0, hint=99) == 4 and diff.row_of("R1", 0) == 4
    assert diff.row_of("R7", 0, hint=2) is None

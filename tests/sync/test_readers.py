"""Reading registers and card lists as schools and card systems export them, and refusing
what cannot be read with the file, row and column of every problem."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from sync.readers import read_cards, read_register
from sync.records import Consent, Source
from sync.tables import MAX_BYTES, ReadError

RU = ("ID;Фамилия;Имя;Отчество;Дата рождения;Класс;Статус;Дата выбытия;Согласие на фото\n"
      "R1;Иванов;Пётр;Сергеевич;02.03.2014;7 б;обучается;;да\n"
      "R2;Смирнова;Анна;Игоревна;09.07.2013;8-А;выбыл;20.11.2026;нет\n")


def problems(exc: pytest.ExceptionInfo[ReadError]) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.message) for p in exc.value.problems]


def test_a_russian_export_in_utf8() -> None:
    petr, anna = read_register(RU.encode("utf-8"), "reg.csv")
    assert (petr.register_id, petr.full_name, petr.birth_date, petr.class_name) == (
        "R1", "Иванов Пётр Сергеевич", date(2014, 3, 2), "7Б")
    assert petr.consent == Consent(True, None, "register") and petr.source == Source("reg.csv", 2)
    assert (anna.status, anna.left_on, anna.class_name, anna.consent) == (
        "left", date(2026, 11, 20), "8А", None)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1251", "utf-16"])
@pytest.mark.parametrize("separator", [";", ",", "\t"])
def test_encodings_and_separators(encoding: str, separator: str) -> None:
    data = RU.replace(";", separator).encode(encoding)
    assert [p.surname for p in read_register(data)] == ["Иванов", "Смирнова"]


def test_english_headers_iso_dates_and_a_full_name_column() -> None:
    data = (b"Student ID,Full name,DOB,Grade\r\n"
            b"S-100,Kuznetsov Ilya Olegovich,2012-01-31,9V\r\n")
    (pupil,) = read_register(data)
    assert (pupil.surname, pupil.first_name, pupil.patronymic, pupil.birth_date) == (
        "Kuznetsov", "Ilya", "Olegovich", date(2012, 1, 31))


def test_a_saved_mapping_names_odd_columns() -> None:
    data = "Шифр;Фамилия;Имя\nA-1;Орлова;Вера\n".encode()
    with pytest.raises(ReadError, match="No column for “id”"):
        read_register(data)
    (pupil,) = read_register(data, mapping={"Шифр": "register_id"})
    assert pupil.register_id == "A-1"


def test_an_xlsx_export_with_date_cells() -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["ФИО", "Дата рождения", "Класс", "Идентификатор"])
    sheet.append(["Орлова Вера Павловна", datetime(2015, 5, 6), "2А", 12345])
    out = io.BytesIO()
    book.save(out)
    (pupil,) = read_register(out.getvalue(), "export.csv")     # the content decides
    assert (pupil.register_id, pupil.full_name, pupil.birth_date) == (
        "12345", "Орлова Вера Павловна", date(2015, 5, 6))


def test_a_card_list() -> None:
    data = ("Номер карты;ID ученика;Статус;Дата выдачи;Фамилия;Имя;Класс;Фото\n"
            "0001;R1;активна;01.09.2025;Иванов;Пётр;7Б;p1.jpg\n"
            "0002;;утеряна;01.09.2024;Смирнова;Анна;8А;\n").encode("cp1251")
    first, second = read_cards(data)
    assert (first.number, first.pupil_id, first.status, first.photo) == ("0001", "R1",
                                                                          "active", "p1.jpg")
    assert (second.pupil_id, second.status) == (None, "lost")


@pytest.mark.parametrize(("data", "expected"), [
    (b"", "The file is empty."),
    (b"  \n\n", "The file is empty."),
    ("ID;Фамилия;Имя\n".encode(), "holds only its header, no pupils"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
    (b"PK\x03\x04broken zip", "damaged"),
    (b"ID;\xd0\xa4\x98\xff\n", "neither UTF-8 nor Windows-1251"),
])
def test_files_that_cannot_be_read(data: bytes, expected: str) -> None:
    with pytest.raises(ReadError) as caught:
        read_register(data, "bad.csv")
    assert expected in str(caught.value) and "bad.csv" in str(caught.value)


def test_the_wrong_encoding_is_named() -> None:
    # KOI8-R read as Windows-1251 gives a header nobody recognises: the error says so.
    with pytest.raises(ReadError, match="check the file's encoding"):
        read_register(RU.encode("koi8-r"))


def test_every_row_problem_is_named_and_nothing_is_read() -> None:
    data = ("ID;Фамилия;Имя;Дата рождения;Статус\n"
            "R1;Иванов;Пётр;31.02.2014;обучается\n"
            ";Петров;Иван;01.01.2014;обучается\n"
            "R3;Сидоров;Олег;01.01.2014;в отпуске\n"
            "R1;Двойник;Пётр;01.01.2014;обучается\n").encode()
    with pytest.raises(ReadError) as caught:
        read_register(data, "reg.csv")
    assert problems(caught) == [
        (2, "Дата рождения", "“31.02.2014” is not a date (dd.mm.yyyy or yyyy-mm-dd)."),
        (3, "ID", "Empty; every pupil needs the register's ID."),
        (4, "Статус", "“в отпуске” is not a status (обучается / выбыл, enrolled / left)."),
        (5, "ID", "“R1” is on row 2 too."),
    ]


def test_a_file_cut_short() -> None:
    whole = RU.encode()
    with pytest.raises(ReadError, match="cut short: it ends in the middle of a character"):
        read_register(whole[: whole.index(b"8-\xd0\x90") + 3], "reg.csv")
    with pytest.raises(ReadError) as caught:
        read_register(whole[: whole.index(b";20.11.2026")], "reg.csv")
    assert problems(caught) == [(3, "Дата выбытия", "The row ends early: 7 of 9 columns "
                                                     "(a cut file?).")]
    open_quote = 'ID;Фамилия;Имя\nR1;"Иванов;Пётр\n'.encode()
    with pytest.raises(ReadError):
        read_register(open_quote)


def test_a_formula_looking_cell_is_kept_as_text() -> None:
    data = 'ID;Фамилия;Имя\nR1;"=HYPERLINK(""http://x"")";+cmd|calc\n'.encode()
    (pupil,) = read_register(data)
    assert (pupil.surname, pupil.first_name) == ('=HYPERLINK("http://x")', "+cmd|calc")


def test_a_file_over_the_limit_is_refused_unread() -> None:
    with pytest.raises(ReadError, match="larger than 64 MB"):
        read_register(b"x" * (MAX_BYTES + 1))


@pytest.mark.slow
def test_a_50_mb_register_is_read() -> None:
    rows = ["ID;Фамилия;Имя;Отчество;Дата рождения;Класс"]
    n = 0
    size = 0
    while size < 50 * 2**20:
        line = f"R{n};Константинопольский{n % 97};Александр;Вячеславович;01.09.2012;{n % 11 + 1}А"
        rows.append(line)
        size += len(line.encode()) + 1
        n += 1
    pupils = read_register("\n".join(rows).encode())
    assert len(pupils) == n and pupils[-1].register_id == f"R{n - 1}"

"""Which pupil each file of a photo batch is for, and reading a photographer's ZIP safely."""

from __future__ import annotations

import io
import zipfile

import pytest

from sync.photo_batch import BatchError, Member, Person, match_files, read_zip

PEOPLE = [
    Person("R1", "Иванов", "Пётр", "Сергеевич", ("0001234",)),
    Person("R2", "Смирнова", "Анна", card_numbers=("0005678",)),
    Person("R3", "Кузнецов", "Илья"),
    Person("R4", "Кузнецов", "Илья"),          # same name, another child
    Person("R5", "Орлова", "Вера", enrolled=False),
]


@pytest.mark.parametrize(("name", "register_id", "by", "problem"), [
    ("R1.jpg", "R1", "register_id", ""),
    ("photos/r2.JPEG", "R2", "register_id", ""),           # folders and case do not matter
    ("0005678.png", "R2", "card", ""),
    ("Иванов Пётр.jpg", "R1", "name", ""),
    ("иванов_петр.jpg", "R1", "name", ""),                  # ё written as е, underscores
    ("ИВАНОВ  ПЁТР СЕРГЕЕВИЧ.webp", "R1", "name", ""),      # with the patronymic
    ("Ивaнов Пётр.jpg", "R1", "name", ""),                  # a Latin "a" inside
    ("Смирнова.Анна.jpg", "R2", "name", ""),
    ("Кузнецов Илья.jpg", None, "", "ambiguous"),
    ("Орлова Вера.jpg", "R5", "name", "left"),
    ("Петров Иван.jpg", None, "", "no_match"),
    ("R1.txt", None, "", "not_a_photo"),
    ("R1", None, "", "not_a_photo"),
])
def test_each_file_name_rule(name: str, register_id: str | None, by: str,
                             problem: str) -> None:
    (m,) = match_files([name], PEOPLE)
    assert (m.register_id, m.by, m.problem) == (register_id, by, problem)


def test_two_pupils_of_one_name_are_listed_for_the_person_to_choose() -> None:
    (m,) = match_files(["Кузнецов Илья.jpg"], PEOPLE)
    assert m.others == ("R3", "R4")


def test_two_files_for_one_pupil_are_both_held_back() -> None:
    got = match_files(["R1.jpg", "Иванов Пётр.png", "R2.jpg"], PEOPLE)
    assert [(m.name, m.problem, m.others) for m in got] == [
        ("R1.jpg", "several_files", ("Иванов Пётр.png",)),
        ("Иванов Пётр.png", "several_files", ("R1.jpg",)),
        ("R2.jpg", "", ())]


def test_system_litter_is_not_listed() -> None:
    got = match_files(["__MACOSX/._R1.jpg", ".DS_Store", "Thumbs.db", "x/.hidden.jpg",
                       "R3.jpg"], PEOPLE)
    assert [m.name for m in got] == ["R3.jpg"]


def _zip(files: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out.getvalue()


def test_a_zip_gives_its_photos_and_lists_other_files_unread() -> None:
    data = _zip({"class 7B/R1.jpg": b"\xff\xd8jpeg", "readme.txt": b"hello",
                 "__MACOSX/class 7B/._R1.jpg": b"junk", "class 7B/": b""})
    assert list(read_zip(data)) == [Member("class 7B/R1.jpg", b"\xff\xd8jpeg"),
                                    Member("readme.txt", b"")]


@pytest.mark.parametrize(("data", "says"), [
    (b"", "not a ZIP"),
    (b"PK\x03\x04 this is not really a zip", "not a ZIP"),
    (b"<html>photos</html>", "not a ZIP"),
])
def test_what_is_not_a_zip_is_said_so(data: bytes, says: str) -> None:
    with pytest.raises(BatchError, match=says):
        list(read_zip(data))


def test_a_truncated_zip_is_refused() -> None:
    data = _zip({f"R{n}.jpg": bytes(range(256)) * 400 for n in range(5)})
    with pytest.raises(BatchError):
        list(read_zip(data[: len(data) // 2]))


def test_a_zip_bomb_stops_at_the_byte_limit() -> None:
    bomb = _zip({"R1.jpg": b"\0" * (5 * 2**20)})     # 5 MB of zeros packs to ~5 KB
    assert len(bomb) < 20_000
    with pytest.raises(BatchError, match="larger than 1 MB"):
        list(read_zip(bomb, max_member_bytes=2**20))
    with pytest.raises(BatchError, match="more than 8 MB"):
        list(read_zip(_zip({f"R{n}.jpg": b"\0" * (3 * 2**20) for n in range(4)}),
                      max_total_bytes=8 * 2**20))


def test_too_many_files_are_refused_before_reading() -> None:
    with pytest.raises(BatchError, match="holds 6 files; at most 5"):
        list(read_zip(_zip({f"R{n}.jpg": b"x" for n in range(6)}), max_members=5))


def test_an_encrypted_member_is_refused_with_its_name() -> None:
    data = bytearray(_zip({"R1.jpg": b"x" * 100}, zipfile.ZIP_STORED))
    # Set the "encrypted" flag in the central directory entry (as a password tool would).
    at = data.rfind(b"PK\x01\x02")
    data[at + 8] |= 0x1
    with pytest.raises(BatchError, match="R1.jpg.*encrypted"):
        list(read_zip(bytes(data)))

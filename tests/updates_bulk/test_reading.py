"""Reading bulk files for ``hub submit``: JSON Lines, CSV and Excel mapped by a mapping file,
deterministic keys, hostile input reported per line, and the resume state. No hub here."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from hub.updates import bulk
from hub.updates.keys import SignerKey, SignerKeys, generate_signer_key, signer_jwk
from hub.updates.signatures import SignatureRejected, verify_submission

AGENCY = "000.00.01.H01"
MAPPING = """
kind: position-change
sourceSystem: hanoi-hrm
employee:
  employeeCode: "Mã cán bộ"
  personalId: {column: "Số CCCD", optional: true}
baseVersion: "Phiên bản"
change:
  rankCode: {column: "Ngạch", map: {"CV": "01.003", "CVC": "01.002"}, optional: true}
  salaryStep: {column: "Bậc", type: integer}
  effectiveFrom: {column: "Ngày hiệu lực", type: date, format: dd/mm/yyyy}
  reason: {value: "Nâng bậc lương"}
"""
HEADER = ["Mã cán bộ", "Số CCCD", "Phiên bản", "Ngạch", "Bậc", "Ngày hiệu lực", "Ghi chú"]


@pytest.fixture(scope="module")
def key() -> Any:
    return generate_signer_key("ES256")


@pytest.fixture(scope="module")
def signer(key: Any) -> bulk.Signer:
    return bulk.Signer(key.as_dict(private=True), AGENCY)


def _keys(key: Any) -> SignerKeys:
    stored, public, algorithm = signer_jwk(key.as_dict(private=False))
    now = datetime.now(UTC)
    return SignerKeys([SignerKey("agency", AGENCY, stored["kid"], public, algorithm,
                                 datetime(2000, 1, 1, tzinfo=UTC), now + timedelta(days=1), None,
                                 stored)])


def _mapping(tmp_path: Path, text: str = MAPPING) -> bulk.ColumnMapping:
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return bulk.load_mapping(path)


def _prepare(path: Path, fmt: str, mapping: bulk.ColumnMapping | None,
             signer: bulk.Signer | None, kind: str | None = None) -> list[bulk.Prepared]:
    file_id, _ = bulk.file_identity(path)
    return [bulk.prepare_item(r, file_id, mapping=mapping, signer=signer, kind=kind, now=1e9)
            for r in bulk.read_records(path, fmt, mapping) if r.data is not None or r.error]


def _payload(token: str, key: Any) -> dict[str, Any]:
    return verify_submission(token, _keys(key), now=datetime.now(UTC),
                             expected_issuer=AGENCY).payload


PAYLOAD = {"kind": "position-change", "employee": {"employeeCode": "E1", "personalId": "001"},
           "baseVersion": 3, "change": {"salaryStep": 4, "effectiveFrom": "2026-01-01"}}


def test_jsonl_signs_payloads_and_passes_signed_items(tmp_path: Path, signer: bulk.Signer,
                                                      key: Any) -> None:
    signed = signer.sign({**PAYLOAD, "jti": "j1", "iat": 1_700_000_000, "iss": AGENCY})
    path = tmp_path / "changes.jsonl"
    path.write_text("\n".join([
        json.dumps(PAYLOAD),
        "",
        json.dumps({"kind": "position-change", "submission": signed,
                    "idempotencyKey": "mine-1"}),
        "{not json",
        "[1, 2]",
        json.dumps({**PAYLOAD, "bogus": 1}),
        '{"a": 1, "a": 2}',
    ]) + "\n", encoding="utf-8")
    prepared = _prepare(path, "jsonl", None, signer)
    assert [p.number for p in prepared] == [1, 3, 4, 5, 6, 7]
    first, second, *bad = prepared
    assert first.item is not None
    assert first.error is None
    payload = _payload(first.item["submission"], key)
    assert payload["iss"] == AGENCY
    assert payload["iat"] == 1_000_000_000
    assert payload["jti"].startswith("bulk-")
    assert first.item["idempotencyKey"] == first.key
    assert first.key.startswith("bulk-")
    assert second.item == {"kind": "position-change", "submission": signed,
                           "idempotencyKey": "mine-1"}
    assert [p.item for p in bad] == [None] * 4
    assert "not JSON" in (bad[0].error or "")
    assert "not a JSON object" in (bad[1].error or "")
    assert "bogus" in (bad[2].error or "")
    assert "twice" in (bad[3].error or "")


def test_keys_and_jti_are_deterministic(tmp_path: Path, signer: bulk.Signer, key: Any) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(PAYLOAD) + "\n" + json.dumps(PAYLOAD) + "\n", encoding="utf-8")
    one = _prepare(path, "jsonl", None, signer)
    two = _prepare(path, "jsonl", None, signer)
    assert [p.key for p in one] == [p.key for p in two]
    assert one[0].key != one[1].key  # the same content on another line is another record
    # The same change carries the same jti whatever file it comes from: the hub applies it
    # once (REPLAYED otherwise), even when the file was edited and the keys changed.
    other = tmp_path / "b.jsonl"
    other.write_text(json.dumps(PAYLOAD) + "\n", encoding="utf-8")
    (three,) = _prepare(other, "jsonl", None, signer)
    assert three.key != one[0].key
    assert three.item is not None
    assert one[0].item is not None
    assert (_payload(three.item["submission"], key)["jti"]
            == _payload(one[0].item["submission"], key)["jti"])


def test_jsonl_without_a_key_or_agency(tmp_path: Path, key: Any) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(PAYLOAD) + "\n", encoding="utf-8")
    (unsigned,) = _prepare(path, "jsonl", None, None)
    assert "--key" in (unsigned.error or "")
    (no_agency,) = _prepare(path, "jsonl", None, bulk.Signer(key.as_dict(private=True), None))
    assert "--agency" in (no_agency.error or "")
    with pytest.raises(ValueError, match="private"):
        bulk.Signer(key.as_dict(private=False), AGENCY)


def test_jsonl_hostile_lines(tmp_path: Path, signer: bulk.Signer) -> None:
    path = tmp_path / "hostile.jsonl"
    with path.open("wb") as handle:
        handle.write(json.dumps(PAYLOAD).encode() + b"\n")
        handle.write(b'{"kind": "\xff\xfe"}\n')                          # not UTF-8
        handle.write(b'{"x": "' + b"a" * (bulk.MAX_LINE_BYTES + 10) + b'"}\n')  # oversized
        handle.write(b'{"n": NaN}\n')
        handle.write(b"[" * 100_000 + b"\n")                               # deep nesting
        handle.write(json.dumps({**PAYLOAD, "change": "x"}).encode() + b"\n")
        handle.write(json.dumps(PAYLOAD).encode())                        # no final newline
    prepared = _prepare(path, "jsonl", None, signer)
    assert [p.number for p in prepared] == [1, 2, 3, 4, 5, 6, 7]
    assert [p.item is not None for p in prepared] == [True, False, False, False, False, False,
                                                      True]
    assert "UTF-8" in (prepared[1].error or "")
    assert "bytes" in (prepared[2].error or "")
    assert prepared[3].error
    assert prepared[4].error
    assert '"change"' in (prepared[5].error or "")


def _csv(path: Path, rows: list[list[str]], header: list[str] = HEADER,
         encoding: str = "utf-8") -> None:
    lines = [",".join(header), *(",".join(row) for row in rows)]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))


def test_csv_mapped_to_payloads(tmp_path: Path, signer: bulk.Signer, key: Any) -> None:
    mapping = _mapping(tmp_path)
    path = tmp_path / "export.csv"
    _csv(path, [
        ["E1", "001", "3", "CV", "4", "01/02/2026", "ok"],
        ["E2", "", "5", "", "2", "15/03/2026", ""],
        [",,,,,,"[:0], "", "", "", "", "", ""],                 # an empty row: skipped
        ["E3", "003", "x", "CV", "4", "01/02/2026", ""],        # version not an integer
        ["E4", "004", "1", "ZZ", "4", "01/02/2026", ""],        # agency code not in the map
        ["E5", "005", "1", "CV", "4", "2026-02-01", ""],        # wrong date format
        ["E6", "006", "1", "CV", "=1+2", "01/02/2026", ""],     # a formula
        ["", "007", "1", "CV", "4", "01/02/2026", ""],          # required cell empty
        ["@SUM(A1)", "008", "1", "CV", "4", "01/02/2026", ""],  # a formula in a code
    ])
    prepared = _prepare(path, "csv", mapping, signer)
    assert [p.number for p in prepared] == [2, 3, 5, 6, 7, 8, 9, 10]
    first, second, *bad = prepared
    assert first.item is not None
    assert second.item is not None
    payload = _payload(first.item["submission"], key)
    assert payload["kind"] == "position-change"
    assert payload["sourceSystem"] == "hanoi-hrm"
    assert payload["employee"] == {"employeeCode": "E1", "personalId": "001"}
    assert payload["baseVersion"] == 3
    assert payload["change"] == {"rankCode": "01.003", "salaryStep": 4,
                                 "effectiveFrom": "2026-02-01", "reason": "Nâng bậc lương"}
    assert _payload(second.item["submission"], key)["employee"] == {"employeeCode": "E2"}
    assert all(p.item is None for p in bad)
    messages = [p.error or "" for p in bad]
    assert "not an integer" in messages[0]
    assert "Phiên bản" in messages[0]
    assert "not in the mapping's map" in messages[1]
    assert "not a date" in messages[2]
    assert "formula" in messages[3]
    assert "empty" in messages[4]
    assert "formula" in messages[5]


def test_csv_whole_file_errors(tmp_path: Path) -> None:
    mapping = _mapping(tmp_path)
    missing = tmp_path / "missing.csv"
    _csv(missing, [["E1", "3"]], header=["Mã cán bộ", "Phiên bản"])
    with pytest.raises(bulk.InputError, match="Ngạch"):
        bulk.read_records(missing, "csv", mapping)
    latin = tmp_path / "latin.csv"
    _csv(latin, [["E1", "001", "3", "CV", "4", "01/02/2026", "ok"]])
    latin.write_bytes(latin.read_bytes().replace(b",ok", b",caf\xe9"))  # a Latin-1 byte
    with pytest.raises(bulk.InputError, match=r"not utf-8 \(byte \d+, line 2\)"):
        bulk.read_records(latin, "csv", mapping)
    # ... unless the mapping names the file's encoding.
    ascii_mapping = _mapping(tmp_path, "encoding: latin-1\nkind: award\n"
                                       "employee: {employeeCode: code}\n"
                                       "change: {note: note}\n")
    old = tmp_path / "old.csv"
    old.write_bytes(b"code,note\nE1,caf\xe9\n")
    (record,) = bulk.read_records(old, "csv", ascii_mapping)
    assert record.data == {"code": "E1", "note": "café"}
    with pytest.raises(bulk.InputError, match="--format"):
        bulk.format_of(tmp_path / "x.bin", None)
    with pytest.raises(bulk.InputError, match="xlsx"):
        bulk.format_of(tmp_path / "x.xls", None)
    big = tmp_path / "big.jsonl"
    big.write_bytes(b"x" * 2000)
    with pytest.raises(bulk.InputError, match="over the limit"):
        bulk.file_identity(big, max_bytes=1000)


@pytest.mark.parametrize(("text", "message"), [
    ("[1, 2]", "YAML mapping"),
    ("kind: position-change\nchange: {a: b}\n", "employee"),
    ("employee: {employeeCode: A}\n", "change"),
    ("employee: {employeeCode: A}\nchange: {a: {column: b, value: c}}\n", "exactly one"),
    ("employee: {employeeCode: A}\nchange: {a: {column: b, type: money}}\n", "type"),
    ("employee: {employeeCode: A}\nchange: {a: {column: b, type: date, format: dd/yy}}\n",
     "dd, mm"),
    ("employee: {employeeCode: A}\nchange: {a: b}\nbogus: 1\n", "unknown key"),
    ("employee: {employeeCode: A}\nchange: {a: {column: b, colour: red}}\n", "colour"),
    ("{{{", "not YAML"),
])
def test_bad_mappings(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _mapping(tmp_path, text)


def test_xlsx_mapped_to_payloads(tmp_path: Path, signer: bulk.Signer, key: Any) -> None:
    mapping = _mapping(tmp_path, MAPPING + "sheet: Nhân sự\n")
    workbook = Workbook()
    assert workbook.active is not None
    workbook.active.title = "Bìa"
    sheet = workbook.create_sheet("Nhân sự")
    sheet.append(HEADER)
    sheet.append(["E1", "001", 3, "CVC", 4, datetime(2026, 2, 1), None])   # typed cells
    sheet.append(["E2", "002", 7.0, "CV", "5", "01/02/2026", None])        # text date
    sheet.append(["E3", "003", 1, "CV", "=B2+1", "01/02/2026", None])      # a formula cell
    sheet.append([None] * 7)                                               # empty: skipped
    sheet.append(["E4", "004", 1, "CV", 2.5, "01/02/2026", None])          # not an integer
    path = tmp_path / "export.xlsx"
    workbook.save(path)
    prepared = _prepare(path, "xlsx", mapping, signer)
    assert [p.number for p in prepared] == [2, 3, 4, 6]
    first, second, formula, fraction = prepared
    assert first.item is not None
    assert second.item is not None
    one = _payload(first.item["submission"], key)
    assert one["baseVersion"] == 3
    assert one["change"]["rankCode"] == "01.002"
    assert one["change"]["effectiveFrom"] == "2026-02-01"
    assert _payload(second.item["submission"], key)["baseVersion"] == 7
    assert "formula" in (formula.error or "")
    assert "not an integer" in (fraction.error or "")
    with pytest.raises(bulk.InputError, match="no sheet"):
        bulk.read_records(path, "xlsx", _mapping(tmp_path, MAPPING + "sheet: Khác\n"))
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a zip", encoding="utf-8")
    with pytest.raises(bulk.InputError, match="not an Excel workbook"):
        bulk.read_records(fake, "xlsx", mapping)


def test_kind_from_a_column_and_from_the_command_line(tmp_path: Path, signer: bulk.Signer,
                                                      key: Any) -> None:
    mapping = _mapping(tmp_path, MAPPING.replace(
        "kind: position-change", 'kind: {column: "Ghi chú", map: {"NB": position-change}}'))
    path = tmp_path / "export.csv"
    _csv(path, [["E1", "001", "3", "CV", "4", "01/02/2026", "NB"],
                ["E1", "001", "3", "CV", "4", "01/02/2026", "??"]])
    good, bad = _prepare(path, "csv", mapping, signer)
    assert good.item is not None
    assert good.item["kind"] == "position-change"
    assert "Ghi chú" in (bad.error or "")
    award, _ = _prepare(path, "csv", mapping, signer, kind="award")
    assert award.item is not None
    assert award.item["kind"] == "award"
    assert _payload(award.item["submission"], key)["kind"] == "award"


def test_resume_state(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state, note = bulk.ResumeState.open(path, "f1")
    assert (state.done, note) == (0, "")
    state.save(40)
    again, note = bulk.ResumeState.open(path, "f1")
    assert again.done == 40
    assert "resuming after" in note
    other, note = bulk.ResumeState.open(path, "f2")
    assert other.done == 0
    assert "another file" in note
    path.write_text("{garbage", encoding="utf-8")
    broken, note = bulk.ResumeState.open(path, "f1")
    assert broken.done == 0
    assert "unreadable" in note
    assert not (tmp_path / "state.json.tmp").exists()


def test_signature_over_a_mapped_row_verifies_only_with_its_key(tmp_path: Path,
                                                                signer: bulk.Signer) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(PAYLOAD) + "\n", encoding="utf-8")
    (prepared,) = _prepare(path, "jsonl", None, signer)
    assert prepared.item is not None
    with pytest.raises(SignatureRejected):
        verify_submission(prepared.item["submission"], _keys(generate_signer_key()),
                          now=datetime.now(UTC))

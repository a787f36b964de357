"""`flask slips print|batch|verify|void|new-key|revoke-key|keys`: files written, verdicts and exit codes, and
refusals that leave no file and no row behind."""
from dataclasses import replace

import pytest

from registry.extensions import db
from registry.registration.numbering import RegistrationNumber
from registry.slips.payload import parse_payload
from tests.slips.conftest import DAY
from tests.slips.helpers import counts, pdf_pages, pdf_text, scan_pdf
from tests.support.factories import create_registration

UNKNOWN = str(RegistrationNumber("BBR", 2026, 999999))


def invoke(runner, *args):
    return runner.invoke(args=["slips", *args])


def print_to(runner, tmp_path, number, layout="a4", name="slip.pdf"):
    path = tmp_path / name
    result = invoke(runner, "print", number, "--layout", layout, "-o", str(path))
    assert result.exit_code == 0, result.output
    return path.read_bytes(), result.output


def test_print_writes_the_slip_and_reprints_say_copy(runner, registration, tmp_path):
    pdf, output = print_to(runner, tmp_path, registration.registration_number)
    assert output.startswith(f"printed {registration.registration_number} (original, short code ")
    assert "NEMAṰHAṄWE, Ṱhivhulawi" in pdf_text(pdf)
    [[payload]] = scan_pdf(pdf)
    receipt, output = print_to(runner, tmp_path, registration.registration_number, "receipt", "copy.pdf")
    assert "(COPY 1," in output and "COPY 1 / KOPI 1" in pdf_text(receipt)

    verified = invoke(runner, "verify", payload)
    assert verified.exit_code == 0
    assert verified.output.count("\n") == 1
    assert verified.output.startswith(f"genuine: {registration.registration_number} issued ")
    code = parse_payload(payload).short_code
    typed = invoke(runner, "verify", registration.registration_number, "--code", code.lower())
    assert typed.exit_code == 0 and typed.output.startswith("genuine:")


def test_verify_exits_non_zero_with_the_reason(runner, registration, tmp_path):
    pdf, _ = print_to(runner, tmp_path, registration.registration_number)
    [[payload]] = scan_pdf(pdf)
    parsed = parse_payload(payload)
    cases = (
        (replace(parsed, copy_number=7).text(), 1, "altered: "),
        (payload[:-12], 2, "invalid: The slip code is incomplete"),
        ("not a slip", 2, "invalid: That is not a registration slip code"),
    )
    for text, status, start in cases:
        result = invoke(runner, "verify", text)
        assert (result.exit_code, result.output.startswith(start)) == (status, True), result.output
    unknown = invoke(runner, "verify", UNKNOWN, "--code", "ABCD-EFGH")
    assert unknown.exit_code == 3 and unknown.output.startswith("unknown: no slip with this registration number")

    voided = invoke(runner, "void", registration.registration_number, parsed.short_code, "--reason", "lost")
    assert voided.exit_code == 0, voided.output
    revoked = invoke(runner, "verify", payload)
    assert revoked.exit_code == 4 and revoked.output.startswith("revoked: ") and "(lost)" in revoked.output


def test_batch_prints_a_day_or_a_list(runner, registration, officer, tmp_path):
    other = create_registration(actor=officer, surname="Muñoz", given_names="João", today=DAY)
    db.session.commit()
    path = tmp_path / "day.pdf"
    result = invoke(runner, "batch", "--office", "BBR", "--date", DAY.isoformat(), "--layout", "receipt",
                    "-o", str(path))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"printed 2 slip(s) (0 of them copies) to {path}"
    pdf = path.read_bytes()
    assert len(pdf_pages(pdf)) == 2 and len([codes for codes in scan_pdf(pdf) if codes]) == 2
    assert "MUÑOZ, João" in pdf_text(pdf, 1) or "MUÑOZ, João" in pdf_text(pdf, 0)

    listed = tmp_path / "list.pdf"
    result = invoke(runner, "batch", "-o", str(listed), other.registration_number)
    assert result.exit_code == 0 and "(1 of them copies)" in result.output
    assert len(pdf_pages(listed.read_bytes())) == 1


@pytest.mark.parametrize(("args", "message"), [
    (["print", UNKNOWN], f"No registration {UNKNOWN}"),
    (["print", "BBR-2026-1"], "is not a registration number"),
    (["print", "{number}", "--layout", "letter"], "'letter' is not one of 'a4', 'receipt'"),
    (["batch", "--office", "BBR", "--date", "2025-01-01"], "No registrations were made at BBR on 2025-01-01"),
    (["batch", "--office", "BBR", "--date", "2025-02-30"], "'2025-02-30' does not match the format"),
    (["batch", "--office", "BBR"], "give --office and --date, or registration numbers"),
    (["batch", "{number}", UNKNOWN], f"No registration {UNKNOWN}"),
])
def test_refusals_leave_no_file_and_change_nothing(runner, registration, tmp_path, args, message):
    before = counts()
    folder = tmp_path / "out"
    folder.mkdir()
    path = folder / "slips.pdf"
    result = invoke(runner, *[a.format(number=registration.registration_number) for a in args], "-o", str(path))
    assert result.exit_code != 0
    assert message in result.output, result.output
    assert list(folder.iterdir()) == []  # no PDF, not even a partial one
    db.session.rollback()
    assert counts() == before


def test_keys_rotate_and_revoke_from_the_command_line(runner, registration, tmp_path):
    assert "no signing keys yet" in invoke(runner, "keys").output
    pdf, _ = print_to(runner, tmp_path, registration.registration_number)
    [[old_payload]] = scan_pdf(pdf)
    old_key = parse_payload(old_payload).key_id
    listed = invoke(runner, "keys").output
    assert listed.startswith(f"BBR\t{old_key}\t") and "in use\tprivate key here" in listed

    refused = invoke(runner, "new-key", "--revoke-old")
    assert refused.exit_code == 1 and "Say why the old key is revoked" in refused.output
    rotated = invoke(runner, "new-key", "--revoke-old", "--reason", "office laptop stolen")
    assert rotated.exit_code == 0, rotated.output
    assert rotated.output.splitlines()[0] == f"retired {old_key} and revoked it"
    revoked = invoke(runner, "verify", old_payload)
    assert revoked.exit_code == 4 and "office laptop stolen" in revoked.output

    pdf, _ = print_to(runner, tmp_path, registration.registration_number, name="new.pdf")
    [[new_payload]] = scan_pdf(pdf)
    new_key = parse_payload(new_payload).key_id
    assert new_key != old_key and invoke(runner, "verify", new_payload).exit_code == 0
    assert invoke(runner, "revoke-key", new_key, "--reason", "test").exit_code == 0
    assert invoke(runner, "verify", new_payload).exit_code == 4
    again = invoke(runner, "revoke-key", new_key, "--reason", "test")
    assert again.exit_code == 1 and "already revoked" in again.output

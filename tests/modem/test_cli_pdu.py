import json

from agent.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_encode_prints_one_json_object_per_part(capsys):
    code, out, _ = run(capsys, "pdu", "encode", "--to", "+420774884138", "--report", "x" * 200)
    assert code == 0
    parts = [json.loads(line) for line in out.splitlines()]
    assert [p["part"] for p in parts] == [1, 2]
    assert all(p["tpdu_length"] == len(p["pdu"]) // 2 - 1 for p in parts)
    assert "".join(p["text"] for p in parts) == "x" * 200


def test_decode_prints_the_status_report_with_its_meaning(capsys):
    pdu = "0791447758100650064D0C91447700091032423051410300004230514103700000"
    code, out, _ = run(capsys, "pdu", "decode", pdu)
    assert code == 0
    report = json.loads(out)
    assert report["type"] == "status-report"
    assert report["reference"] == 77
    assert report["delivered"] is True


def test_encode_then_decode_through_the_cli(capsys):
    _, out, _ = run(capsys, "pdu", "encode", "--to", "+420774884138", "--ucs2", "Ahoj")
    pdu = json.loads(out)["pdu"]
    _, out, _ = run(capsys, "pdu", "decode", pdu)
    assert json.loads(out)["text"] == "Ahoj"


def test_bad_hex_is_a_clear_error_not_a_traceback(capsys):
    code, out, err = run(capsys, "pdu", "decode", "07914477")
    assert code == 2
    assert out == ""
    assert "cannot decode: PDU ends early" in err
    assert "Traceback" not in err


def test_bad_number_is_a_clear_error(capsys):
    code, _, err = run(capsys, "pdu", "encode", "--to", "+42077x", "hi")
    assert code == 2
    assert "must be digits" in err

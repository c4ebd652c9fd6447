"""The account form: from posted fields to the API's AccountIn, and every error placed
next to the field (or configuration line) that caused it."""

from __future__ import annotations

import re
from collections.abc import Mapping

import msgspec

from ..accounts.config import AccountConfigError
from ..api.errors import ApiError
from ..api.schemas import AccountIn, AccountOut, AccountPatch
from ..i18n.catalogue import N_
from ..i18n.codes import Said, said, said_error

FLAGS = ("strip_diacritics", "default", "poll_incoming")
# The API's error codes that belong to one field of the form.
FIELD_OF_ERROR = {"invalid_number": "phone", "unknown_owner": "owner", "name_taken": "name"}
INVALID = N_("This value is not valid.")
_PATH = re.compile(r"^(?P<why>.*?)(?: - at `\$\.(?P<field>\w+)`)?$")


class ConfigLine(msgspec.Struct):
    number: int
    text: str
    problems: list[str] = []


class FormErrors(msgspec.Struct):
    fields: dict[str, Said] = {}
    config_lines: list[ConfigLine] = []  # the whole text, numbered, when a line is wrong
    config_other: list[str] = []  # problems of no one line (a missing key)
    general: Said | None = None

    def __bool__(self) -> bool:
        return bool(self.fields or self.config_other or self.general or self.config_lines)


def form_values(form: Mapping[str, str]) -> dict[str, object]:
    """The posted form as the API's field values (unchecked)."""
    return {
        "name": form.get("name", "").strip(),
        "owner": form.get("owner", "").strip() or None,
        "phone": form.get("phone", "").strip(),
        "gateway": form.get("gateway", ""),
        # Browsers send CRLF from a textarea; the stored text uses \n.
        "config": form.get("config", "").replace("\r\n", "\n"),
        "sharing": form.get("sharing", "private"),
        **{flag: flag in form for flag in FLAGS},
    }


def parse_account(values: Mapping[str, object]) -> tuple[AccountIn | None, FormErrors]:
    try:
        return msgspec.convert(dict(values), AccountIn), FormErrors()
    except msgspec.ValidationError as exc:
        found = _PATH.match(str(exc))
        field = found and found.group("field")
        why = found.group("why") if found else str(exc)
        if field:
            return None, FormErrors(fields={field: _plain(field, why)})
        return None, FormErrors(general=Said(INVALID, detail=str(exc)))


def _plain(field: str, why: str) -> Said:
    if field == "name" and "length >= 1" in why:
        return said(N_("a name is needed"))
    if field == "gateway":
        return said(N_("choose a gateway"))
    return Said(INVALID, detail=why)


def as_patch(data: AccountIn) -> AccountPatch:
    """The edit form carries every field, so the patch sets every field."""
    return AccountPatch(**msgspec.structs.asdict(data))


def api_errors(exc: ApiError) -> FormErrors:
    field = FIELD_OF_ERROR.get(exc.error)
    if field:
        detail = exc.detail.removeprefix(f"{field}: ")
        return FormErrors(fields={field: said_error(exc.error, detail)})
    return FormErrors(general=said_error(exc.error, exc.detail))


def config_errors(text: str, exc: AccountConfigError) -> FormErrors:
    """Every line of the text, numbered, each with its own problems beside it."""
    by_line: dict[int, list[str]] = {}
    other: list[str] = []
    for problem in exc.problems:
        if problem.line is None:
            other.append(problem.message)
        else:
            by_line.setdefault(problem.line, []).append(problem.message)
    lines = [
        ConfigLine(number, raw, by_line.get(number, []))
        for number, raw in enumerate(text.splitlines(), start=1)
    ]
    return FormErrors(config_lines=lines if by_line else [], config_other=other)


def values_of(account: AccountOut) -> dict[str, object]:
    """An account's current values, as the form shows them."""
    values = msgspec.to_builtins(account)
    values["gateway"] = account.gateway.value
    values["sharing"] = account.sharing.value
    return values

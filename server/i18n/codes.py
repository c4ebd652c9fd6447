"""The pages' sentence for each API error code they show. The API's `error` codes stay
English and stable, and so do its `detail` texts (docs/i18n.md); a page shows this
sentence in its language, with the English detail beside it where it names the value."""

from __future__ import annotations

import msgspec

from .catalogue import N_

SENTENCES: dict[str, str] = {
    "invalid_request": N_("The request is not valid."),
    "unauthorized": N_("You are not logged in, or your token is not valid."),
    "forbidden": N_("You may not do this."),
    "not_found": N_("There is no such thing (or you may not see it)."),
    "unavailable": N_("The server cannot do this now; try again in a moment."),
    "name_taken": N_("That name is taken already: choose another."),
    "invalid_config": N_("The configuration is not valid for this gateway."),
    "invalid_number": N_("This is not a phone number that an SMS can be sent to."),
    "not_supported": N_("This gateway cannot do that."),
    "unknown_account": N_("There is no such account."),
    "unknown_owner": N_("There is no user of that name."),
    "weak_password": N_("The password must have at least 8 characters (and at most 200)."),
    "no_account": N_("There is no default account you may send with: choose one."),
    "message_too_long": N_("The text is too long for this gateway."),
    "idempotency_conflict": N_("This request key was used for a different message."),
    "invalid_webhook": N_("This webhook is not valid."),
    "invalid_url": N_("This URL cannot receive webhooks."),
    "invalid_secret": N_("This signing secret is not valid."),
    "opted_out": N_("This number asked not to be written to."),
}
REFUSED = N_("The server refused this.")


def sentence(code: str) -> str:
    return SENTENCES.get(code, REFUSED)


class Said(msgspec.Struct, frozen=True):
    """A text for a page, translated where it is shown: a msgid with its values, and for an
    API error the API's English detail (shown as it is in English, beside the sentence in
    another language)."""

    msgid: str
    params: dict[str, object] = {}
    detail: str = ""


def said(msgid: str, **params: object) -> Said:
    return Said(msgid, params)


def said_error(code: str, detail: str) -> Said:
    return Said(sentence(code), {}, detail)


# The states a page shows by their API names (messages and their parts), for extraction.
STATE_NAMES = (
    N_("queued"),
    N_("dispatched"),
    N_("sent"),
    N_("delivered"),
    N_("failed"),
    N_("received"),
    N_("scheduled"),
    N_("cancelled"),
    N_("pending"),
    N_("unknown"),
)

# Words agents report that a page shows as they come (a modem's registration and SIM, a
# line's detail): translated when known, else shown as reported (docs/i18n.md).
TERMS = frozenset(
    {
        N_("home"),
        N_("roaming"),
        N_("searching"),
        N_("denied"),
        N_("not-registered"),
        N_("emergency-only"),
        N_("unknown"),
        N_("READY"),
        N_("SIM PIN"),
        N_("SIM PUK"),
        N_("not inserted"),
        N_("ready"),
        N_("opening the modem"),
        # the rungs of a modem line's recovery (agent/modem/ladder.py)
        N_("reopen"),
        N_("reset"),
        N_("usb"),
        N_("needs-person"),
        # a webhook's status and its deliveries' states (server/webhooks/schemas.py)
        N_("ok"),
        N_("failing"),
        N_("disabled"),
        "pending",
        "delivered",
        "failed",
        N_("expired"),
        "scheduled",
        "cancelled",
        # a message's priority (the send form, the scheduled page)
        N_("high"),
        N_("normal"),
        N_("bulk"),
    }
)

"""Modem families and their quirks, recognised from AT+CGMI / AT+CGMM (docs/modem.md
names the sources: ModemManager's plugins, the vendors' AT manuals).

A profile changes only what differs from 27.007/27.005: the functional reset that
re-enumerates the USB device, the call hang-up, how USSD goes in and comes back, and
extra commands after the standard initialisation (failures of those are ignored).
"""

from __future__ import annotations

import msgspec


class Profile(msgspec.Struct, frozen=True, kw_only=True):
    family: str  # huawei, simcom, quectel, telit, ublox, generic
    name: str  # for people: "Huawei E173/E3372"
    manufacturers: tuple[str, ...] = ()  # lower-case parts of AT+CGMI
    models: tuple[str, ...] = ()  # lower-case parts of AT+CGMM; empty: any model
    reset_command: str = "AT+CFUN=1,1"
    hangup_command: str = "ATH"
    init: tuple[str, ...] = ()
    ussd_packed: bool = False  # the code goes as packed GSM 7-bit hex
    ussd_form: str = "auto"  # how answers come back: auto, text, ucs2, gsm7hex
    # URCs the family sends on its own that mean nothing to us (never "rebooted").
    chatter: tuple[str, ...] = ()


GENERIC = Profile(family="generic", name="generic 27.007 modem")

PROFILES: tuple[Profile, ...] = (
    Profile(
        family="huawei",
        name="Huawei E173/E3372",
        manufacturers=("huawei",),
        # ModemManager's huawei plugin resets with AT^RESET (AT+CFUN=16 on the MU736).
        reset_command="AT^RESET",
        hangup_command="AT+CHUP",
        init=("AT^CURC=0",),  # stop the periodic ^RSSI/^MODE/^BOOT/^DSFLOWRPT reports
        ussd_packed=True,
        ussd_form="gsm7hex",
        chatter=("^RSSI", "^MODE", "^BOOT", "^DSFLOWRPT", "^SRVST", "^SIMST", "^HCSQ"),
    ),
    Profile(
        family="simcom",
        name="SIMCom SIM7600",
        manufacturers=("simcom",),
        models=("sim7600", "sim7500", "sim7100", "sim7000"),
        reset_command="AT+CRESET",  # SIM7500/SIM7600 AT manual
        hangup_command="AT+CHUP",
    ),
    Profile(
        family="simcom",
        name="SIMCom SIM800/SIM900",
        manufacturers=("simcom",),
        reset_command="AT+CFUN=1,1",
        hangup_command="ATH",
        ussd_form="text",
    ),
    Profile(
        family="quectel",
        name="Quectel EC25/EG25",
        manufacturers=("quectel",),
        reset_command="AT+CFUN=1,1",
        hangup_command="AT+CHUP",
        # +QIND: SMS DONE after boot says the SMS stack is up. URCs go to the port that
        # AT+QURCCFG="urcport" names (usbmodem by default): not changed here, the
        # driver's storage sweep finds what a URC on another port announced.
        ussd_form="text",
        chatter=("+QIND", "+QUSIM"),
    ),
    Profile(
        family="telit",
        name="Telit LE910/HE910",
        manufacturers=("telit",),
        reset_command="AT#REBOOT",
    ),
    Profile(
        family="ublox",
        name="u-blox SARA/LISA/TOBY",
        manufacturers=("u-blox", "ublox"),
        reset_command="AT+CFUN=16",  # reset without resetting the SIM (u-blox AT manual)
    ),
)


def profile_for(manufacturer: str | None, model: str | None = None) -> Profile:
    """The first profile whose manufacturer (and model, when it names some) matches."""
    maker = (manufacturer or "").lower()
    kind = (model or "").lower()
    for profile in PROFILES:
        if not any(m in maker for m in profile.manufacturers):
            continue
        if profile.models and not any(m in kind for m in profile.models):
            continue
        return profile
    return GENERIC

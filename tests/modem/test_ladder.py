"""The recovery ladder's rungs and limits (pure), and finding a tty's USB device in a
fake sysfs tree (the real `authorized` files need root and a USB modem: not tested here)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from agent.modem.ladder import Ladder, Rung
from agent.modem.usb import USBRebindError, authorize, deauthorize, usb_device_of

WALL = datetime(2026, 12, 4, 19, 0, tzinfo=UTC)


def test_each_rung_gets_reset_after_seconds_then_the_next_is_due() -> None:
    ladder = Ladder("usb", reset_after=10)
    ladder.down(0.0, "no answer to AT+CSQ")
    assert ladder.rung is Rung.REOPEN and ladder.due(9.9, WALL) is None
    assert ladder.due(10.0, WALL) is Rung.RESET
    ladder.performed(Rung.RESET, WALL, "AT+CFUN=1,1 (OK)", reset=True)
    assert ladder.due(15.0, WALL) is None
    assert ladder.due(20.0, WALL) is Rung.USB
    ladder.performed(Rung.USB, WALL, "USB re-bind", reset=True)
    assert ladder.due(30.0, WALL) is Rung.PERSON
    assert ladder.due(1000.0, WALL) is None  # the top: nothing more
    sentence = ladder.state.sentence()
    assert sentence.startswith("needs a person: no answer to AT+CSQ; tried: re-opening")
    assert "AT+CFUN=1,1 (OK)" in sentence and ladder.state.resets_today == 2
    ladder.up()
    assert ladder.rung is Rung.OK and ladder.state.last_reset == WALL


@pytest.mark.parametrize(
    ("mode", "rungs"),
    [("off", [Rung.PERSON]), ("cfun", [Rung.RESET, Rung.PERSON])],
)
def test_reset_mode_bounds_the_climb(mode: str, rungs: list[Rung]) -> None:
    ladder = Ladder(mode, reset_after=1)
    ladder.down(0.0, "gone")
    assert [ladder.due(float(t), WALL) for t in range(1, len(rungs) + 1)] == rungs


def test_resets_are_capped_per_day_and_counted_afresh_the_next_day() -> None:
    ladder = Ladder("cfun", reset_after=1, max_per_day=1)
    ladder.down(0.0, "hung")
    assert ladder.due(1.0, WALL) is Rung.RESET
    ladder.performed(Rung.RESET, WALL, "AT+CFUN=1,1", reset=True)
    ladder.up()
    ladder.down(2.0, "hung again")
    assert ladder.due(3.0, WALL) is Rung.PERSON
    assert "already 1 resets today" in ladder.state.sentence()
    ladder.up()
    ladder.down(4.0, "next day")
    assert ladder.due(5.0, WALL.replace(day=5)) is Rung.RESET


def test_a_bad_mode_or_time_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="reset = 'reboot'"):
        Ladder("reboot")
    with pytest.raises(ValueError, match="reset_after"):
        Ladder("cfun", reset_after=0)


def _fake_sysfs(root) -> tuple[str, object]:
    """/sys/class/tty/ttyUSB2/device -> the interface dir under the USB device 1-2."""
    usb = root / "devices/pci0000:00/0000:00:14.0/usb1/1-2"
    interface = usb / "1-2:1.2"
    (interface / "ttyUSB2").mkdir(parents=True)
    for d, files in ((usb, ("idVendor", "authorized")), (interface, ("authorized",))):
        for name in files:
            (d / name).write_text("1\n")
    (root / "class/tty/ttyUSB2").mkdir(parents=True)
    os.symlink(interface, root / "class/tty/ttyUSB2/device")
    return str(root), usb


def test_the_usb_device_is_found_from_a_udev_link_and_rebound(tmp_path) -> None:
    sysfs, usb = _fake_sysfs(tmp_path / "sys")
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "ttyUSB2").write_text("")
    os.symlink(dev / "ttyUSB2", dev / "gsmmodem0")
    found = usb_device_of(str(dev / "gsmmodem0"), sysfs)
    assert found == usb.resolve()  # the device (idVendor), not the interface
    deauthorize(found)
    assert (usb / "authorized").read_text() == "0"
    authorize(found)
    assert (usb / "authorized").read_text() == "1"


def test_a_pty_has_no_usb_device_and_an_unwritable_file_is_named(tmp_path) -> None:
    sysfs, usb = _fake_sysfs(tmp_path / "sys")
    assert usb_device_of("/dev/pts/7", sysfs) is None
    (usb / "authorized").unlink()
    (usb / "authorized").mkdir()  # unwritable even for root
    with pytest.raises(USBRebindError, match=r"cannot write .*1-2/authorized"):
        deauthorize(usb)


async def test_the_driver_climbs_to_the_usb_rung_in_a_fake_sysfs_then_asks_for_a_person(
    tmp_path, virtual, driver
) -> None:
    from tests.waiting import eventually

    vm = virtual()
    sysfs, usb = _fake_sysfs(tmp_path / "sys")
    # The pty plays ttyUSB2: its sysfs entry leads to the fake USB device.
    name = os.path.basename(os.path.realpath(vm.path))
    (tmp_path / "sys/class/tty" / name).mkdir(parents=True)
    os.symlink(usb / "1-2:1.2", tmp_path / "sys/class/tty" / name / "device")
    modem = driver(
        vm.path, reset="usb", reset_after=0.2, sysfs=sysfs, usb_settle=0.01, command_timeout=0.2
    )
    await modem.open()
    vm.hang("forever")
    await modem.status()  # times out: on the ladder
    await eventually(lambda: modem.needs_person.is_set(), 20, "the ladder's top")
    tried = "; ".join(modem.ladder.state.tried)
    assert "AT+CFUN=1,1" in tried and "USB re-bind of 1-2" in tried
    assert (usb / "authorized").read_text() == "1"  # 0 then 1: authorised again
    assert modem.ladder.state.resets_today == 2


async def test_no_rung_while_a_send_holds_the_port(virtual, driver) -> None:
    import asyncio

    vm = virtual()
    modem = driver(vm.path, reset_after=0.1, command_timeout=0.3)
    await modem.open()
    vm.hang("total")
    await modem.status()
    async with modem._send_lock:  # as a send waiting for its +CMGS does
        modem.ladder.skip(asyncio.get_running_loop().time() - 1)
        climbing = asyncio.create_task(modem.climb())
        done, _ = await asyncio.wait({climbing}, timeout=0.3)  # a reset would be out by now
        assert not done and b"AT+CFUN=1,1" not in b"".join(
            e.data for e in vm.log if e.direction == "rx"
        )
    assert await climbing is True
    assert any(b"AT+CFUN=1,1" in e.data for e in vm.log if e.direction == "rx")

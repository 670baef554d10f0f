"""Large history files generated on the fly (a year of an Apex log is ~50 000 records)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

START = datetime(2025, 1, 1)


def write_apex(path: Path, records: int) -> int:
    """An Apex datalog of ``records`` records, 10 min apart, four probes each; its size."""
    with open(path, "w") as fh:
        fh.write("<datalog><hostname>big</hostname><serial>B1</serial>")
        fh.write("<timezone>1.00</timezone>\n")
        for i in range(records):
            date = (START + timedelta(minutes=10 * i)).strftime("%m/%d/%Y %H:%M:%S")
            temp = 77.0 + (i % 12) / 10
            fh.write(
                f"<record><date>{date}</date>"
                f"<probe><name>Tmp</name><type>Temp</type><value>{temp:.1f}</value></probe>"
                f"<probe><name>pH</name><type>pH</type><value>{8.0 + (i % 5) / 100:.2f}</value>"
                "</probe><probe><name>ORP</name><type>ORP</type><value>350</value></probe>"
                "<probe><name>Ret_A</name><type>Amps</type><value>1.2</value></probe>"
                "</record>\n"
            )
        fh.write("</datalog>\n")
    return path.stat().st_size


def write_ha(path: Path, rows: int) -> int:
    """A Home Assistant history CSV of ``rows`` states of two entities; its size."""
    with open(path, "w") as fh:
        fh.write("entity_id,state,last_changed\n")
        for i in range(rows):
            ts = (START + timedelta(minutes=5 * i)).isoformat() + "Z"
            if i % 2:
                fh.write(f"sensor.tank_ph,{7.5 + (i % 7) / 100:.2f},{ts}\n")
            else:
                fh.write(f"sensor.tank_temperature,{25.0 + (i % 9) / 10:.1f},{ts}\n")
    return path.stat().st_size

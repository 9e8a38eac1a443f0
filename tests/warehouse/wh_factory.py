"""Hand-made contract frames for warehouse tests.

``World`` collects department rows per snapshot (each with its person and
household) and produces ``WarehouseInputs`` whose frames have every column of
the contracts, typed as the contracts say.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from warehouse.ddl import source_columns
from warehouse.load import WarehouseInputs

POLARS_TYPE = {"VARCHAR": pl.String, "DATE": pl.Date, "INTEGER": pl.Int32, "DOUBLE": pl.Float64,
               "BOOLEAN": pl.Boolean, "VARCHAR[]": pl.List(pl.String)}

COUNTY = "522601"
VILLAGE = "522601101001"


def frame(department: str, rows: list[dict]) -> pl.DataFrame:
    schema = {c: POLARS_TYPE[t] for c, t in source_columns(department).items()}
    data = [{c: r.get(c) for c in schema} for r in rows]
    return pl.DataFrame(data, schema=schema, orient="row") if data else pl.DataFrame(schema=schema)


@dataclass
class World:
    rows: dict[str, list[dict]] = field(default_factory=dict)
    links: list[dict] = field(default_factory=list)
    persons: dict[str, dict] = field(default_factory=dict)
    households: dict[str, dict] = field(default_factory=dict)

    def household(self, household_id: str, village: str = VILLAGE) -> None:
        self.households.setdefault(household_id, {"household_id": household_id, "head_person_id": None,
                                                   "village_code": village, "members": []})

    def person(self, person_id: str, household_id: str, name: str = "王小芳", id_number: str | None = None,
               phone: str | None = None, birth_date: date | None = None, village: str = VILLAGE) -> None:
        self.household(household_id, village)
        hh = self.households[household_id]
        if person_id not in self.persons:
            self.persons[person_id] = {"person_id": person_id, "name": name, "id_number": id_number,
                                       "birth_date": birth_date, "gender": None, "phone": phone,
                                       "village_code": village, "n_records": 1}
            hh["members"].append(person_id)
            hh["head_person_id"] = hh["head_person_id"] or person_id

    def add(self, department: str, snapshot: date, record_id: str, person_id: str, household_id: str,
            county: str = COUNTY, file_id: str | None = None, **values: Any) -> None:
        self.person(person_id, household_id, village=county + "101001")
        file_id = file_id or f"{department[:3]}{county}{snapshot:%Y%m%d}"
        rows = self.rows.setdefault(department, [])
        row = {"department": department, "file_id": file_id, "file_name": f"{county}_{snapshot:%Y%m%d}.csv",
               "row_number": len(rows) + 2, "snapshot_date": snapshot, "county": county, "flags": [],
               "record_id": record_id, "village_code": county + "101001"}
        name_field = {"housing": "owner_name", "water": "head_name"}.get(department, "name")
        row[name_field] = self.persons[person_id]["name"]
        row.update(values)
        rows.append(row)
        self.links.append({"department": department, "record_id": record_id, "snapshot_date": snapshot,
                           "person_id": person_id, "household_id": household_id, "match_weight": None,
                           "method": "id_exact"})

    def inputs(self, **overrides: Any) -> WarehouseInputs:
        members = [{"household_id": h, "person_id": p, "relation": None}
                   for h, hh in self.households.items() for p in hh["members"]]
        households = [{"household_id": h, "head_person_id": hh["head_person_id"], "village_code": hh["village_code"],
                       "n_members": len(hh["members"])} for h, hh in self.households.items()]
        person_schema = {"person_id": pl.String, "name": pl.String, "id_number": pl.String, "birth_date": pl.Date,
                         "gender": pl.String, "phone": pl.String, "village_code": pl.String, "n_records": pl.Int32}
        values = dict(
            accepted={d: frame(d, rows) for d, rows in self.rows.items()},
            links=pl.DataFrame(self.links, schema={"department": pl.String, "record_id": pl.String,
                                                   "snapshot_date": pl.Date, "person_id": pl.String,
                                                   "household_id": pl.String, "match_weight": pl.Float64,
                                                   "method": pl.String}),
            person=pl.DataFrame(list(self.persons.values()), schema=person_schema),
            household=pl.DataFrame(households, schema={"household_id": pl.String, "head_person_id": pl.String,
                                                       "village_code": pl.String, "n_members": pl.Int32}),
            household_member=pl.DataFrame(members, schema={"household_id": pl.String, "person_id": pl.String,
                                                           "relation": pl.String}),
        )
        values.update(overrides)
        return WarehouseInputs(**values)

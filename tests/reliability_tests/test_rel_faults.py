"""Every injected fault kind, each in a fresh rig: a user-visible outcome, nothing unhandled.

Cases that fail on a known defect of the code under test are listed in ``KNOWN_DEFECTS`` with
the fix they wait for; they are strict xfails, so the fix makes them fail until the entry goes.
"""

from __future__ import annotations

import json

import pytest

from tests.reliability.faults import FaultCase, run_case
from tests.reliability.figures import FAULT_CASES

KNOWN_DEFECTS: dict[str, str] = {}


def _param(case: FaultCase) -> object:
    reason = KNOWN_DEFECTS.get(case.name)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(case, id=case.name, marks=marks)


def test_the_catalogue_is_covered() -> None:
    ids = {case_id.strip() for case in FAULT_CASES for case_id in case.ids.split(",")}
    assert {"D1", "D2", "D4", "D5", "D6", "D7"} <= ids
    assert {"O1", "O2", "O3", "O4", "O5", "O6", "O7", "O8", "O9"} <= ids
    assert {"S2", "S4"} <= ids
    assert len({case.name for case in FAULT_CASES}) == len(FAULT_CASES)


@pytest.mark.parametrize("case", [_param(case) for case in FAULT_CASES])
async def test_fault_is_survived_with_a_visible_outcome(case: FaultCase) -> None:
    result = await run_case(case)

    assert result.survived, json.dumps(result.as_dict(), indent=1)

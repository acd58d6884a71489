"""The approval flow's texts, word for word: what the model and the ledger read for each decision.

Written against the mutants mutmut made of tools/approval.py (docs/mutation.md).
"""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from tools import ToolContext
from tools.approval import (
    APPROVER_SERVICE,
    ApprovalDecision,
    Approver,
    awaiting_message,
    refusal_message,
    unknown_outcome_message,
)
from tools.calls import ToolCall


@pytest.mark.parametrize(
    ("decision", "why"),
    [
        ("timeout", "nobody approved it in time"),
        ("unavailable", "approval could not be asked for here"),
        ("deny", "the user denied it"),
    ],
)
def test_each_refusal_says_why_and_what_to_do(decision: ApprovalDecision, why: str) -> None:
    assert refusal_message("delete_note", decision) == (
        f"The tool 'delete_note' was not run: {why}. Do not call it again for this request; "
        "tell the user it was not done."
    )


def test_the_ledger_texts_while_waiting_and_once_started() -> None:
    assert awaiting_message("delete_note") == (
        "The call to 'delete_note' was waiting for the user's approval when it was interrupted; "
        "it was not run. Tell the user to ask again if they still want it."
    )
    assert unknown_outcome_message("delete_note") == (
        "This action ('delete_note' with these arguments) was approved and started; its outcome "
        "is unknown. Do not repeat it; tell the user to check whether it happened."
    )


def test_the_service_name_and_the_protocol() -> None:
    class Answers:
        async def decide(
            self,
            ctx: ToolContext,
            tool_name: str,
            params: BaseModel,
            call: ToolCall,
            permissions: tuple[str, ...],
        ) -> ApprovalDecision:
            return "deny"

    assert APPROVER_SERVICE == "approver"
    assert isinstance(Answers(), Approver)
    assert not isinstance(object(), Approver)

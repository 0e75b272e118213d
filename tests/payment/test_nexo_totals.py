"""Reading a terminal's GetTotals / Reconciliation answer and a TransactionStatus of a
Reversal: per brand, debits less credits in cents; a bad count is refused by name."""

from __future__ import annotations

import pytest

from drivers.payment import nexo


def _answer(category: str, totals: list, result: str = "Success") -> dict:
    return {"SaleToPOIResponse": {
        "MessageHeader": {"MessageCategory": category, "ServiceID": "abc"},
        f"{category}Response": {"Response": {"Result": result, "ErrorCondition": "Busy"},
                                "TransactionTotals": totals}}}


def test_debits_less_credits_per_brand() -> None:
    totals = [
        {"PaymentInstrumentType": "Card", "CardBrand": "visa", "PaymentTotals": [
            {"TransactionType": "Debit", "TransactionCount": 3, "TransactionAmount": 40.5},
            {"TransactionType": "Credit", "TransactionCount": 1, "TransactionAmount": 10.25}]},
        {"PaymentInstrumentType": "Card", "CardBrand": "mc", "PaymentTotals": [
            {"TransactionType": "Credit", "TransactionCount": 1, "TransactionAmount": 2.0}]},
    ]
    for category in ("GetTotals", "Reconciliation"):
        read = nexo.read_response(_answer(category, totals), category)
        assert read["result"] == "approved"
        assert read["brands"] == {"visa": {"count": 4, "amount": 3025},
                                  "mc": {"count": 1, "amount": -200}}


def test_a_refusal_and_a_bad_count() -> None:
    refused = nexo.read_response(_answer("GetTotals", [], "Failure"), "GetTotals")
    assert refused == {"result": "failed", "reason": "Busy", "brands": {}}
    bad = [{"CardBrand": "visa", "PaymentTotals": [
        {"TransactionType": "Debit", "TransactionCount": "3", "TransactionAmount": 1}]}]
    with pytest.raises(nexo.MessageError, match="TransactionCount"):
        nexo.read_response(_answer("GetTotals", bad), "GetTotals")
    with pytest.raises(nexo.MessageError, match="TransactionTotals"):
        nexo.read_response(_answer("GetTotals", {"visa": 1}), "GetTotals")  # type: ignore[arg-type]


def test_the_status_of_a_reversal_reads_as_the_refund() -> None:
    message = {"SaleToPOIResponse": {
        "MessageHeader": {"MessageCategory": "TransactionStatus", "ServiceID": "q1"},
        "TransactionStatusResponse": {
            "Response": {"Result": "Success"},
            "RepeatedMessageResponse": {
                "MessageHeader": {"MessageCategory": "Reversal", "ServiceID": "r1"},
                "RepeatedResponseMessageBody": {"ReversalResponse": {
                    "Response": {"Result": "Success"}, "ReversedAmount": 12.5,
                    "POIData": {"POITransactionID": {"TransactionID": "r1.PSP9"}}}}}}}}
    read = nexo.read_response(message, "TransactionStatus")
    assert read == {"result": "approved", "reason": "", "poi_transaction_id": "r1.PSP9",
                    "psp_reference": "PSP9", "amount": 1250, "service_id": "r1"}
    request = nexo.status_request("t1", "q1", "P400", "r1", "Reversal")
    reference = request["SaleToPOIRequest"]["TransactionStatusRequest"]["MessageReference"]
    assert reference == {"MessageCategory": "Reversal", "SaleID": "t1", "ServiceID": "r1"}

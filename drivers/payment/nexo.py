"""The nexo Sale-to-POI messages Kassa sends (Payment, TransactionStatus, Abort, Reversal,
GetTotals, Reconciliation) and how a
terminal's answer reads as a plain outcome dict for the till:

    {"result": "approved" | "declined" | "cancelled" | "aborted" | "in_progress" |
               "not_found" | "failed",
     "reason": str, "service_id": str, "transaction_ref": str, "amount": int (cents),
     "psp_reference": str, "poi_transaction_id": str, "brand": str, "masked_pan": str,
     "receipt": [str, ...]}     (cardholder lines; "merchant_receipt" the merchant's)
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from decimal import Decimal
from typing import Any

PROTOCOL_VERSION = "3.0"
CURRENCY = "EUR"
FINAL = frozenset({"approved", "declined", "cancelled", "aborted", "not_found", "failed"})


class MessageError(Exception):
    """A terminal answer that does not read as a nexo response (params: reason)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the terminal's answer is not a valid nexo response: {reason}")
        self.reason = reason


def header(category: str, sale_id: str, service_id: str, poiid: str) -> dict[str, str]:
    return {"ProtocolVersion": PROTOCOL_VERSION, "MessageClass": "Service",
            "MessageCategory": category, "MessageType": "Request", "SaleID": sale_id,
            "ServiceID": service_id, "POIID": poiid}


def euros(cents: int) -> float:
    """nexo carries amounts as JSON decimals; Kassa stays in cents and converts only here."""
    return float(Decimal(cents) / 100)


def cents(amount: Any) -> int:
    if isinstance(amount, bool) or not isinstance(amount, (int, float)):
        raise MessageError(f"amount {amount!r} is not a number")
    return int((Decimal(str(amount)) * 100).to_integral_value())


def payment_request(sale_id: str, service_id: str, poiid: str, transaction_ref: str,
                    amount_cents: int) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return {"SaleToPOIRequest": {
        "MessageHeader": header("Payment", sale_id, service_id, poiid),
        "PaymentRequest": {
            "SaleData": {"SaleTransactionID": {"TransactionID": transaction_ref,
                                               "TimeStamp": now}},
            "PaymentTransaction": {"AmountsReq": {"Currency": CURRENCY,
                                                  "RequestedAmount": euros(amount_cents)}}}}}


def status_request(sale_id: str, service_id: str, poiid: str, of_service_id: str,
                   category: str = "Payment") -> dict[str, Any]:
    """TransactionStatus of the Payment (or Reversal) request sent with of_service_id."""
    return {"SaleToPOIRequest": {
        "MessageHeader": header("TransactionStatus", sale_id, service_id, poiid),
        "TransactionStatusRequest": {
            "ReceiptReprintFlag": True,
            "DocumentQualifier": ["CashierReceipt", "CustomerReceipt"],
            "MessageReference": {"MessageCategory": category, "SaleID": sale_id,
                                 "ServiceID": of_service_id}}}}


def totals_request(sale_id: str, service_id: str, poiid: str) -> dict[str, Any]:
    """GetTotals: the terminal's own totals of its open period, per card brand (nothing is
    closed on the terminal)."""
    return {"SaleToPOIRequest": {
        "MessageHeader": header("GetTotals", sale_id, service_id, poiid),
        "GetTotalsRequest": {"TotalDetails": ["PaymentInstrumentType", "CardBrand"]}}}


def reconciliation_request(sale_id: str, service_id: str, poiid: str) -> dict[str, Any]:
    """Reconciliation (SaleReconciliation): closes the terminal's period after the Z."""
    return {"SaleToPOIRequest": {
        "MessageHeader": header("Reconciliation", sale_id, service_id, poiid),
        "ReconciliationRequest": {"ReconciliationType": "SaleReconciliation"}}}


def abort_request(sale_id: str, service_id: str, poiid: str, of_service_id: str) -> dict[str, Any]:
    return {"SaleToPOIRequest": {
        "MessageHeader": header("Abort", sale_id, service_id, poiid),
        "AbortRequest": {"AbortReason": "MerchantAbort",
                         "MessageReference": {"MessageCategory": "Payment", "SaleID": sale_id,
                                              "ServiceID": of_service_id, "POIID": poiid}}}}


def reversal_request(sale_id: str, service_id: str, poiid: str, poi_transaction_id: str,
                     amount_cents: int) -> dict[str, Any]:
    """A referenced refund: back to the original payment, by its POITransactionID."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return {"SaleToPOIRequest": {
        "MessageHeader": header("Reversal", sale_id, service_id, poiid),
        "ReversalRequest": {
            "OriginalPOITransaction": {"POITransactionID": {"TransactionID": poi_transaction_id,
                                                            "TimeStamp": now}},
            "ReversalReason": "MerchantCancel",
            "ReversedAmount": euros(amount_cents)}}}


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MessageError(f"{where} is missing or not an object")
    return value


def receipt_lines(receipts: Any, kind: str) -> list[str]:
    """The OutputText lines of one receipt (CustomerReceipt or CashierReceipt)."""
    for receipt in receipts if isinstance(receipts, list) else []:
        if isinstance(receipt, dict) and receipt.get("DocumentQualifier") == kind:
            content = _obj(receipt.get("OutputContent"), "OutputContent")
            lines = content.get("OutputText", [])
            shown = (receipt_text(str(line.get("Text", ""))) for line in lines
                     if isinstance(line, dict))
            return [text for text in shown if text is not None][:100]
    return []


def receipt_text(line: str) -> str | None:
    """Adyen writes receipt lines as form-encoded fields (`name=Card&value=****1111&key=pan`):
    the printed line is name and value; a line with only a key (a layout marker) is dropped.
    Plain text is printed as it is."""
    if line.find("=") < 0:
        return line
    fields = urllib.parse.parse_qs(line, keep_blank_values=True)
    if not set(fields) <= {"name", "value", "key"}:
        return line
    name, value = fields.get("name", [""])[0], fields.get("value", [""])[0]
    if not name and not value:
        return None
    return f"{name}: {value}" if name and value else name or value


REASONS = {"Refusal": "declined", "Cancel": "cancelled", "Aborted": "aborted",
           "NotFound": "not_found", "InProgress": "in_progress"}


def read_payment(response: Any) -> dict[str, Any]:
    """A PaymentResponse as an outcome dict."""
    body = _obj(response, "PaymentResponse")
    result = _obj(body.get("Response"), "PaymentResponse.Response")
    ok = result.get("Result") == "Success"
    condition = str(result.get("ErrorCondition", ""))
    poi = _obj(body.get("POIData", {}), "POIData")
    poi_tx = _obj(poi.get("POITransactionID", {}), "POITransactionID")
    sale = _obj(body.get("SaleData", {}), "SaleData")
    sale_tx = _obj(sale.get("SaleTransactionID", {}), "SaleTransactionID")
    pay = _obj(body.get("PaymentResult", {}), "PaymentResult")
    card = _obj(_obj(pay.get("PaymentInstrumentData", {}), "PaymentInstrumentData")
                .get("CardData", {}), "CardData")
    amounts = _obj(pay.get("AmountsResp", {}), "AmountsResp")
    additional = str(result.get("AdditionalResponse", ""))
    psp = poi_tx_id = str(poi_tx.get("TransactionID", ""))
    if "." in poi_tx_id:  # Adyen: "<tender reference>.<PSP reference>"
        psp = poi_tx_id.rsplit(".", 1)[1]
    return {
        "result": "approved" if ok else REASONS.get(condition, "failed"),
        "reason": condition if not ok else "", "detail": additional[:200],
        "transaction_ref": str(sale_tx.get("TransactionID", "")),
        "amount": cents(amounts["AuthorizedAmount"]) if ok and "AuthorizedAmount" in amounts else 0,
        "psp_reference": psp if ok else "", "poi_transaction_id": poi_tx_id,
        "brand": str(card.get("PaymentBrand", "")), "masked_pan": str(card.get("MaskedPan", "")),
        "receipt": receipt_lines(body.get("PaymentReceipt"), "CustomerReceipt"),
        "merchant_receipt": receipt_lines(body.get("PaymentReceipt"), "CashierReceipt"),
    }


def read_reversal(response: Any) -> dict[str, Any]:
    body = _obj(response, "ReversalResponse")
    result = _obj(body.get("Response"), "ReversalResponse.Response")
    ok = result.get("Result") == "Success"
    condition = str(result.get("ErrorCondition", ""))
    poi = _obj(body.get("POIData", {}), "POIData")
    poi_tx_id = str(_obj(poi.get("POITransactionID", {}), "POITransactionID")
                    .get("TransactionID", ""))
    return {"result": "approved" if ok else REASONS.get(condition, "failed"),
            "reason": condition if not ok else "", "poi_transaction_id": poi_tx_id,
            "psp_reference": poi_tx_id.rsplit(".", 1)[-1] if ok else "",
            "amount": cents(body["ReversedAmount"]) if ok and "ReversedAmount" in body else 0}


def read_totals(response: Any) -> dict[str, Any]:
    """A GetTotalsResponse or ReconciliationResponse as {"result", "reason", "brands":
    {brand: {"count", "amount"}}}: per brand, debits less credits (refunds), in cents."""
    body = _obj(response, "TotalsResponse")
    result = _obj(body.get("Response"), "TotalsResponse.Response")
    if result.get("Result") != "Success":
        return {"result": "failed", "reason": str(result.get("ErrorCondition", "")),
                "brands": {}}
    brands: dict[str, dict[str, int]] = {}
    totals = body.get("TransactionTotals", [])
    if not isinstance(totals, list):
        raise MessageError("TransactionTotals is not a list")
    for group in totals:
        group = _obj(group, "TransactionTotals[]")
        brand = str(group.get("CardBrand", ""))
        into = brands.setdefault(brand, {"count": 0, "amount": 0})
        for total in group.get("PaymentTotals", []) if isinstance(
                group.get("PaymentTotals"), list) else []:
            total = _obj(total, "PaymentTotals[]")
            sign = -1 if total.get("TransactionType") in ("Credit", "ReverseDebit") else 1
            count = total.get("TransactionCount", 0)
            if isinstance(count, bool) or not isinstance(count, int):
                raise MessageError(f"TransactionCount {count!r} is not a whole number")
            into["count"] += count
            into["amount"] += sign * cents(total.get("TransactionAmount", 0))
    return {"result": "approved", "reason": "", "brands": brands}


def read_response(message: Any, category: str) -> dict[str, Any]:
    """Reads a SaleToPOIResponse to a Payment, Reversal, GetTotals, Reconciliation or
    TransactionStatus request."""
    envelope = _obj(_obj(message, "answer").get("SaleToPOIResponse"), "SaleToPOIResponse")
    head = _obj(envelope.get("MessageHeader"), "MessageHeader")
    if head.get("MessageCategory") != category:
        raise MessageError(f"answer to {head.get('MessageCategory')!r}, expected {category!r}")
    service_id = str(head.get("ServiceID", ""))
    if category == "Payment":
        return {**read_payment(envelope.get("PaymentResponse")), "service_id": service_id}
    if category == "Reversal":
        return {**read_reversal(envelope.get("ReversalResponse")), "service_id": service_id}
    if category in ("GetTotals", "Reconciliation"):
        return read_totals(envelope.get(f"{category}Response"))
    status = _obj(envelope.get("TransactionStatusResponse"), "TransactionStatusResponse")
    result = _obj(status.get("Response"), "TransactionStatusResponse.Response")
    if result.get("Result") != "Success":
        condition = str(result.get("ErrorCondition", ""))
        return {"result": REASONS.get(condition, "failed"), "reason": condition,
                "service_id": ""}
    repeated = _obj(status.get("RepeatedMessageResponse"), "RepeatedMessageResponse")
    inner_head = _obj(repeated.get("MessageHeader"), "RepeatedMessageResponse.MessageHeader")
    inner = _obj(repeated.get("RepeatedResponseMessageBody"), "RepeatedResponseMessageBody")
    read = read_reversal(inner["ReversalResponse"]) if "ReversalResponse" in inner \
        else read_payment(inner.get("PaymentResponse"))
    return {**read, "service_id": str(inner_head.get("ServiceID", ""))}
